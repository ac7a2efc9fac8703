/*
 * cspawn.c: start a job process.
 *
 * The parent prepares every value (see cspawn.h); the child runs the steps
 * below in order, using only async-signal-safe calls, and execs. Upstart's
 * job_process_spawn does the same work in init/job_process.c; the order
 * here differs where noted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cspawn.h"

int cspawn_cloexec_pipe(int fds[2])
{
	return pipe2(fds, O_CLOEXEC);
}

/* Reports the failed step and errno to the parent and ends the child. */
static void __attribute__((noreturn)) fail(int report_fd, int step, int arg)
{
	struct cspawn_failure failure = { step, arg, errno };
	ssize_t n;

	do {
		n = write(report_fd, &failure, sizeof failure);
	} while (n < 0 && errno == EINTR);
	_exit(255);
}

/* Writes a NUL-terminated string to a file that already exists. */
static int write_file(const char *path, const char *text)
{
	size_t len = 0, done = 0;
	int fd, saved;

	while (text[len])
		len++;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		done += (size_t)n;
	}
	return close(fd);
}

/* Points descriptors 0, 1 and 2 at fd (leaving fd itself open if it is one of them). */
static int dup_standard(int fd, int first)
{
	for (int i = first; i < 3; i++)
		if (fd != i && dup2(fd, i) < 0)
			return -1;
	if (fd > 2)
		close(fd);
	return 0;
}

/* Opens the standard descriptors for the console mode. */
static int setup_console(const struct cspawn_request *r, int console_fd)
{
	int fd;

	switch (r->console) {
	case CSPAWN_CONSOLE_NONE:
		fd = open("/dev/null", O_RDWR | O_NOCTTY);
		return fd < 0 ? -1 : dup_standard(fd, 0);
	case CSPAWN_CONSOLE_OUTPUT:
	case CSPAWN_CONSOLE_OWNER:
		fd = open("/dev/console", O_RDWR | O_NOCTTY);
		/* Upstart falls back to /dev/null when `console output` cannot open the console. */
		if (fd < 0 && r->console == CSPAWN_CONSOLE_OUTPUT)
			fd = open("/dev/null", O_RDWR | O_NOCTTY);
		if (fd < 0)
			return -1;
		/* `console owner`: the console becomes the controlling terminal, taken from any other session. */
		if (r->console == CSPAWN_CONSOLE_OWNER && ioctl(fd, TIOCSCTTY, 1) < 0)
			return -1;
		return dup_standard(fd, 0);
	case CSPAWN_CONSOLE_FD:
		fd = open("/dev/null", O_RDONLY | O_NOCTTY);
		if (fd < 0)
			return -1;
		if (fd != 0) {
			if (dup2(fd, 0) < 0)
				return -1;
			close(fd);
		}
		if (dup2(console_fd, 1) < 0 || dup2(console_fd, 2) < 0)
			return -1;
		return close(console_fd);
	default: /* CSPAWN_CONSOLE_INHERIT */
		return 0;
	}
}

/* Sets the supplementary groups, group and user. The raw system calls change
 * only this (the only) thread: glibc's wrappers would try to signal the
 * parent's other threads, which the child does not have. */
static int set_groups(const struct cspawn_request *r)
{
	return (int)syscall(SYS_setgroups, (size_t)r->ngroups, r->groups);
}

static int set_gid(gid_t gid)
{
#ifdef SYS_setgid32
	return (int)syscall(SYS_setgid32, gid);
#else
	return (int)syscall(SYS_setgid, gid);
#endif
}

static int set_uid(uid_t uid)
{
#ifdef SYS_setuid32
	return (int)syscall(SYS_setuid32, uid);
#else
	return (int)syscall(SYS_setuid, uid);
#endif
}

/* ---- Namespaces (the `namespace` stanza) ------------------------------ */

/* Brings the loopback interface of a new network namespace up, as
 * `ip link set lo up` does: SIOCSIFFLAGS on any AF_INET socket. */
static int loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int saved;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto failed;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		goto failed;
	return close(fd);
failed:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Joins the network namespace at ns_net_path (`namespace net=NAME`).
 * Done first, while the child still has the daemon's privileges: setns
 * needs CAP_SYS_ADMIN over the namespace, which a user namespace of the
 * job's own would not give. */
static void join_network(const struct cspawn_request *r, int report)
{
	int fd = open(r->ns_net_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		fail(report, CSPAWN_STEP_SETNS, CLONE_NEWNET);
	close(fd);
}

/* A new user namespace whose root is the user the child runs as now (the
 * job's `setuid` user, which the caller has already switched to, or the
 * daemon's own user). The child writes its own maps, which the kernel
 * allows for exactly one line mapping the writer's own ids, and only once
 * "deny" is in setgroups (so setgroups(2) is refused inside). Changing
 * uid made the child non-dumpable, which makes its /proc files root's:
 * it is made dumpable for the writes only, and not again until exec. */
static void enter_user_namespace(const struct cspawn_request *r, int report)
{
	int changed_ids = r->has_uid || r->has_gid;

	if (changed_ids)
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (unshare(CLONE_NEWUSER) < 0)
		fail(report, CSPAWN_STEP_UNSHARE, CLONE_NEWUSER);
	if (write_file("/proc/self/setgroups", "deny") < 0)
		fail(report, CSPAWN_STEP_IDMAP, 0);
	if (write_file("/proc/self/uid_map", r->ns_uid_map) < 0)
		fail(report, CSPAWN_STEP_IDMAP, 1);
	if (write_file("/proc/self/gid_map", r->ns_gid_map) < 0)
		fail(report, CSPAWN_STEP_IDMAP, 2);
	if (changed_ids)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Every other new namespace, one unshare(2) per kind so that a refusal
 * names the kind, each made usable at once: the hostname set, lo up, the
 * mounts made private (nothing the job mounts leaks out, nothing mounted
 * outside later leaks in). The pid namespace is the children's: see
 * start_pid_namespace. */
static void enter_namespaces(const struct cspawn_request *r, int report)
{
	static const int order[] = {
		CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID,
	};

	int flags = r->ns_flags;

	/* The init mounts a /proc of its own: never over the host's. */
	if (flags & CLONE_NEWPID)
		flags |= CLONE_NEWNS;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		int kind = order[i];
		if (!(flags & kind))
			continue;
		if (unshare(kind) < 0)
			fail(report, CSPAWN_STEP_UNSHARE, kind);
		if (kind == CLONE_NEWUTS && r->ns_hostname) {
			size_t len = strlen(r->ns_hostname);
			if (sethostname(r->ns_hostname, len) < 0)
				fail(report, CSPAWN_STEP_HOSTNAME, 0);
		}
		if (kind == CLONE_NEWNET && loopback_up() < 0)
			fail(report, CSPAWN_STEP_LOOPBACK, 0);
		if (kind == CLONE_NEWNS && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			fail(report, CSPAWN_STEP_MOUNT, 0);
	}
}

/*
 * The pid namespace.
 *
 * unshare(CLONE_NEWPID) puts the child's children, not the child, in the
 * new namespace. So three processes run a job with `namespace pid`:
 *
 *   relay   the child the daemon forked, outside the namespace: the pid
 *           the daemon tracks, signals and reports. It blocks every
 *           signal and waits for the init; when the job ends it ends the
 *           same way: the same exit code, or killed by the same signal
 *           (re-raised; pid 1 of a namespace cannot die of its own signal,
 *           so the init cannot do this itself). With ns_mirror_stop it
 *           stops itself when the job first stops itself (`expect stop`).
 *   init    pid 1 in the namespace. Mounts a fresh /proc, forks the job,
 *           then waits for signals with all of them blocked: it reaps
 *           every process that ends in the namespace (orphans come to it),
 *           and when the job ends reports its status to the relay and
 *           exits, which makes the kernel kill whatever is left inside.
 *   job     pid 2 in the namespace: goes on with the child's remaining
 *           steps (credentials, ptrace, exec).
 *
 * All three stay in the process group the child made (setsid), so the
 * daemon's signals to the group reach the job directly, as without a
 * namespace, and SIGKILL to the group takes the init, and with it the
 * whole namespace. A signal reaching the init while the job has left that
 * group (setsid, setpgid) is forwarded to the job.
 *
 * The relay and the init are forks of the daemon without exec: they run
 * only the code below, on the daemon's copy-on-write pages.
 */
struct relay_message {
	int kind; /* RELAY_EXITED, RELAY_STOPPED */
	int status;
};
#define RELAY_EXITED  1
#define RELAY_STOPPED 2

static void send_relay(int fd, int kind, int status)
{
	struct relay_message m = { kind, status };
	ssize_t n;

	do {
		n = write(fd, &m, sizeof m);
	} while (n < 0 && errno == EINTR);
}

/* The kernel's signal mask, all signals (the raw call also covers the
 * C library's own, which sigprocmask would leave out). */
static void mask_all(int how)
{
	uint64_t all = ~(uint64_t)0;
	syscall(SYS_rt_sigprocmask, how, &all, NULL, sizeof all);
}

/* Closes every descriptor but `keep`: the relay and the init, which never
 * exec, would otherwise hold the job's log pty and pipes, and every
 * descriptor of the daemon (another job's script pipe among them). */
static void close_all_but(int keep)
{
	if (keep > 0 && syscall(SYS_close_range, 0U, (unsigned)keep - 1, 0U) < 0)
		for (int fd = 0; fd < keep; fd++)
			close(fd);
	if (syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) < 0)
		for (int fd = keep + 1; fd < 65536; fd++)
			close(fd);
}

static void __attribute__((noreturn)) run_init(pid_t job, int relay, int mirror_stop)
{
	uint64_t all = ~(uint64_t)0;
	siginfo_t info;

	for (;;) {
		int sig = (int)syscall(SYS_rt_sigtimedwait, &all, &info, NULL, sizeof all);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			/* 0: the job is still in the outer group, which got the signal. */
			if (getpgid(job) > 0)
				kill(job, sig);
			continue;
		}
		for (;;) {
			int status;
			pid_t p = waitpid(-1, &status, WNOHANG | (mirror_stop ? WUNTRACED : 0));
			if (p <= 0)
				break;
			if (p != job)
				continue; /* an orphan, reaped */
			if (WIFSTOPPED(status)) {
				if (WSTOPSIG(status) == SIGSTOP) {
					send_relay(relay, RELAY_STOPPED, 0);
					mirror_stop = 0;
				}
				continue;
			}
			send_relay(relay, RELAY_EXITED, status);
			_exit(0);
		}
	}
}

static void __attribute__((noreturn)) run_relay(pid_t init, int from_init)
{
	struct relay_message m;
	int have_status = 0, status = 0, st = 0;

	for (;;) {
		ssize_t n = read(from_init, &m, sizeof m);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof m)
			break;
		if (m.kind == RELAY_STOPPED)
			kill(getpid(), SIGSTOP);
		else if (m.kind == RELAY_EXITED) {
			have_status = 1;
			status = m.status;
		}
	}
	while (waitpid(init, &st, 0) < 0 && errno == EINTR)
		;
	if (!have_status)
		status = st;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		uint64_t one = (uint64_t)1 << (sig - 1);
		struct rlimit none = { 0, 0 };
		setrlimit(RLIMIT_CORE, &none); /* no core of the daemon's pages */
		kill(getpid(), sig);
		syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &one, NULL, sizeof one);
		/* Still here: a signal whose default is to ignore or stop. */
		_exit(128 + sig);
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 255);
}

static pid_t plain_fork(void)
{
	return (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0UL);
}

/* Starts the relay and the init (see above). Returns in the job process
 * only; a failure is reported from whichever process had it. */
static void start_pid_namespace(const struct cspawn_request *r, int report)
{
	int relay[2];
	pid_t init, job;

	if (pipe2(relay, O_CLOEXEC) < 0)
		fail(report, CSPAWN_STEP_PIDINIT, 0);
	mask_all(SIG_SETMASK);
	init = plain_fork();
	if (init < 0)
		fail(report, CSPAWN_STEP_PIDINIT, 0);
	if (init > 0) {
		close_all_but(relay[0]);
		run_relay(init, relay[0]);
	}

	/* The init: pid 1. A /proc of this namespace, over the one of the
	 * namespace the mounts came from (the mount namespace is private). */
	close(relay[0]);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		fail(report, CSPAWN_STEP_MOUNT, 1);
	job = plain_fork();
	if (job < 0)
		fail(report, CSPAWN_STEP_PIDINIT, 1);
	if (job > 0) {
		close_all_but(relay[1]);
		run_init(job, relay[1], r->ns_mirror_stop);
	}

	/* The job. */
	close(relay[1]);
	uint64_t none = 0;
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none) < 0)
		fail(report, CSPAWN_STEP_SIGNALS, 0);
}

/* Credentials (`setuid`, `setgid`): groups first, the user last, since
 * each step needs the privilege the next one drops. */
static void set_credentials(const struct cspawn_request *r, int report)
{
	if (r->set_groups && set_groups(r) < 0)
		fail(report, CSPAWN_STEP_SETGROUPS, 0);
	if (r->has_gid && set_gid(r->gid) < 0)
		fail(report, CSPAWN_STEP_SETGID, 0);
	if (r->has_uid && set_uid(r->uid) < 0)
		fail(report, CSPAWN_STEP_SETUID, 0);
}

/* Runs `path` as a shell script: /bin/sh path argv[1]... */
static void exec_with_shell(const char *path, const struct cspawn_request *r)
{
	int argc = 0;
	while (r->argv[argc])
		argc++;
	char *argv[argc + 2];
	argv[0] = (char *)"/bin/sh";
	argv[1] = (char *)path;
	for (int i = 1; i <= argc; i++)
		argv[i + 1] = r->argv[i]; /* argv[argc] is the terminating NULL */
	execve("/bin/sh", argv, r->envp);
}

/* The child: set up, then exec. Never returns. */
static void __attribute__((noreturn)) child(const struct cspawn_request *r, int report)
{
	int moved[r->nfds > 0 ? r->nfds : 1];
	int console_fd = r->console_fd;
	int base = 3;

	/* Signals: default dispositions and an empty mask, so the program does
	 * not start with the daemon's handlers, ignored signals or the signals
	 * it blocks for its signalfd. The raw system call also reaches the
	 * signals the C library keeps for itself (32, 33), which sigaction(2)
	 * refuses; an all-zero kernel sigaction is SIG_DFL with no flags on
	 * every architecture. (It fails, harmlessly, for SIGKILL and SIGSTOP.) */
	unsigned long dfl[8]; /* larger than any architecture's kernel sigaction */
	sigset_t none;
	memset(dfl, 0, sizeof dfl);
	for (int sig = 1; sig < NSIG; sig++)
		syscall(SYS_rt_sigaction, sig, dfl, NULL, (size_t)(NSIG - 1) / 8);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		fail(report, CSPAWN_STEP_SIGNALS, 0);

	/* A new session and process group: the job leaves the daemon's
	 * terminal and can be signalled as a group. */
	if (setsid() < 0)
		fail(report, CSPAWN_STEP_SETSID, 0);


	/* Descriptors: first move the report pipe and every source above all
	 * the numbers being filled in, so no dup2 overwrites one still needed. */
	for (int i = 0; i < r->nfds; i++)
		if (r->fds[i].to >= base)
			base = r->fds[i].to + 1;
	int given_report = report;
	if ((report = fcntl(report, F_DUPFD_CLOEXEC, base)) < 0)
		_exit(255); /* nowhere left to report to */
	close(given_report); /* a fresh pipe: no descriptor to move is this one */
	if (r->console == CSPAWN_CONSOLE_FD && (console_fd = fcntl(console_fd, F_DUPFD_CLOEXEC, base)) < 0)
		fail(report, CSPAWN_STEP_FDS, -1);
	for (int i = 0; i < r->nfds; i++)
		if ((moved[i] = fcntl(r->fds[i].from, F_DUPFD_CLOEXEC, base)) < 0)
			fail(report, CSPAWN_STEP_FDS, i);

	/* Standard input, output and error, per `console`. */
	if (setup_console(r, console_fd) < 0)
		fail(report, CSPAWN_STEP_CONSOLE, 0);

	/* Descriptors handed to the job at fixed numbers (dup2 clears close-on-exec). */
	for (int i = 0; i < r->nfds; i++) {
		if (dup2(moved[i], r->fds[i].to) < 0)
			fail(report, CSPAWN_STEP_FDS, i);
		close(moved[i]);
	}

	/* Resource limits (`limit`). */
	for (int i = 0; i < r->nlimits; i++) {
		struct rlimit rl = { (rlim_t)r->limits[i].soft, (rlim_t)r->limits[i].hard };
		if (setrlimit(r->limits[i].resource, &rl) < 0)
			fail(report, CSPAWN_STEP_RLIMIT, i);
	}

	/* Scheduling priority (`nice`). */
	if (r->has_nice && setpriority(PRIO_PROCESS, 0, r->nice) < 0)
		fail(report, CSPAWN_STEP_NICE, 0);

	/* OOM killer adjustment (`oom score`). */
	if (r->oom_score_adj && write_file("/proc/self/oom_score_adj", r->oom_score_adj) < 0)
		fail(report, CSPAWN_STEP_OOM, 0);

	/* Enter the job's cgroup: before chroot, while the cgroup file system
	 * is still in view, and before dropping privileges. */
	if (r->cgroup_procs && write_file(r->cgroup_procs, "0") < 0)
		fail(report, CSPAWN_STEP_CGROUP, 0);
	for (int i = 0; r->cgroup_procs_more && r->cgroup_procs_more[i]; i++)
		if (write_file(r->cgroup_procs_more[i], "0") < 0)
			fail(report, CSPAWN_STEP_CGROUP, i + 1);

	/* Namespaces: see enter_namespaces and the order in cspawn.h. With a
	 * user namespace the credentials come first, so that its root maps to
	 * the job's user; the other kinds are then created inside it. */
	int with_user = (r->ns_flags & CLONE_NEWUSER) != 0;
	if (r->ns_net_path)
		join_network(r, report);
	if (with_user) {
		set_credentials(r, report);
		enter_user_namespace(r, report);
	}
	enter_namespaces(r, report);

	/* Root directory (`chroot`); then the working directory, which is
	 * relative to the new root, and "/" if none is given so the job cannot
	 * keep a way out of its root. */
	if (r->chroot && chroot(r->chroot) < 0)
		fail(report, CSPAWN_STEP_CHROOT, 0);
	if ((r->chdir || r->chroot) && chdir(r->chdir ? r->chdir : "/") < 0)
		fail(report, CSPAWN_STEP_CHDIR, 0);

	/* File mode creation mask (`umask`); cannot fail. */
	if (r->has_umask)
		umask((mode_t)r->umask);

	/* The pid namespace's init (which mounts /proc while it still may). */
	if (r->ns_flags & CLONE_NEWPID)
		start_pid_namespace(r, report);

	if (!with_user)
		set_credentials(r, report);

	/* LISTEN_PID: this process's own pid as it sees it (inside a new pid
	 * namespace, after start_pid_namespace: the job's, not the relay's),
	 * known only now; written into the environment prepared by the parent, with no
	 * call but getpid. */
	if (r->listen_pid) {
		char digits[24];
		int n = 0;
		long pid = (long)syscall(SYS_getpid);
		do {
			digits[n++] = (char)('0' + pid % 10);
			pid /= 10;
		} while (pid > 0 && n < 20);
		for (int i = 0; i < n; i++)
			r->listen_pid[i] = digits[n - 1 - i];
		r->listen_pid[n] = '\0';
	}

	/* Let the daemon trace the job (`expect fork`, `expect daemon`): the
	 * child stops with SIGTRAP at the exec below. */
	if (r->trace_me && ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
		fail(report, CSPAWN_STEP_PTRACE, 0);

	/* Exec: try each candidate path as execvp(3) would walk PATH, going on
	 * past missing files and reporting EACCES if any candidate had it. */
	int failed_at = 0, error = ENOENT, denied = -1;
	for (int i = 0; r->paths[i]; i++) {
		execve(r->paths[i], r->argv, r->envp);
		failed_at = i;
		error = errno;
		if (error == ENOEXEC) {
			/* No interpreter line: run it with /bin/sh, as execvp does
			 * (Upstart used execvp). */
			exec_with_shell(r->paths[i], r);
			errno = error;
			break;
		}
		if (error == EACCES)
			denied = i;
		else if (error != ENOENT && error != ENOTDIR)
			break;
	}
	if (denied >= 0 && (error == ENOENT || error == ENOTDIR)) {
		failed_at = denied;
		error = EACCES;
	}
	errno = error;
	fail(report, CSPAWN_STEP_EXEC, failed_at);
}

/* Whether the child may run in the daemon's memory (CLONE_VM), the
 * daemon's thread waiting until the exec (CLONE_VFORK): no copy of the
 * daemon's page tables to make and throw away at the exec, which is most
 * of what a fork of the daemon costs (docs/PERFORMANCE.md, "initctl's
 * start-up"). Only for a child whose steps are plain system calls that
 * touch nothing of the daemon's but errno and LISTEN_PID's digits (in the
 * environment block prepared for it): not with a pid namespace (its first
 * process stays, as the relay, and never execs, so the daemon would wait
 * for ever), nor other namespaces, tracing, or credentials (glibc's
 * setuid/setgid/setgroups signal every thread of the process they think
 * they are in, the daemon's). The rest is the child's own: limits, nice,
 * the session, descriptors, umask and directories (no CLONE_FS), and
 * oom_score_adj, which the kernel gives every process sharing the writer's
 * memory except when the writer is a vfork child
 * (oomScoreAdjustmentLeavesTheSpawnerAlone). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CSPAWN_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CSPAWN_SANITIZED 1
#endif

static int shares_memory(const struct cspawn_request *r)
{
#ifdef CSPAWN_SANITIZED
	/* A sanitizer's shadow memory would be shared too: the child leaves
	 * its frames by exec, never by return, so their redzones stay poisoned
	 * in the daemon's shadow, and the next child on the same stack is
	 * reported (a dynamic-stack-buffer-overflow in child() under
	 * AddressSanitizer, SpawnTests). Sanitized builds fork; the plain
	 * build's tests cover the shared-memory path. */
	(void)r;
	return 0;
#else
	return r->ns_flags == 0 && r->ns_net_path == NULL && !r->trace_me && !r->has_uid && !r->has_gid &&
	       !r->set_groups;
#endif
}

/* The shared-memory child's own stack: the child's steps need a few
 * hundred bytes (exec_with_shell an argv); this leaves room to spare. */
#define SHARED_STACK (64 * 1024)

/* One stack kept for the next spawn (mapping and unmapping one each time
 * cost about a tenth of the daemon's work for a start); a second spawn at
 * the same time, from another thread, maps its own. */
static void *_Atomic spare_stack;

static void *take_stack(void)
{
	void *stack = atomic_exchange(&spare_stack, NULL);
	if (stack)
		return stack;
	stack = mmap(NULL, SHARED_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	return stack == MAP_FAILED ? NULL : stack;
}

static void give_back_stack(void *stack)
{
	void *none = NULL;
	if (!atomic_compare_exchange_strong(&spare_stack, &none, stack))
		munmap(stack, SHARED_STACK);
}

struct shared_child {
	const struct cspawn_request *r;
	int report;    /* the pipe's write end */
	int read_end;  /* the parent's end, closed in the child */
};

static int run_shared_child(void *arg)
{
	const struct shared_child *a = arg;
	close(a->read_end); /* the child's own descriptor table: no CLONE_FILES */
	child(a->r, a->report);
}

pid_t cspawn_spawn(const struct cspawn_request *r, struct cspawn_failure *failure)
{
	struct cspawn_failure report = { CSPAWN_STEP_NONE, 0, 0 };
	sigset_t all, saved_mask;
	size_t have = 0;
	int pipefd[2];
	pid_t pid;

	*failure = report;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		failure->step = CSPAWN_STEP_PIPE;
		failure->error = errno;
		return -1;
	}

	/* Block every signal across the fork so the child cannot run one of
	 * the parent's handlers before it has reset them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved_mask);

	/* The common job (no namespace, tracing or credentials) shares the
	 * daemon's memory until its exec, as posix_spawn does (see
	 * shares_memory); any other is a plain fork: clone(2) without the C
	 * library's fork handlers (namespaces are the child's own steps). The
	 * argument order (flags, stack, ...) is the one of every architecture
	 * Daybreak builds for except s390. */
	void *stack = shares_memory(r) ? take_stack() : NULL;
	if (stack) {
		struct shared_child args = { r, pipefd[1], pipefd[0] };
		/* The stack grows down on every architecture Daybreak builds for. */
		pid = clone(run_shared_child, (char *)stack + SHARED_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
	} else {
		pid = plain_fork();
		if (pid == 0) {
			close(pipefd[0]);
			child(r, pipefd[1]);
		}
	}
	int fork_error = errno;
	/* With CLONE_VFORK the child has exec'd or exited by now: its stack is free. */
	if (stack)
		give_back_stack(stack);
	pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		failure->step = CSPAWN_STEP_FORK;
		failure->error = fork_error;
		return -1;
	}

	/* End-of-file: the exec closed the child's end. Anything else is a report. */
	while (have < sizeof report) {
		ssize_t n = read(pipefd[0], (char *)&report + have, sizeof report - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(pipefd[0]);
	if (have == 0)
		return pid;
	if (have != sizeof report) {
		report.step = CSPAWN_STEP_PROTOCOL;
		report.arg = 0;
		report.error = EIO;
	}

	/* The child has exited (or is about to): reap it so nothing is left. */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	*failure = report;
	return -1;
}

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
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
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

	/* LISTEN_PID: this process's own pid (in its pid namespace), known only
	 * now; written into the environment prepared by the parent, with no
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

	/* Descriptors: first move the report pipe and every source above all
	 * the numbers being filled in, so no dup2 overwrites one still needed. */
	for (int i = 0; i < r->nfds; i++)
		if (r->fds[i].to >= base)
			base = r->fds[i].to + 1;
	if ((report = fcntl(report, F_DUPFD_CLOEXEC, base)) < 0)
		_exit(255); /* nowhere left to report to */
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

	/* Credentials (`setuid`, `setgid`): groups first, the user last, since
	 * each step needs the privilege the next one drops. */
	if (r->set_groups && set_groups(r) < 0)
		fail(report, CSPAWN_STEP_SETGROUPS, 0);
	if (r->has_gid && set_gid(r->gid) < 0)
		fail(report, CSPAWN_STEP_SETGID, 0);
	if (r->has_uid && set_uid(r->uid) < 0)
		fail(report, CSPAWN_STEP_SETUID, 0);

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

	/* clone(2) as a plain fork, plus any new namespaces: the process itself
	 * (not only its children, as with unshare) is then pid 1 of a new pid
	 * namespace. The argument order (flags, stack, ...) is the one of every
	 * architecture Daybreak builds for except s390. */
	pid = (pid_t)syscall(SYS_clone, (unsigned long)(SIGCHLD | r->clone_flags), NULL, NULL, NULL, 0UL);
	if (pid == 0) {
		close(pipefd[0]);
		child(r, pipefd[1]);
	}
	int fork_error = errno;
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

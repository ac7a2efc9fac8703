/*
 * cspawn: the child side of spawning a job process, in C.
 *
 * After fork(2) only async-signal-safe calls are allowed, so everything the
 * child does between fork and exec lives here (see docs/architecture.md).
 * Everything that needs the C library's non-reentrant parts (user and group
 * look-ups, PATH expansion, formatting numbers) is done by the caller, in
 * Swift, before the fork; this file only carries the prepared values out.
 *
 * The child reports a failed step to the parent over a close-on-exec pipe:
 * one struct cspawn_failure, then _exit(255). End-of-file on the pipe means
 * the exec succeeded.
 */
#ifndef DAYBREAK_CSPAWN_H
#define DAYBREAK_CSPAWN_H

#include <sys/types.h>

/* How the child's standard input, output and error are set up. */
#define CSPAWN_CONSOLE_INHERIT 0 /* keep the parent's (tests, debugging) */
#define CSPAWN_CONSOLE_NONE    1 /* all three on /dev/null */
#define CSPAWN_CONSOLE_OUTPUT  2 /* all three on /dev/console; /dev/null if it cannot be opened */
#define CSPAWN_CONSOLE_OWNER   3 /* /dev/console, and it becomes the controlling terminal */
#define CSPAWN_CONSOLE_FD      4 /* stdin /dev/null; stdout and stderr on console_fd (pty slave or pipe) */

/* The step that failed, as reported in cspawn_failure.step. */
#define CSPAWN_STEP_NONE      0
#define CSPAWN_STEP_PIPE      1  /* parent: creating the error pipe */
#define CSPAWN_STEP_FORK      2  /* parent: clone(2), including new namespaces */
#define CSPAWN_STEP_SIGNALS   3
#define CSPAWN_STEP_SETSID    4
#define CSPAWN_STEP_FDS       5  /* moving descriptors into place; arg: index in fds, or -1 */
#define CSPAWN_STEP_CONSOLE   6
#define CSPAWN_STEP_RLIMIT    7  /* arg: index in limits */
#define CSPAWN_STEP_NICE      8
#define CSPAWN_STEP_OOM       9
#define CSPAWN_STEP_CGROUP    10
#define CSPAWN_STEP_CHROOT    11
#define CSPAWN_STEP_CHDIR     12
#define CSPAWN_STEP_SETGROUPS 13
#define CSPAWN_STEP_SETGID    14
#define CSPAWN_STEP_SETUID    15
#define CSPAWN_STEP_PTRACE    16
#define CSPAWN_STEP_EXEC      17 /* arg: index in paths of the candidate that failed */
#define CSPAWN_STEP_PROTOCOL  18 /* parent: a short report on the pipe */
#define CSPAWN_STEP_UNSHARE   19 /* unshare(2) of one kind; arg: its CLONE_NEW* flag */
#define CSPAWN_STEP_SETNS     20 /* joining ns_net_path with setns(2); arg: CLONE_NEWNET */
#define CSPAWN_STEP_LOOPBACK  21 /* bringing lo up in the new network namespace */
#define CSPAWN_STEP_IDMAP     22 /* user namespace maps; arg: 0 setgroups, 1 uid_map, 2 gid_map */
#define CSPAWN_STEP_HOSTNAME  23 /* sethostname(2) in the new uts namespace */
#define CSPAWN_STEP_MOUNT     24 /* arg: 0 making / private, 1 mounting /proc */
#define CSPAWN_STEP_PIDINIT   25 /* forking the pid namespace's init or the job under it */

/* One `limit`: setrlimit(2)'s resource number and values (RLIM_INFINITY for unlimited). */
struct cspawn_limit {
	int resource;
	unsigned long long soft;
	unsigned long long hard;
};

/* A descriptor the child gets at a fixed number (a script pipe, UPSTART_FDS). */
struct cspawn_fd_move {
	int from;
	int to;
};

/*
 * Everything the child needs, prepared by the parent. Optional settings are
 * off when their pointer is NULL or their has_/set_ flag is 0.
 */
struct cspawn_request {
	const char *const *paths;     /* candidate executables, tried in order; NULL-terminated */
	char *const *argv;            /* NULL-terminated */
	char *const *envp;            /* NULL-terminated */

	int console;                  /* CSPAWN_CONSOLE_* */
	int console_fd;               /* for CSPAWN_CONSOLE_FD */
	const struct cspawn_fd_move *fds;
	int nfds;

	const struct cspawn_limit *limits;
	int nlimits;
	int has_nice;
	int nice;
	const char *oom_score_adj;    /* text written to /proc/self/oom_score_adj */
	const char *cgroup_procs;     /* a cgroup.procs file the child writes "0" to */
	const char *const *cgroup_procs_more; /* more of them (v1 hierarchies), NULL-terminated; arg: index + 1 */
	const char *chroot;
	const char *chdir;
	int has_umask;
	unsigned int umask;

	int set_groups;               /* setgroups(ngroups, groups) */
	const gid_t *groups;
	int ngroups;
	int has_gid;
	gid_t gid;
	int has_uid;
	uid_t uid;

	char *listen_pid;             /* the value part of an envp entry "LISTEN_PID=...", at least
	                               * 21 bytes: the child writes its own pid there (systemd's
	                               * socket activation wants the receiving process's pid) */
	/* Namespaces (the `namespace` stanza), set up in this order:
	 * join ns_net_path; with CLONE_NEWUSER in ns_flags, the credentials
	 * above, then the new user namespace mapping root to them (uid_map,
	 * gid_map, setgroups "deny"); each other new kind, one unshare(2) at a
	 * time so a refusal names it (cgroup, ipc, uts, net, mount, pid); then
	 * chroot and chdir. With CLONE_NEWPID the child stays outside as a
	 * relay and forks the namespace's init, which forks the job: see
	 * cspawn.c, "The pid namespace". */
	int ns_flags;                 /* CLONE_NEW* kinds to create */
	const char *ns_net_path;      /* a network namespace to join (/run/netns/NAME), or NULL */
	const char *ns_hostname;      /* with CLONE_NEWUTS: the hostname */
	const char *ns_uid_map;       /* with CLONE_NEWUSER: "0 UID 1\n" */
	const char *ns_gid_map;       /* with CLONE_NEWUSER: "0 GID 1\n" */
	int ns_mirror_stop;           /* with CLONE_NEWPID: the relay stops when the job stops itself (`expect stop`) */
	int trace_me;                 /* PTRACE_TRACEME before exec */
};

/* What the child reports when a step fails. */
struct cspawn_failure {
	int step;                     /* CSPAWN_STEP_* */
	int arg;                      /* which limit, path or descriptor, when it matters */
	int error;                    /* errno */
};

/*
 * Starts a process as `request` says. Returns its pid once it has exec'd.
 * On failure returns -1 and fills `failure`; a child that failed a setup
 * step has already been reaped, so nothing is left behind.
 *
 * The call blocks until the child has exec'd or failed (the setup steps
 * are quick; a chdir onto a dead network mount would block it).
 */
pid_t cspawn_spawn(const struct cspawn_request *request, struct cspawn_failure *failure);

/* Creates a pipe whose both ends are close-on-exec. Returns 0, or -1 with errno set. */
int cspawn_cloexec_pipe(int fds[2]);

#endif

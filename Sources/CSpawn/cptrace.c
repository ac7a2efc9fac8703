#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <linux/ptrace.h>

#include "cptrace.h"

int cptrace_event_fork(void) { return PTRACE_EVENT_FORK; }
int cptrace_event_vfork(void) { return PTRACE_EVENT_VFORK; }
int cptrace_event_clone(void) { return PTRACE_EVENT_CLONE; }
int cptrace_event_exec(void) { return PTRACE_EVENT_EXEC; }
int cptrace_event_exit(void) { return PTRACE_EVENT_EXIT; }

int cptrace_set_options(pid_t pid, int exit_stops)
{
	long options = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE
		| PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD;

	if (exit_stops)
		options |= PTRACE_O_TRACEEXIT;
	return ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)options) < 0 ? -1 : 0;
}

int cptrace_cont(pid_t pid, int sig)
{
	return ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) < 0 ? -1 : 0;
}

int cptrace_syscall(pid_t pid, int sig)
{
	return ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig) < 0 ? -1 : 0;
}

int cptrace_detach(pid_t pid, int sig)
{
	return ptrace(PTRACE_DETACH, pid, NULL, (void *)(long)sig) < 0 ? -1 : 0;
}

int cptrace_event_message(pid_t pid, unsigned long *message)
{
	return ptrace(PTRACE_GETEVENTMSG, pid, NULL, message) < 0 ? -1 : 0;
}

int cptrace_syscall_stop(pid_t pid, long *nr)
{
	struct ptrace_syscall_info info;

	memset(&info, 0, sizeof info);
	if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof info, &info) < 0)
		return -1;
	switch (info.op) {
	case PTRACE_SYSCALL_INFO_ENTRY:
		*nr = (long)info.entry.nr;
		return 1;
	case PTRACE_SYSCALL_INFO_EXIT:
		return 2;
	default:
		return 0;
	}
}

int cptrace_syscall_wait_kind(long nr)
{
	switch (nr) {
#ifdef SYS_poll
	case SYS_poll:
#endif
#ifdef SYS_select
	case SYS_select:
#endif
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
#endif
#ifdef SYS_pause
	case SYS_pause:
#endif
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
	case SYS_ppoll:
	case SYS_pselect6:
	case SYS_epoll_pwait:
	case SYS_rt_sigsuspend:
	case SYS_rt_sigtimedwait:
	case SYS_accept:
	case SYS_accept4:
	case SYS_recvfrom:
	case SYS_recvmsg:
	case SYS_recvmmsg:
	case SYS_msgrcv:
	case SYS_restart_syscall:
		return 1;
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
	case SYS_wait4:
	case SYS_waitid:
	case SYS_futex:
		return 2;
	default:
		return 0;
	}
}

/* Reads /proc/PID/NAME into buf (NUL-terminated); the length, or -1. */
static ssize_t read_proc(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

long cptrace_blocked_syscall(pid_t pid)
{
	char buf[128];

	if (read_proc(pid, "syscall", buf, sizeof buf) < 0)
		return -1;
	if (buf[0] < '0' || buf[0] > '9')
		return -1; /* "running", or "-1 ..." outside a system call */
	return strtol(buf, NULL, 10);
}

pid_t cptrace_thread_group(pid_t tid)
{
	char buf[512];
	char *line;

	if (read_proc(tid, "status", buf, sizeof buf) < 0)
		return -1;
	line = strstr(buf, "\nTgid:");
	if (!line)
		return -1;
	return (pid_t)strtol(line + 6, NULL, 10);
}

int cptrace_signal_task(pid_t tgid, pid_t tid, int sig)
{
	return (int)syscall(SYS_tgkill, tgid, tid, sig);
}

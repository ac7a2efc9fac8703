/*
 * cptrace: the ptrace(2) requests the daemon's process tracking needs
 * (`expect fork`, `expect daemon`), as plain functions with plain types.
 * Glibc's Swift module hides <sys/ptrace.h> and <linux/ptrace.h>, so Swift
 * reaches ptrace through these; each is one system call (or one read of a
 * small /proc file). See Sources/Supervisor/Tracking.swift for how they are
 * used.
 */
#ifndef DAYBREAK_CPTRACE_H
#define DAYBREAK_CPTRACE_H

#include <sys/types.h>

/* The PTRACE_EVENT_* numbers found in bits 16..23 of a wait status. */
int cptrace_event_fork(void);
int cptrace_event_vfork(void);
int cptrace_event_clone(void);
int cptrace_event_exec(void);
int cptrace_event_exit(void);

/* PTRACE_SETOPTIONS with TRACEFORK, TRACEVFORK, TRACECLONE, TRACEEXEC and
 * TRACESYSGOOD, and TRACEEXIT when exit_stops is not 0. Returns 0, or -1
 * with errno. */
int cptrace_set_options(pid_t pid, int exit_stops);
/* PTRACE_CONT, PTRACE_SYSCALL and PTRACE_DETACH, delivering `sig` (0 for none). */
int cptrace_cont(pid_t pid, int sig);
int cptrace_syscall(pid_t pid, int sig);
int cptrace_detach(pid_t pid, int sig);
/* PTRACE_GETEVENTMSG: the new pid at a fork event, the wait status at an exit event. */
int cptrace_event_message(pid_t pid, unsigned long *message);

/* PTRACE_GET_SYSCALL_INFO at a syscall stop. Returns 1 at a syscall entry
 * (with *nr set), 2 at an exit, 0 for anything else, -1 with errno. */
int cptrace_syscall_stop(pid_t pid, long *nr);

/* How a system call number waits:
 * 0: it does not (or not for long);
 * 1: an event loop or a pause (poll, select, epoll_wait, pause, sigsuspend,
 *    accept, recvmsg...): the process is ready and waiting for work;
 * 2: a timed sleep or a wait for a child (nanosleep, wait4): the process
 *    waits, but possibly for its own start-up to finish. */
int cptrace_syscall_wait_kind(long nr);

/* The system call a process is blocked in, from /proc/PID/syscall: its
 * number, or -1 when it is running or the file cannot be read. */
long cptrace_blocked_syscall(pid_t pid);

/* The thread group (process) id of a task, from /proc/PID/status; -1 if gone. */
pid_t cptrace_thread_group(pid_t tid);

/* tgkill(2): a signal to one task. */
int cptrace_signal_task(pid_t tgid, pid_t tid, int sig);

#endif

/*
 * cevents: the Linux event interfaces the daemon's loop waits on (epoll,
 * inotify, timerfd), as plain functions. Glibc's Swift module claims these
 * system headers without exporting them, so Swift reaches them through
 * these wrappers; each is a single system call.
 */
#ifndef DAYBREAK_CEVENTS_H
#define DAYBREAK_CEVENTS_H

#include <stdint.h>

/* epoll(7). Events use the EPOLL* bit values. */
int cevents_epoll_create(void);
int cevents_epoll_watch(int epfd, int fd, uint32_t events);   /* add, or modify if present */
int cevents_epoll_unwatch(int epfd, int fd);
/* Fills fds[i], events[i] for up to max ready descriptors; returns the count or -1. */
int cevents_epoll_wait(int epfd, int *fds, uint32_t *events, int max, int timeout_ms);

/* inotify(7): non-blocking, close-on-exec. */
int cevents_inotify_create(void);
/* Watches a directory for created, written, moved and deleted entries. */
int cevents_inotify_watch_directory(int fd, const char *path);
/* inotify_rm_watch(2). */
int cevents_inotify_unwatch(int fd, int wd);

/* timerfd(2) on CLOCK_MONOTONIC: non-blocking, close-on-exec. */
int cevents_timerfd_create(void);
/* Arms the timer to fire once at the absolute monotonic time in ms; 0 disarms. */
int cevents_timerfd_arm(int fd, int64_t at_ms);

/* timerfd(2) on CLOCK_REALTIME, for wall-clock deadlines: non-blocking, close-on-exec. */
int cevents_timerfd_realtime_create(void);
/* Arms it to fire once at the absolute wall-clock time in ms, with
 * TFD_TIMER_CANCEL_ON_SET: a read fails with ECANCELED when the clock is set. */
int cevents_timerfd_arm_realtime(int fd, int64_t at_ms);

/* eventfd(2): non-blocking, close-on-exec; a thread's way to wake the loop. */
int cevents_eventfd(void);

/* Unix sockets. accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC; -1 with errno when none. */
int cevents_accept(int listener);
/* SO_PEERCRED of a connected Unix socket. Returns 0 or -1. */
int cevents_peer_credentials(int fd, int *pid, unsigned int *uid, unsigned int *gid);
/* sendmsg with MSG_NOSIGNAL, passing nfds descriptors (SCM_RIGHTS, at most 16) with the bytes. */
long cevents_send(int fd, const void *buf, unsigned long len, const int *fds, int nfds);
/* recvmsg with MSG_CMSG_CLOEXEC; received descriptors (at most maxfds) go to fds, their count to *nfds. */
long cevents_receive(int fd, void *buf, unsigned long len, int *fds, int maxfds, int *nfds);

/* prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of our children are reparented to us. */
int cevents_set_child_subreaper(void);

/* malloc_trim(0): returns free heap memory to the kernel. */
void cevents_trim_heap(void);

#endif

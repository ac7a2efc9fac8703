#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include "cevents.h"

int cevents_epoll_create(void)
{
	return epoll_create1(EPOLL_CLOEXEC);
}

int cevents_epoll_watch(int epfd, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
		return 0;
	if (errno == EEXIST)
		return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
	return -1;
}

int cevents_epoll_unwatch(int epfd, int fd)
{
	return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

int cevents_epoll_wait(int epfd, int *fds, uint32_t *events, int max, int timeout_ms)
{
	struct epoll_event ready[64];
	int n;

	if (max > 64)
		max = 64;
	n = epoll_wait(epfd, ready, max, timeout_ms);
	for (int i = 0; i < n; i++) {
		fds[i] = ready[i].data.fd;
		events[i] = ready[i].events;
	}
	return n;
}

int cevents_inotify_create(void)
{
	return inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
}

int cevents_inotify_watch_directory(int fd, const char *path)
{
	return inotify_add_watch(fd, path, IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
				 IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
}

int cevents_inotify_unwatch(int fd, int wd)
{
	return inotify_rm_watch(fd, wd);
}

int cevents_timerfd_create(void)
{
	return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
}

int cevents_timerfd_arm(int fd, int64_t at_ms)
{
	struct itimerspec spec = { 0 };
	if (at_ms > 0) {
		spec.it_value.tv_sec = at_ms / 1000;
		spec.it_value.tv_nsec = (at_ms % 1000) * 1000000;
	}
	return timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, NULL);
}

int cevents_timerfd_realtime_create(void)
{
	return timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
}

int cevents_timerfd_arm_realtime(int fd, int64_t at_ms)
{
	struct itimerspec spec = { 0 };
	if (at_ms < 1)
		at_ms = 1;
	spec.it_value.tv_sec = at_ms / 1000;
	spec.it_value.tv_nsec = (at_ms % 1000) * 1000000;
	return timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, NULL);
}

int cevents_eventfd(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

int cevents_accept(int listener)
{
	return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int cevents_peer_credentials(int fd, int *pid, unsigned int *uid, unsigned int *gid)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -1;
	*pid = cred.pid;
	*uid = cred.uid;
	*gid = cred.gid;
	return 0;
}

long cevents_send(int fd, const void *buf, unsigned long len, const int *fds, int nfds)
{
	char control[CMSG_SPACE(16 * sizeof(int))];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 16) {
		errno = EINVAL;
		return -1;
	}
	if (nfds > 0) {
		struct cmsghdr *cmsg;

		memset(control, 0, sizeof control);
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL);
}

long cevents_receive(int fd, void *buf, unsigned long len, int *fds, int maxfds, int *nfds)
{
	char control[CMSG_SPACE(16 * sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
	long n;

	*nfds = 0;
	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return n;
	for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		int count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *data = (int *)CMSG_DATA(cmsg);
		for (int i = 0; i < count; i++) {
			if (*nfds < maxfds)
				fds[(*nfds)++] = data[i];
			else
				close(data[i]);	/* more than the caller can take: do not leak them */
		}
	}
	return n;
}

int cevents_set_child_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

void cevents_trim_heap(void)
{
	malloc_trim(0);
}


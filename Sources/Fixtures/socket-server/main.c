/* A socket-activated server, for the socket bridge's tests.
 *
 *   fixture-socket-server systemd   reads only LISTEN_PID and LISTEN_FDS
 *                                   (sd_listen_fds' protocol: fds 3, 4, ...,
 *                                   for this pid alone)
 *   fixture-socket-server upstart   reads only UPSTART_FDS (Upstart's)
 *
 * Each connection is answered with one line saying what the server saw,
 * and closed:
 *
 *   mode=systemd pid=123 listen_pid=123 listen_fds=2 names=a:b upstart_fds=3 4 fd=4
 *
 * A systemd server whose LISTEN_PID is not its own pid refuses to use the
 * descriptors, as sd_listen_fds does, and exits with status 3. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#define MAX_FDS 16

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v ? v : "-";
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "systemd";
	struct pollfd fds[MAX_FDS];
	int n = 0;
	char info[1024];

	if (strcmp(mode, "systemd") == 0) {
		const char *pid = getenv("LISTEN_PID"), *count = getenv("LISTEN_FDS");
		if (!pid || !count || atol(pid) != (long)getpid()) {
			fprintf(stderr, "socket-server: LISTEN_PID=%s is not my pid %ld\n", pid ? pid : "(unset)", (long)getpid());
			return 3;
		}
		n = atoi(count);
		for (int i = 0; i < n && i < MAX_FDS; i++)
			fds[i].fd = 3 + i;
	} else {
		const char *list = getenv("UPSTART_FDS");
		char *end;
		if (!list) {
			fprintf(stderr, "socket-server: no UPSTART_FDS\n");
			return 3;
		}
		while (*list && n < MAX_FDS) {
			long fd = strtol(list, &end, 10);
			if (end == list)
				break;
			fds[n++].fd = (int)fd;
			list = end;
		}
	}
	if (n <= 0) {
		fprintf(stderr, "socket-server: no sockets\n");
		return 3;
	}
	if (n > MAX_FDS)
		n = MAX_FDS;
	snprintf(info, sizeof info, "mode=%s pid=%ld listen_pid=%s listen_fds=%s names=%s upstart_fds=%s",
		 mode, (long)getpid(), env("LISTEN_PID"), env("LISTEN_FDS"), env("LISTEN_FDNAMES"), env("UPSTART_FDS"));
	fprintf(stderr, "socket-server: serving %d socket(s): %s\n", n, info);

	for (;;) {
		for (int i = 0; i < n; i++)
			fds[i].events = POLLIN;
		if (poll(fds, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (int i = 0; i < n; i++) {
			if (!(fds[i].revents & POLLIN))
				continue;
			int c = accept(fds[i].fd, NULL, NULL);
			if (c < 0)
				continue;
			char line[1100];
			int len = snprintf(line, sizeof line, "%s fd=%d\n", info, fds[i].fd);
			if (send(c, line, (size_t)len, MSG_NOSIGNAL) < 0) {}
			close(c);
		}
	}
}

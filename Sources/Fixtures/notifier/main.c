/* A daemon written for systemd: it reports readiness with sd_notify's
 * protocol on $NOTIFY_SOCKET ('expect notify'). With the argument "fork"
 * it forks, and the parent names the child with MAINPID= and exits.
 * FIXTURE_READY_MS sets how long it works before READY (default 200). */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fixture.h"

/* Sends one sd_notify message. */
static void notify(const char *text)
{
	const char *where = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr;
	socklen_t len;
	int fd;

	if (!where || !*where)
		return;
	memset(&addr, 0, sizeof addr);
	addr.sun_family = AF_UNIX;
	strncpy(addr.sun_path, where, sizeof addr.sun_path - 1);
	len = offsetof(struct sockaddr_un, sun_path) + strlen(where);
	if (where[0] == '@')
		addr.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, text, strlen(text), 0, (struct sockaddr *)&addr, len) < 0) {}
	close(fd);
}

int main(int argc, char **argv)
{
	char message[128];
	pid_t child;

	const char *delay = getenv("FIXTURE_READY_MS");

	notify("STATUS=warming up");
	/* start-up work: 200 ms, or FIXTURE_READY_MS */
	usleep(delay ? (useconds_t)atoi(delay) * 1000 : 200000);
	if (argc > 1 && strcmp(argv[1], "fork") == 0) {
		child = fork();
		if (child == 0) {
			write_pid(getpid());
			for (;;)
				pause();
		}
		snprintf(message, sizeof message, "MAINPID=%d\nREADY=1\nSTATUS=serving from %d", (int)child, (int)child);
		notify(message);
		usleep(100000);
		return 0;
	}
	write_pid(getpid());
	notify("READY=1\nSTATUS=serving");
	for (;;)
		pause();
}

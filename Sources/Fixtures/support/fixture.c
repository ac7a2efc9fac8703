#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"

/* Writes `pid` to $FIXTURE_PIDFILE (atomically: a temporary file renamed). */
void write_pid(pid_t pid)
{
	const char *path = getenv("FIXTURE_PIDFILE");
	char tmp[4096], text[32];
	int fd, n;

	if (!path)
		return;
	snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	n = snprintf(text, sizeof text, "%d\n", (int)pid);
	if (write(fd, text, n) != n) {}
	close(fd);
	rename(tmp, path);
}

/* The daemon's main loop: wait for signals until killed. */
void serve(void)
{
	for (;;)
		pause();
}

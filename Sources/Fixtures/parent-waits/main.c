/* A daemon whose parent waits until the child says it is ready (after a
 * slow start-up) before it exits ('expect fork'). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>

/* Writes `pid` to $FIXTURE_PIDFILE (atomically: a temporary file renamed). */
static void write_pid(pid_t pid)
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
static void serve(void)
{
	for (;;)
		pause();
}

int main(void)
{
	int ready[2];
	char c;

	if (pipe(ready) < 0)
		return 1;
	if (fork() != 0) {
		close(ready[1]);
		if (read(ready[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(ready[0]);
	setsid();
	usleep(200000); /* start-up work */
	write_pid(getpid());
	if (write(ready[1], "R", 1) != 1) {}
	close(ready[1]);
	serve();
}

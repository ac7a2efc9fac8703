/* A daemon whose parent waits until the child says it is ready (after a
 * slow start-up) before it exits ('expect fork'). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>

#include "fixture.h"

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

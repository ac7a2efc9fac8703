/* A daemon that starts two worker processes before its parent exits
 * ('expect fork'): the workers must not be taken for the daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>

#include "fixture.h"

int main(void)
{
	int i;

	if (fork() != 0) {
		usleep(100000); /* the workers start before this exit */
		_exit(0);
	}
	setsid();
	for (i = 0; i < 2; i++)
		if (fork() == 0)
			serve();
	write_pid(getpid());
	serve();
}

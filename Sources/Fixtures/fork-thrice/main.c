/* A daemon that forks three times, each parent exiting: one more fork
 * than 'expect daemon' declares. */
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

	for (i = 0; i < 3; i++) {
		if (fork() != 0)
			_exit(0);
		if (i == 0)
			setsid();
	}
	write_pid(getpid());
	serve();
}

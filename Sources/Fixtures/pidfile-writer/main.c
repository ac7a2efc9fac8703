/* A double-forking daemon whose intermediate process writes the daemon's
 * pid to the pid file before exiting ('expect daemon'). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>

#include "fixture.h"

int main(void)
{
	pid_t child;

	if (fork() != 0)
		_exit(0);
	setsid();
	child = fork();
	if (child != 0) {
		write_pid(child);
		_exit(0);
	}
	serve();
}

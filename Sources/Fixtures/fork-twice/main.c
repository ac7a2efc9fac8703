/* The classic daemon: fork, setsid, fork again; each parent exits. Right
 * for 'expect daemon'; under 'expect fork' it forks once too many. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>

#include "fixture.h"

int main(void)
{
	if (fork() != 0)
		_exit(0);
	setsid();
	if (fork() != 0)
		_exit(0);
	write_pid(getpid());
	serve();
}

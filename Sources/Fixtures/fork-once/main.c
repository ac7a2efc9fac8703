/* A daemon that forks once: the parent exits, the child serves. Right
 * for 'expect fork'; under 'expect daemon' it forks once too few. */
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
	write_pid(getpid());
	serve();
}

/* A program that never forks although its job says 'expect fork'. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>

#include "fixture.h"

int main(void)
{
	write_pid(getpid());
	serve();
}

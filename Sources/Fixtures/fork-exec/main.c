/* A launcher that forks and execs another program as the daemon
 * ('expect fork'): the child becomes /bin/sh, which writes its pid and
 * then becomes sleep(1). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>
int main(void)
{
	if (fork() != 0)
		_exit(0);
	setsid();
	execl("/bin/sh", "sh", "-c", "echo $$ > \"$FIXTURE_PIDFILE\"; exec sleep 600", (char *)NULL);
	_exit(127);
}

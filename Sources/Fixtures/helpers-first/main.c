/* A daemon that starts its helpers before it daemonizes ('expect fork'):
 * the parent forks three workers, then the master, and exits. The master,
 * the child forked last, is the daemon; the workers must not be taken for
 * it, and the start must not wait for a decision the process tree shows. */
#include <unistd.h>

#include "fixture.h"

int main(void)
{
	int i;

	for (i = 0; i < 3; i++)
		if (fork() == 0)
			serve();
	if (fork() == 0) {
		setsid();
		write_pid(getpid());
		serve();
	}
	_exit(0);
}

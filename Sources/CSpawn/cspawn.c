#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "cspawn.h"

int cspawn_cloexec_pipe(int fds[2])
{
	return pipe2(fds, O_CLOEXEC);
}

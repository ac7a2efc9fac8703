#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cplatform.h"

const int cplatform_clone_newcgroup = CLONE_NEWCGROUP;
const int cplatform_clone_newipc = CLONE_NEWIPC;
const int cplatform_clone_newns = CLONE_NEWNS;
const int cplatform_clone_newnet = CLONE_NEWNET;
const int cplatform_clone_newpid = CLONE_NEWPID;
const int cplatform_clone_newuser = CLONE_NEWUSER;
const int cplatform_clone_newuts = CLONE_NEWUTS;

int cplatform_posix_openpt(int flags) { return posix_openpt(flags); }
int cplatform_grantpt(int fd) { return grantpt(fd); }
int cplatform_unlockpt(int fd) { return unlockpt(fd); }
int cplatform_ptsname_r(int fd, char *buf, size_t len) { return ptsname_r(fd, buf, len); }

int cplatform_rlimit_resource(const char *name)
{
	static const struct { const char *name; int resource; } table[] = {
		{ "as", RLIMIT_AS }, { "core", RLIMIT_CORE }, { "cpu", RLIMIT_CPU },
		{ "data", RLIMIT_DATA }, { "fsize", RLIMIT_FSIZE }, { "locks", RLIMIT_LOCKS },
		{ "memlock", RLIMIT_MEMLOCK }, { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
		{ "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC }, { "rss", RLIMIT_RSS },
		{ "rtprio", RLIMIT_RTPRIO }, { "rttime", RLIMIT_RTTIME },
		{ "sigpending", RLIMIT_SIGPENDING }, { "stack", RLIMIT_STACK },
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(table[i].name, name) == 0)
			return table[i].resource;
	return -1;
}

#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <sys/auxv.h>
#if defined(__GLIBC__)
#include <nss.h>
#endif
#include <string.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <unistd.h>

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

/*
 * A statically linked glibc cannot safely load NSS modules: it dlopens the
 * shared libnss_*.so, which brings a second libc into the process (in a test
 * here, getgrouplist in a static program with "group: files systemd" in
 * nsswitch.conf crashed inside libnss_systemd). glibc 2.34 and later have
 * the "files" service built in, so a static daemon looks users and groups up
 * in /etc/passwd and /etc/group only, as a static busybox or toybox init does.
 * Without a program interpreter (AT_BASE is 0) the process is static.
 */
int cplatform_user_database_files_only(void)
{
	if (getauxval(AT_BASE) != 0)
		return 0;
#if defined(__GLIBC__)
	__nss_configure_lookup("passwd", "files");
	__nss_configure_lookup("group", "files");
	__nss_configure_lookup("initgroups", "files");
#endif
	return 1;
}

/* malloc_trim(3): hand the heap's free pages back to the kernel. */
#include <malloc.h>
int cplatform_release_free_memory(void) { return malloc_trim(0); }

int cplatform_reboot(int how)
{
	sync();
	switch (how) {
	case 0: return reboot(RB_AUTOBOOT);
	case 1: return reboot(RB_POWER_OFF);
	default: return reboot(RB_HALT_SYSTEM);
	}
}

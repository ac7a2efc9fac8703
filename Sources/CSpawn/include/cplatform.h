/*
 * Linux calls and constants that Swift's Glibc module does not export (it
 * is built without _GNU_SOURCE), for Platform. Thin wrappers, no logic.
 */
#ifndef DAYBREAK_CPLATFORM_H
#define DAYBREAK_CPLATFORM_H

#include <stddef.h>
#include <sys/signalfd.h>

/* CLONE_NEW* namespace flags (<sched.h> hides them without _GNU_SOURCE). */
extern const int cplatform_clone_newcgroup;
extern const int cplatform_clone_newipc;
extern const int cplatform_clone_newns;
extern const int cplatform_clone_newnet;
extern const int cplatform_clone_newpid;
extern const int cplatform_clone_newuser;
extern const int cplatform_clone_newuts;

/* The setrlimit(2) resource number for a `limit` name ("nofile", "as"...), or -1. */
int cplatform_rlimit_resource(const char *name);

/* posix_openpt(3), grantpt(3), unlockpt(3), ptsname_r(3). */
int cplatform_posix_openpt(int flags);
int cplatform_grantpt(int fd);
int cplatform_unlockpt(int fd);
int cplatform_ptsname_r(int fd, char *buf, size_t len);

/* In a statically linked daemon (no program interpreter), restricts the
 * user and group databases to /etc/passwd and /etc/group: static glibc
 * cannot load NSS modules safely. Returns 1 when it did, 0 when dynamic. */
int cplatform_user_database_files_only(void);

/* malloc_trim(0): 1 when memory was released. */
int cplatform_release_free_memory(void);

/* sync(2), then reboot(2): how 0 reboots, 1 powers off, 2 halts. Returns
 * only on failure (-1, errno set). In a pid namespace other than the
 * initial one the kernel ends the namespace instead: its init is killed
 * with SIGHUP (reboot) or SIGINT (power off, halt). */
int cplatform_reboot(int how);

#endif

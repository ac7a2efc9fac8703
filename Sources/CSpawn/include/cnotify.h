/*
 * cnotify: the daemon's end of sd_notify(3). A datagram Unix socket in the
 * abstract namespace that passes each sender's credentials.
 */
#ifndef DAYBREAK_CNOTIFY_H
#define DAYBREAK_CNOTIFY_H

/* Opens a SOCK_DGRAM socket bound to the abstract name `name` (without the
 * leading NUL or '@'), non-blocking and close-on-exec, with SO_PASSCRED.
 * Returns the descriptor, or -1 with errno. */
int cnotify_open(const char *name);

/* Receives one datagram into buf (at most len bytes). *pid is the sender's
 * process id from SCM_CREDENTIALS, or 0 if none came. Returns the length,
 * or -1 with errno (EAGAIN when nothing is waiting). */
long cnotify_receive(int fd, void *buf, unsigned long len, int *pid);

#endif

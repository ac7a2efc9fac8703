/*
 * cspawn: the child side of spawning a job process, in C.
 *
 * After fork(2) only async-signal-safe calls are allowed, so everything the
 * child does between fork and exec lives here (see docs/architecture.md).
 * The daemon issue fills this in; for now it holds the close-on-exec pipe
 * the child will report setup failures through.
 */
#ifndef DAYBREAK_CSPAWN_H
#define DAYBREAK_CSPAWN_H

/* Creates a pipe whose both ends are close-on-exec. Returns 0, or -1 with errno set. */
int cspawn_cloexec_pipe(int fds[2]);

#endif

/*
 * What every test daemon under Sources/Fixtures shares: reporting its real
 * pid, and serving (waiting for signals) until it is killed.
 */
#ifndef DAYBREAK_FIXTURE_H
#define DAYBREAK_FIXTURE_H

#include <sys/types.h>

/* Writes `pid` to $FIXTURE_PIDFILE (atomically: a temporary file renamed). */
void write_pid(pid_t pid);

/* The daemon's main loop: wait for signals until killed. */
void serve(void) __attribute__((noreturn));

#endif

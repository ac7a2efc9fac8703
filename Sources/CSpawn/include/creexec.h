#ifndef CREEXEC_H
#define CREEXEC_H

/// An anonymous in-memory file, not close-on-exec (memfd_create(2)), for
/// the state document of a re-exec. -1 with errno set on failure.
int creexec_memfd(const char *name);



/// pidfd_open(2): a descriptor (close-on-exec) that becomes readable when
/// process `pid` exits, whoever its parent is. -1 with errno set.
int creexec_pidfd_open(int pid);
#endif

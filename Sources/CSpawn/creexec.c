#define _GNU_SOURCE
#include <sys/mman.h>

#include "creexec.h"

int creexec_memfd(const char *name) {
    return memfd_create(name, 0);
}

/*
 * Small helpers the guest kit's C programs share (memcheck.c, workload.c;
 * built one by one with `gcc -static` by scripts/guest-kit.sh, which
 * rebuilds them when this header changes).
 */
#ifndef PV_GUEST_UTIL_H
#define PV_GUEST_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* The guest's own monotonic time in seconds. */
static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A whole number (decimal, 0x hex or 0 octal) filling all of s: 0, or -1. */
static inline int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

#endif

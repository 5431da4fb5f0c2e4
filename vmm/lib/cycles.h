/*
 * The time-stamp counter: the one rdtsc of the tree. In vmm/lib because
 * ept/ (fault tracing) may use only the runtime library, and the x86
 * layer (vmm/arch: clock calibration, deadlines) uses the same one. It
 * reads the counter the same way in the hypervisor and in host tests,
 * which run on x86-64 user space where RDTSC is allowed.
 */
#ifndef PV_VMM_LIB_CYCLES_H
#define PV_VMM_LIB_CYCLES_H

#include <stdint.h>

#if !defined(__x86_64__)
#error "pagevisor and its host tests are built for x86-64 only (rdtsc)"
#endif

/* Not serializing: earlier instructions may still be in flight. Fine for
 * tracing and deadlines, which is all pagevisor uses it for. */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

#endif

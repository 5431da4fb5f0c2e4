/*
 * One CPUID answer. Kept apart from vmm/arch.h (which wraps privileged
 * instructions) so pure code such as the guest CPUID policy and its host
 * tests can use it without pulling in inline assembly.
 */
#ifndef PV_VMM_CPUID_REGS_H
#define PV_VMM_CPUID_REGS_H

#include <stdint.h>

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

#endif

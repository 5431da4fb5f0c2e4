/*
 * RDMSR/WRMSR that survive a #GP: the guest may name MSRs the host CPU does
 * not have, and the hypervisor must answer with #GP in the guest, not die.
 * The instructions are listed in a fixup table that trap_handler consults
 * (vmm/trap.c): a #GP at a listed address resumes at its recovery address.
 */
#ifndef PV_VMM_MSR_SAFE_H
#define PV_VMM_MSR_SAFE_H

#include <stdint.h>

/* 0 on success, -1 if the CPU raised #GP. */
int rdmsr_safe(uint32_t msr, uint64_t *value);
int wrmsr_safe(uint32_t msr, uint64_t value);

/* For trap.c: the recovery address for a faulting rip, or 0. */
uint64_t exception_fixup(uint64_t rip);

#endif

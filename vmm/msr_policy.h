/*
 * Which guest MSR accesses the hypervisor sees, and what it does with them.
 * Vendor-neutral: the backends turn msr_policy_traps() into their MSR
 * bitmaps; the generic exit handlers call msr_policy_read/write.
 *
 * Policy (thin hypervisor): the guest reads and writes most MSRs on the
 * real CPU. Trapped:
 *   - MTRRs (IA32_MTRRCAP, variable/fixed ranges, MTRR_DEF_TYPE): writes
 *     would change the host's memory types; CPUID hides MTRRs, so a write
 *     gets #GP, reads pass through.
 *   - IA32_APIC_BASE writes: the LAPIC is passed through at its address in
 *     xAPIC mode; a write that moves it or enables x2APIC is refused (#GP),
 *     a write of the current value is allowed.
 *   - VM_CR, VM_HSAVE_PA, IA32_FEATURE_CONTROL, and the VMX capability
 *     MSRs: virtualization is not offered, so #GP (VM_CR reads say SVM is
 *     disabled and locked).
 *   - IA32_SYSCFG writes (#GP: it controls host memory encryption/MTRR
 *     behaviour).
 * MSRs outside what a backend's bitmap covers always exit; they are run on
 * the real CPU with rdmsr_safe/wrmsr_safe and a host #GP becomes a guest
 * #GP.
 */
#ifndef PV_VMM_MSR_POLICY_H
#define PV_VMM_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* Call trap(ctx, msr, on_read, on_write) for every MSR that must exit. */
void msr_policy_traps(void (*trap)(void *ctx, uint32_t msr, bool rd, bool wr), void *ctx);

/* Returns 0 with *value, or -1: inject #GP. */
int msr_policy_read(uint32_t msr, uint64_t *value);
int msr_policy_write(uint32_t msr, uint64_t value);

#endif

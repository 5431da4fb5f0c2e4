/*
 * What the guest sees for CPUID: the real CPU's answer, edited so that it
 * describes the machine the guest actually gets — one vCPU, no nested
 * virtualization, the local APIC in xAPIC (MMIO) mode, no MTRR MSRs, no
 * MONITOR/MWAIT — and a hypervisor vendor leaf naming pagevisor.
 *
 * Pure and freestanding: the exit handler executes CPUID on the host with
 * the guest's EAX/ECX and passes the result through cpuid_policy_apply()
 * before writing it to the guest's registers. Leaves not listed below are
 * returned unchanged.
 *
 *   leaf 1        ECX: VMX, x2APIC, MONITOR cleared; HYPERVISOR set.
 *                 EDX: MTRR cleared. EBX[23:16] (logical processors) = 1.
 *   leaf 4        EAX[31:26] (cores - 1) and EAX[25:14] (sharing - 1) = 0.
 *   leaf 7.0      ECX: LA57 cleared. The guest gets 4-level paging: its
 *                 physical space (below 2^48) needs no more, the stage-2
 *                 tables are 4-level, and a guest in 5-level mode differs
 *                 from the host in CR4.LA57, which the host cannot follow
 *                 (vmm/svm/svm.c): an emulated CPU then drops its whole
 *                 software TLB twice more on every exit.
 *   leaf 0xB/0x1F one thread per core, one core per package, see
 *                 cpuid_policy.c. EDX (the x2APIC id) is kept.
 *   0x40000000    vendor leaf: EAX = 0x40000000 (no further hypervisor
 *                 leaves), EBX:ECX:EDX = PV_CPUID_SIGNATURE.
 *   0x40000001..0x4FFFFFFF  all zero (hides an outer hypervisor's leaves).
 *   0x80000001    ECX: SVM cleared.
 *   0x80000008    ECX: NC (cores - 1) and ApicIdSize = 0.
 *   0x8000000A    all zero (SVM feature leaf).
 */
#ifndef PV_VMM_CPUID_POLICY_H
#define PV_VMM_CPUID_POLICY_H

#include <stdint.h>

#include "vmm/arch/cpuid_regs.h"

/* Exactly 12 bytes, no terminator in the registers: EBX "Page",
 * ECX "Viso", EDX "r PV". Unknown to Linux, so it enables no
 * paravirtual interface. */
#define PV_CPUID_SIGNATURE "PageVisor PV"
#define PV_CPUID_SIGNATURE_LEN 12
/* Highest hypervisor leaf we implement (EAX of leaf 0x40000000). */
#define PV_CPUID_HV_MAX 0x40000000u

void cpuid_policy_apply(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r);

#endif

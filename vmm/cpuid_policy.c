/* The guest's view of CPUID; see cpuid_policy.h for what changes. */
#include "vmm/cpuid_policy.h"
#include "vmm/arch/cpufeat.h"

#include <string.h>

/* The guest has exactly one vCPU. */
#define GUEST_LOGICAL_CPUS 1u
/* Topology levels we report in leaves 0xB / 0x1F. */
#define TOPO_LEVEL_SMT 0u
#define TOPO_LEVEL_CORE 1u

static void features(struct cpuid_regs *r)
{
    r->ecx &= ~(CPUID1_ECX_VMX | CPUID1_ECX_X2APIC | CPUID1_ECX_MONITOR);
    r->ecx |= CPUID1_ECX_HYPERVISOR;
    r->edx &= ~CPUID1_EDX_MTRR;
    r->ebx = (r->ebx & ~CPUID1_EBX_LOGICAL_COUNT) |
             (GUEST_LOGICAL_CPUS << CPUID1_EBX_LOGICAL_COUNT_SHIFT);
}

/* Fields holding "count - 1" become 0: nothing is shared with another core
 * or thread the guest could see. */
static void cache_params(struct cpuid_regs *r)
{
    r->eax &= ~(CPUID4_EAX_CORES | CPUID4_EAX_SHARING);
}

static uint32_t topo_ecx(uint32_t level, uint32_t type)
{
    return (level & CPUID_TOPO_ECX_LEVEL) | (type << CPUID_TOPO_ECX_TYPE_SHIFT);
}

/*
 * Leaves 0xB / 0x1F (SDM vol. 2A, CPUID): subleaf n describes level n;
 * EAX[4:0] is how far to shift the x2APIC id to reach the next level's id,
 * EBX[15:0] how many logical processors the level has, ECX[7:0] echoes n,
 * ECX[15:8] is the level type, EDX the x2APIC id at every subleaf.
 *
 * We report the smallest valid topology rather than zeroing the leaf: level 0
 * SMT with 1 thread, level 1 Core with 1 logical processor, level 2 and up
 * invalid (type 0, EAX = EBX = 0), shifts 0 so the package id is the
 * x2APIC id. That agrees with leaf 1 and leaf 4 and keeps the real x2APIC
 * id, which equals the xAPIC id the guest reads from the LAPIC (< 256).
 * A level the CPU itself reports as absent (EBX[15:0] == 0: leaf not
 * implemented, or level invalid) is passed through unchanged; the SDM makes
 * that the test for the leaf's presence.
 */
static void topology(uint32_t subleaf, struct cpuid_regs *r)
{
    if (!(r->ebx & CPUID_TOPO_EBX_COUNT))
        return;
    r->eax = 0;
    if (subleaf == TOPO_LEVEL_SMT) {
        r->ebx = GUEST_LOGICAL_CPUS;
        r->ecx = topo_ecx(subleaf, CPUID_TOPO_TYPE_SMT);
    } else if (subleaf == TOPO_LEVEL_CORE) {
        r->ebx = GUEST_LOGICAL_CPUS;
        r->ecx = topo_ecx(subleaf, CPUID_TOPO_TYPE_CORE);
    } else {
        r->ebx = 0;
        r->ecx = topo_ecx(subleaf, CPUID_TOPO_TYPE_INVALID);
    }
}

static void hypervisor_vendor(struct cpuid_regs *r)
{
    const char *sig = PV_CPUID_SIGNATURE;
    _Static_assert(sizeof(PV_CPUID_SIGNATURE) - 1 == PV_CPUID_SIGNATURE_LEN,
                   "the signature fills EBX, ECX and EDX exactly");
    r->eax = PV_CPUID_HV_MAX;
    memcpy(&r->ebx, sig, sizeof(r->ebx));
    memcpy(&r->ecx, sig + sizeof(r->ebx), sizeof(r->ecx));
    memcpy(&r->edx, sig + sizeof(r->ebx) + sizeof(r->ecx), sizeof(r->edx));
}

static void zero(struct cpuid_regs *r) { *r = (struct cpuid_regs){ 0, 0, 0, 0 }; }

void cpuid_policy_apply(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
    switch (leaf) {
    case CPUID_FEATURES: features(r); return;
    case CPUID_CACHE_PARAMS: cache_params(r); return;
    case CPUID_STRUCT_EXT:
        if (subleaf == 0)
            r->ecx &= ~CPUID7_ECX_LA57;
        return;
    case CPUID_TOPOLOGY:
    case CPUID_TOPOLOGY_V2: topology(subleaf, r); return;
    case CPUID_HV_BASE: hypervisor_vendor(r); return;
    case CPUID_EXT_FEATURES: r->ecx &= ~CPUID_EXT1_ECX_SVM; return;
    case CPUID_EXT_ADDR_SIZES:
        r->ecx &= ~(CPUID_EXT8_ECX_NC | CPUID_EXT8_ECX_APICIDSIZE);
        return;
    case CPUID_SVM: zero(r); return;
    default: break;
    }
    /* The whole hypervisor range is software-defined (no CPU answers there);
     * whatever the real CPUID returned came from an outer hypervisor, if any. */
    if (leaf > CPUID_HV_BASE && leaf <= CPUID_HV_LAST)
        zero(r);
}

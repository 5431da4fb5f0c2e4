/* Reading the running CPU's MTRRs into a struct mtrr_state (memtype.h). */
#include "vmm/arch/arch.h"
#include "vmm/arch/cpufeat.h"
#include "vmm/arch/memtype.h"
#include "vmm/arch/memtype_read.h"

#include <string.h>

#define PHYS_BITS_MASK 0xFFu   /* CPUID 0x80000008 EAX[7:0]: MAXPHYADDR */
#define DEFAULT_PHYS_BITS 36u  /* the SDM's value when the leaf is absent */
#define MTRR_FIX4K_MSRS 8u

bool memtype_read_mtrrs(struct mtrr_state *m)
{
    memset(m, 0, sizeof(*m));
    if (!(cpuid(CPUID_FEATURES, 0).edx & CPUID1_EDX_MTRR))
        return false;
    unsigned bits = DEFAULT_PHYS_BITS;
    if (cpuid(CPUID_EXT_MAX, 0).eax >= CPUID_EXT_ADDR_SIZES)
        bits = cpuid(CPUID_EXT_ADDR_SIZES, 0).eax & PHYS_BITS_MASK;
    m->phys_addr_mask = ((1ull << bits) - 1) & MTRR_PHYS_ADDR_MASK;
    m->cap = rdmsr(MSR_IA32_MTRRCAP);
    m->def_type = rdmsr(MSR_IA32_MTRR_DEF_TYPE);
    if (m->cap & MTRRCAP_FIX) {
        m->fixed[0] = rdmsr(MSR_IA32_MTRR_FIX64K_00000);
        m->fixed[1] = rdmsr(MSR_IA32_MTRR_FIX16K_80000);
        m->fixed[2] = rdmsr(MSR_IA32_MTRR_FIX16K_A0000);
        for (unsigned i = 0; i < MTRR_FIX4K_MSRS; i++)
            m->fixed[3 + i] = rdmsr(MSR_IA32_MTRR_FIX4K_C0000 + i);
    }
    unsigned n = (unsigned)(m->cap & MTRRCAP_VCNT);
    for (unsigned i = 0; i < n && i < MTRR_MAX_VAR; i++) {
        m->base[i] = rdmsr(MSR_IA32_MTRR_PHYSBASE0 + 2 * i);
        m->mask[i] = rdmsr(MSR_IA32_MTRR_PHYSBASE0 + 2 * i + 1);
    }
    return true;
}

/* CR0/CR4 rules under VMX; see vmx_cr.h. */
#include "vmm/vmx/vmx_cr.h"

void vmx_cr0_rule(uint64_t fixed0, uint64_t fixed1, bool unrestricted,
                  struct vmx_cr_rule *r)
{
    r->must1 = fixed0 & ~(unrestricted ? (VMX_CR0_PE | VMX_CR0_PG) : 0);
    r->must0 = ~fixed1;
    r->guest_rsvd = r->must0;
    r->mask = r->must1 | r->must0;
}

void vmx_cr4_rule(uint64_t fixed0, uint64_t fixed1, struct vmx_cr_rule *r)
{
    r->must1 = fixed0 | VMX_CR4_VMXE;
    r->must0 = ~fixed1;
    r->guest_rsvd = r->must0 | VMX_CR4_VMXE;
    r->mask = r->must1 | r->must0;
}

static int apply(const struct vmx_cr_rule *r, uint64_t v, uint64_t *real)
{
    if (v & r->guest_rsvd)
        return -1;
    *real = (v | r->must1) & ~r->must0;
    return 0;
}

int vmx_cr0_apply(const struct vmx_cr_rule *r, uint64_t guest_value, uint64_t *real)
{
    if ((guest_value & VMX_CR0_NW) && !(guest_value & VMX_CR0_CD))
        return -1;
    if ((guest_value & VMX_CR0_PG) && !(guest_value & VMX_CR0_PE))
        return -1;
    return apply(r, guest_value, real);
}

int vmx_cr4_apply(const struct vmx_cr_rule *r, uint64_t guest_value, uint64_t *real)
{
    return apply(r, guest_value, real);
}

bool vmx_xcr0_valid(uint32_t index, uint64_t value, uint64_t supported)
{
    if (index != 0 || !(value & XCR0_X87) || (value & ~supported))
        return false;
    if ((value & XCR0_AVX) && !(value & XCR0_SSE))
        return false;
    if (!(value & XCR0_BNDREGS) != !(value & XCR0_BNDCSR))
        return false;
    uint64_t avx512 = value & XCR0_AVX512;
    if (avx512 && (avx512 != XCR0_AVX512 || !(value & XCR0_AVX)))
        return false;
    uint64_t amx = value & XCR0_AMX;
    if (amx && amx != XCR0_AMX)
        return false;
    return true;
}

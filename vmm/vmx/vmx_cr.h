/*
 * CR0 and CR4 under VMX: pure rules (host unit-tested).
 *
 * In VMX non-root operation some CR0/CR4 bits are forced by the CPU
 * (IA32_VMX_CR0_FIXED0/1, CR4_FIXED0/1: a 1 in FIXED0 must be 1, a 0 in
 * FIXED1 must be 0), e.g. CR0.NE and CR4.VMXE. The guest must not see
 * them: those bits are host-owned through the guest/host mask, and the
 * read shadow holds what the guest last wrote, so its reads return its own
 * value. A guest write that changes a host-owned bit (relative to the
 * shadow) exits; vmx_cr_apply() then gives the real value to load, or
 * says the write must fault (#GP) as it would on a CPU without VMX.
 */
#ifndef PV_VMM_VMX_VMX_CR_H
#define PV_VMM_VMX_VMX_CR_H

#include <stdbool.h>
#include <stdint.h>

#define VMX_CR0_PE (1ull << 0)
#define VMX_CR0_NE (1ull << 5)
#define VMX_CR0_NW (1ull << 29)
#define VMX_CR0_CD (1ull << 30)
#define VMX_CR0_PG (1ull << 31)
#define VMX_CR4_PAE (1ull << 5)
#define VMX_CR4_VMXE (1ull << 13)
#define VMX_CR4_OSXSAVE (1ull << 18)

struct vmx_cr_rule {
    uint64_t must1;      /* the CPU requires these set */
    uint64_t must0;      /* the CPU requires these clear */
    uint64_t guest_rsvd; /* a guest write setting any of these faults (#GP) */
    uint64_t mask;       /* guest/host mask: the host-owned bits */
};

/* With unrestricted guest, CR0.PE and CR0.PG are the guest's own even
 * when FIXED0 names them. */
void vmx_cr0_rule(uint64_t fixed0, uint64_t fixed1, bool unrestricted,
                  struct vmx_cr_rule *r);
/* CR4.VMXE is forced on and reserved for the guest (it is told there is
 * no VMX). */
void vmx_cr4_rule(uint64_t fixed0, uint64_t fixed1, struct vmx_cr_rule *r);

/* The value to load for a guest write of guest_value into *real; -1 when
 * the write must raise #GP instead (reserved bit, or for CR0 an
 * architecturally invalid combination: NW without CD, PG without PE). */
int vmx_cr0_apply(const struct vmx_cr_rule *r, uint64_t guest_value, uint64_t *real);
int vmx_cr4_apply(const struct vmx_cr_rule *r, uint64_t guest_value, uint64_t *real);

/* What the guest reads: host-owned bits from the shadow, the rest real. */
static inline uint64_t vmx_cr_guest_view(const struct vmx_cr_rule *r, uint64_t real,
                                         uint64_t shadow)
{
    return (real & ~r->mask) | (shadow & r->mask);
}

/*
 * XCR0 (XSETBV exits unconditionally under VMX): whether a guest XSETBV of
 * value into XCR[index] is one the CPU accepts, by the SDM's rules
 * (index 0 only, x87 always on, AVX needs SSE, MPX halves together,
 * AVX-512 all three together and with AVX, AMX halves together, nothing
 * beyond what CPUID.(0xD,0) reports in supported). False: inject #GP.
 */
#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_BNDREGS (1ull << 3)
#define XCR0_BNDCSR (1ull << 4)
#define XCR0_AVX512 (7ull << 5)   /* opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_AMX (3ull << 17)     /* TILECFG, TILEDATA */
bool vmx_xcr0_valid(uint32_t index, uint64_t value, uint64_t supported);

#endif

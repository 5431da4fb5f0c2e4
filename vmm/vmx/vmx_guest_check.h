/*
 * The VM-entry checks on the guest-state area (SDM vol. 3C, "Checks on the
 * Guest State Area"), as a pure function over a snapshot of the fields
 * (host unit-tested). When the CPU refuses an entry with exit reason 33
 * ("invalid guest state") it does not say which check failed; this names
 * every rule the snapshot breaks. It covers the rules a 64-bit guest can
 * break; it is a diagnostic, not a replacement for the CPU's checks.
 */
#ifndef PV_VMM_VMX_VMX_GUEST_CHECK_H
#define PV_VMM_VMX_VMX_GUEST_CHECK_H

#include "vmm/vmx/vmcs.h"

#include <stdint.h>

struct vmx_seg_state {
    uint16_t sel;
    uint32_t limit, ar;
    uint64_t base;
};

struct vmx_guest_snapshot {
    uint64_t cr0, cr3, cr4, dr7, rip, rsp, rflags;
    uint64_t debugctl, efer, pat, sysenter_esp, sysenter_eip;
    struct vmx_seg_state seg[VMX_SEG_COUNT];
    uint64_t gdtr_base, idtr_base;
    uint32_t gdtr_limit, idtr_limit;
    uint32_t activity, interruptibility;
    uint64_t pending_dbg, link_pointer;
    uint32_t entry_ctls, proc2_ctls, entry_intr_info;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

/* Call emit(ctx, line) once per broken rule ("CS: L and D both set");
 * returns how many there were. */
int vmx_check_guest(const struct vmx_guest_snapshot *g,
                    void (*emit)(void *ctx, const char *line), void *ctx);

#endif

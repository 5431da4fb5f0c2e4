/*
 * Why the CPU refused a VM entry, in words. VMLAUNCH/VMRESUME either fail
 * as instructions (VMfailValid with a VM-instruction error number: control
 * or host-state fields) or start the entry and then abort it as a VM exit
 * with bit 31 set in the exit reason (33: invalid guest state, 34: MSR
 * loading, 41: machine check). Neither says which field is wrong, so the
 * relevant fields are re-checked here and every broken rule is logged.
 */
#include "vmm/arch/arch.h"
#include "vmm/lib/log.h"
#include "vmm/vmx/vmcs.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_decode.h"
#include "vmm/vmx/vmx_guest_check.h"
#include "vmm/vmx/vmx_insn.h"

#define SEL_RPL_TI 7u
#define CANONICAL_BITS 48

static void emit_err(void *ctx, const char *line)
{
    (void)ctx;
    pv_err("vmx:   %s", line);
}

static bool canonical(uint64_t a)
{
    int64_t s = (int64_t)(a << (64 - CANONICAL_BITS)) >> (64 - CANONICAL_BITS);
    return (uint64_t)s == a;
}

static void snapshot_guest(const struct vmx_state *s, struct vmx_guest_snapshot *g)
{
    g->cr0 = vmread(VMCS_GUEST_CR0);
    g->cr3 = vmread(VMCS_GUEST_CR3);
    g->cr4 = vmread(VMCS_GUEST_CR4);
    g->dr7 = vmread(VMCS_GUEST_DR7);
    g->rip = vmread(VMCS_GUEST_RIP);
    g->rsp = vmread(VMCS_GUEST_RSP);
    g->rflags = vmread(VMCS_GUEST_RFLAGS);
    g->debugctl = vmread(VMCS_GUEST_DEBUGCTL);
    g->efer = vmread(VMCS_GUEST_EFER);
    g->pat = vmread(VMCS_GUEST_PAT);
    g->sysenter_esp = vmread(VMCS_GUEST_SYSENTER_ESP);
    g->sysenter_eip = vmread(VMCS_GUEST_SYSENTER_EIP);
    for (int i = 0; i < VMX_SEG_COUNT; i++) {
        g->seg[i].sel = (uint16_t)vmread(VMCS_GUEST_SEL(i));
        g->seg[i].limit = (uint32_t)vmread(VMCS_GUEST_LIMIT(i));
        g->seg[i].ar = (uint32_t)vmread(VMCS_GUEST_AR(i));
        g->seg[i].base = vmread(VMCS_GUEST_BASE(i));
    }
    g->gdtr_base = vmread(VMCS_GUEST_GDTR_BASE);
    g->gdtr_limit = (uint32_t)vmread(VMCS_GUEST_GDTR_LIMIT);
    g->idtr_base = vmread(VMCS_GUEST_IDTR_BASE);
    g->idtr_limit = (uint32_t)vmread(VMCS_GUEST_IDTR_LIMIT);
    g->activity = (uint32_t)vmread(VMCS_GUEST_ACTIVITY);
    g->interruptibility = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY);
    g->pending_dbg = vmread(VMCS_GUEST_PENDING_DBG);
    g->link_pointer = vmread(VMCS_LINK_POINTER);
    g->entry_ctls = (uint32_t)vmread(VMCS_ENTRY_CONTROLS);
    g->proc2_ctls = (uint32_t)vmread(VMCS_PROC2_CONTROLS);
    g->entry_intr_info = (uint32_t)vmread(VMCS_ENTRY_INTR_INFO);
    g->cr0_fixed0 = s->cr0_fixed[0];
    g->cr0_fixed1 = s->cr0_fixed[1];
    g->cr4_fixed0 = s->cr4_fixed[0];
    g->cr4_fixed1 = s->cr4_fixed[1];
}

static const uint32_t ctl_fields[VMX_CTL_WORDS] = {
    [VMX_CTL_PIN] = VMCS_PIN_CONTROLS,     [VMX_CTL_PROC] = VMCS_PROC_CONTROLS,
    [VMX_CTL_PROC2] = VMCS_PROC2_CONTROLS, [VMX_CTL_EXIT] = VMCS_EXIT_CONTROLS,
    [VMX_CTL_ENTRY] = VMCS_ENTRY_CONTROLS,
};

static int check_controls(const struct vmx_state *s)
{
    int n = 0;
    for (int w = 0; w < VMX_CTL_WORDS; w++) {
        uint32_t value = (uint32_t)vmread(ctl_fields[w]);
        unsigned bad;
        if (!vmx_controls_valid(s->caps[w], value, &bad)) {
            pv_err("vmx:   %s controls 0x%x: '%s' is %s (capability 0x%llx)",
                   vmx_ctl_word_name((enum vmx_ctl_word)w), value,
                   vmx_ctl_name((enum vmx_ctl_word)w, bad),
                   (value >> bad) & 1 ? "set but not allowed" : "clear but required",
                   (unsigned long long)s->caps[w]);
            n++;
        }
    }
    uint64_t eptp = vmread(VMCS_EPT_POINTER);
    if ((eptp & VMX_EPTP_MEMTYPE_MASK) != VMX_EPTP_MEMTYPE_WB ||
        (eptp & VMX_EPTP_WALK_MASK) != VMX_EPTP_WALK_4LEVEL || (eptp & VMX_EPTP_RESERVED_LOW)) {
        pv_err("vmx:   EPT pointer 0x%llx malformed", (unsigned long long)eptp);
        n++;
    }
    if (vmread(VMCS_CR3_TARGET_COUNT) != 0) {
        pv_err("vmx:   CR3-target count is not 0");
        n++;
    }
    return n;
}

static int check_host(const struct vmx_state *s)
{
    int n = 0;
    uint64_t cr0 = vmread(VMCS_HOST_CR0), cr4 = vmread(VMCS_HOST_CR4);
    if ((cr0 & s->cr0_fixed[0]) != s->cr0_fixed[0] || (cr0 & ~s->cr0_fixed[1])) {
        pv_err("vmx:   host CR0 0x%llx breaks the fixed bits", (unsigned long long)cr0);
        n++;
    }
    if ((cr4 & s->cr4_fixed[0]) != s->cr4_fixed[0] || (cr4 & ~s->cr4_fixed[1])) {
        pv_err("vmx:   host CR4 0x%llx breaks the fixed bits", (unsigned long long)cr4);
        n++;
    }
    static const uint32_t sels[] = { VMCS_HOST_ES_SEL, VMCS_HOST_CS_SEL, VMCS_HOST_SS_SEL,
                                     VMCS_HOST_DS_SEL, VMCS_HOST_FS_SEL, VMCS_HOST_GS_SEL,
                                     VMCS_HOST_TR_SEL };
    for (unsigned i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
        uint64_t sel = vmread(sels[i]);
        if (sel & SEL_RPL_TI) {
            pv_err("vmx:   host selector field 0x%x = 0x%llx has RPL/TI set", sels[i],
                   (unsigned long long)sel);
            n++;
        }
    }
    if (!vmread(VMCS_HOST_CS_SEL) || !vmread(VMCS_HOST_TR_SEL)) {
        pv_err("vmx:   host CS or TR selector is 0");
        n++;
    }
    static const uint32_t addrs[] = { VMCS_HOST_FS_BASE, VMCS_HOST_GS_BASE, VMCS_HOST_TR_BASE,
                                      VMCS_HOST_GDTR_BASE, VMCS_HOST_IDTR_BASE,
                                      VMCS_HOST_SYSENTER_ESP, VMCS_HOST_SYSENTER_EIP,
                                      VMCS_HOST_RIP, VMCS_HOST_RSP };
    for (unsigned i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        uint64_t a = vmread(addrs[i]);
        if (!canonical(a)) {
            pv_err("vmx:   host field 0x%x = 0x%llx is not canonical", addrs[i],
                   (unsigned long long)a);
            n++;
        }
    }
    return n;
}

void vmx_explain_entry_failure(struct vmx_state *s, uint32_t insn_error, uint32_t exit_reason)
{
    int found = 0;
    if (exit_reason & VMX_EXIT_REASON_ENTRY_FAIL) {
        uint32_t basic = exit_reason & VMX_EXIT_REASON_BASIC;
        pv_err("vmx: VM entry failed: exit reason %u|0x80000000 (%s), qualification 0x%llx",
               basic, vmx_exit_reason_name(basic),
               (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
        if (basic == VMX_EXIT_INVALID_GUEST_STATE) {
            struct vmx_guest_snapshot g;
            snapshot_guest(s, &g);
            found = vmx_check_guest(&g, emit_err, NULL);
        }
    } else {
        pv_err("vmx: %s failed: VM-instruction error %u (%s)",
               s->launched ? "VMRESUME" : "VMLAUNCH", insn_error,
               vmx_insn_error_name(insn_error));
        if (insn_error == VMX_ERR_ENTRY_INVALID_CONTROLS)
            found = check_controls(s);
        else if (insn_error == VMX_ERR_ENTRY_INVALID_HOST)
            found = check_host(s);
        else
            found = -1;
    }
    if (found == 0)
        pv_err("vmx: no rule pagevisor checks is broken; the CPU's own log may say more "
               "(Bochs: scripts/run-bochs.sh --keep-log)");
}

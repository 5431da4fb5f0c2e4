/*
 * The VMX backend's struct vcpu_ops: setup, the run loop step, register
 * access through the VMCS, exception injection, the EPT invalidation hook
 * and the state dump.
 *
 * EPT invalidation is batched: the s2pt hook only marks the context stale
 * and one INVEPT (single-context, else all-context) runs before the next
 * VM entry, the way the SVM backend defers its TLB flush to VMRUN. With
 * VPID on, INVEPT single-context also drops the combined (linear+physical)
 * mappings of every VPID for this EPT pointer, so no INVVPID is needed.
 */
#include "vmm/vmx/vmx.h"
#include "vmm/arch/arch.h"
#include "vmm/lib/log.h"
#include "vmm/vmx/vmcs.h"
#include "vmm/vmx/vmx_decode.h"
#include "vmm/vmx/vmx_insn.h"

#include <string.h>

static struct vmx_state state;

static struct vmx_state *vmx_of(struct vcpu *v) { return v->vendor; }

bool vmx_ept_use_ad(const struct vmx_features *f)
{
    return f->ept_ad;
}

int vmx_setup(struct vcpu *v, const struct vmx_features *f, const struct guest_entry *entry)
{
    struct vmx_state *s = &state;
    memset(s, 0, sizeof(*s));
    if (vmx_enable(s) < 0 || vmx_vmcs_load(s) < 0)
        return -1;
    if (vmx_setup_controls(v, s, f) < 0)
        return -1;
    vmx_setup_host_state(s);
    vmx_setup_guest_state(s, entry);
    if (s->write_errors) {
        pv_err("vmx: %u VMCS field(s) could not be written", s->write_errors);
        return -1;
    }
    memset(v->gpr, 0, sizeof(v->gpr));
    v->gpr[GPR_RSI] = entry->rsi;
    v->vendor = s;
    v->ops = &vmx_ops;
    pv_info("vmx: vmcs at 0x%llx, entry rip 0x%llx", (unsigned long long)va_hpa(s->vmcs),
            (unsigned long long)entry->rip);
    return 0;
}

static void flush_ept(struct vmx_state *s)
{
    int rc = -1;
    if (s->invept_single)
        rc = invept(VMX_INVEPT_SINGLE, s->eptp);
    if (rc < 0 && s->invept_all)
        rc = invept(VMX_INVEPT_ALL, 0);
    if (rc < 0)
        pv_warn("vmx: INVEPT failed (eptp 0x%llx)", (unsigned long long)s->eptp);
    s->flush_pending = false;
}

static int enter_once(struct vcpu *v, struct vmx_state *s, struct vm_exit *e)
{
    if (s->flush_pending)
        flush_ept(s);
    if (s->preempt_value)
        vmcs_write(s, VMCS_PREEMPT_TIMER_VALUE, s->preempt_value);
    int rc = vmx_enter(v->gpr, s->launched);
    if (rc != VMX_ENTER_EXITED) {
        uint32_t err = rc == VMX_ENTER_FAIL_VALID ? (uint32_t)vmread(VMCS_INSN_ERROR) : 0;
        *e = (struct vm_exit){ .kind = EXIT_ENTRY_FAILED, .reason = err };
        e->rip = vmread(VMCS_GUEST_RIP);
        if (rc == VMX_ENTER_FAIL_INVALID)
            pv_err("vmx: %s failed with VMfailInvalid (no current VMCS)",
                   s->launched ? "VMRESUME" : "VMLAUNCH");
        else
            vmx_explain_entry_failure(s, err, 0);
        return -1;
    }
    s->launched = true;
    v->entries++;
    vmx_decode_exit(v, s, e);
    return e->kind == EXIT_ENTRY_FAILED ? -1 : 0;
}

/* One generic exit per call; exits the backend resolves itself are counted
 * here and never reach the generic dispatch. */
static int vmx_run(struct vcpu *v, struct vm_exit *e)
{
    struct vmx_state *s = vmx_of(v);
    for (;;) {
        if (enter_once(v, s, e) < 0)
            return -1;
        if (!vmx_handle_internal(v, s, e))
            return 0;
        v->exits[e->kind]++;
    }
}

static uint64_t vmx_get_rip(struct vcpu *v)
{
    (void)v;
    return vmread(VMCS_GUEST_RIP);
}

static void vmx_set_rip(struct vcpu *v, uint64_t rip)
{
    vmcs_write(vmx_of(v), VMCS_GUEST_RIP, rip);
}

static uint64_t vmx_get_rsp(struct vcpu *v)
{
    (void)v;
    return vmread(VMCS_GUEST_RSP);
}

static uint64_t vmx_get_rflags(struct vcpu *v)
{
    (void)v;
    return vmread(VMCS_GUEST_RFLAGS);
}

/* The CPL is SS.DPL (SDM: the guest SS access rights hold it). */
static unsigned vmx_get_cpl(struct vcpu *v)
{
    (void)v;
    return (unsigned)((vmread(VMCS_GUEST_AR(VMX_SEG_SS)) & VMX_AR_DPL_MASK) >> VMX_AR_DPL_SHIFT);
}

static void vmx_set_rsp(struct vcpu *v, uint64_t rsp)
{
    vmcs_write(vmx_of(v), VMCS_GUEST_RSP, rsp);
}

/* What the guest believes: host-owned CR bits read through the shadows. */
static void vmx_get_paging(struct vcpu *v, uint64_t *cr0, uint64_t *cr3, uint64_t *cr4,
                           uint64_t *efer)
{
    struct vmx_state *s = vmx_of(v);
    *cr0 = vmx_cr_guest_view(&s->cr0, vmread(VMCS_GUEST_CR0), vmread(VMCS_CR0_SHADOW));
    *cr3 = vmread(VMCS_GUEST_CR3);
    *cr4 = vmx_cr_guest_view(&s->cr4, vmread(VMCS_GUEST_CR4), vmread(VMCS_CR4_SHADOW));
    *efer = vmread(VMCS_GUEST_EFER);
}

static void vmx_inject(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    struct vmx_state *s = vmx_of(v);
    vmcs_write(s, VMCS_ENTRY_INTR_INFO, vmx_exception_info(vector, has_error));
    if (has_error)
        vmcs_write(s, VMCS_ENTRY_EXCEPTION_ERROR, error);
    /* An exception is delivered from the active state only. */
    vmcs_write(s, VMCS_GUEST_ACTIVITY, VMX_ACTIVITY_ACTIVE);
}

static void vmx_invalidate(struct s2pt *pt, enum s2_inv_scope scope, gpa_t gpa,
                           uint64_t size, void *ctx)
{
    (void)pt, (void)scope, (void)gpa, (void)size, (void)ctx;
    state.flush_pending = true;
}

static void vmx_dump(struct vcpu *v)
{
    struct vmx_state *s = vmx_of(v);
    uint32_t basic = s->exit_reason & VMX_EXIT_REASON_BASIC;
    pv_err("vmx exit reason 0x%x (%s), qualification 0x%llx, gpa 0x%llx, gla 0x%llx",
           s->exit_reason, vmx_exit_reason_name(basic), (unsigned long long)s->exit_qual,
           (unsigned long long)vmread(VMCS_GUEST_PHYSICAL_ADDRESS),
           (unsigned long long)vmread(VMCS_GUEST_LINEAR_ADDRESS));
    pv_err("vmx idt-vectoring 0x%llx, interruptibility 0x%llx, activity %llu, entries %llu",
           (unsigned long long)vmread(VMCS_IDT_VECTORING_INFO),
           (unsigned long long)vmread(VMCS_GUEST_INTERRUPTIBILITY),
           (unsigned long long)vmread(VMCS_GUEST_ACTIVITY), (unsigned long long)v->entries);
    pv_err("guest rip=%016llx rsp=%016llx rflags=%08llx cs=%04llx",
           (unsigned long long)vmread(VMCS_GUEST_RIP), (unsigned long long)vmread(VMCS_GUEST_RSP),
           (unsigned long long)vmread(VMCS_GUEST_RFLAGS),
           (unsigned long long)vmread(VMCS_GUEST_SEL(VMX_SEG_CS)));
    uint64_t cr0, cr3, cr4, efer;
    vmx_get_paging(v, &cr0, &cr3, &cr4, &efer);
    pv_err("guest cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx",
           (unsigned long long)cr0, (unsigned long long)read_cr2(), (unsigned long long)cr3,
           (unsigned long long)cr4, (unsigned long long)efer);
    vcpu_dump_gprs(v);
}

static void vmx_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
    vmcs_write(vmx_of(v), VMCS_TSC_OFFSET, offset);
}

const struct vcpu_ops vmx_ops = {
    .name = "vmx",
    .s2_format = &s2pt_format_ept,
    .run = vmx_run,
    .get_rip = vmx_get_rip,
    .set_rip = vmx_set_rip,
    .get_rsp = vmx_get_rsp,
    .get_rflags = vmx_get_rflags,
    .get_cpl = vmx_get_cpl,
    .set_rsp = vmx_set_rsp,
    .get_paging = vmx_get_paging,
    .inject_exception = vmx_inject,
    .invalidate = vmx_invalidate,
    .dump = vmx_dump,
    .set_tsc_offset = vmx_set_tsc_offset,
    .set_port_trap = vmx_set_port_trap,
};

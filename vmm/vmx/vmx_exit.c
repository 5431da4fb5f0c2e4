/*
 * VM exits: translate the VMCS exit fields into the generic struct vm_exit,
 * re-arm the event whose delivery the exit interrupted, and resolve the
 * exits that exist only because of VMX itself:
 *   - control-register accesses to the bits VMX owns (CR0/CR4 fixed bits,
 *     CR3 when the CPU forces CR3 exiting);
 *   - XSETBV, which always exits under VMX (the generic layer never sees
 *     it on SVM, where it is not intercepted);
 *   - HLT with interrupts enabled: the guest is re-entered in the HLT
 *     activity state, so it waits for its interrupt in non-root mode as it
 *     would on bare metal. HLT with interrupts disabled goes to the generic
 *     layer: nothing can wake that CPU (Linux powers off this way when it
 *     has no ACPI).
 * Instruction lengths come from the VM-exit instruction-length field,
 * valid for every instruction exit handled here.
 */
#include "ept/s2pt.h"
#include "vmm/arch/arch.h"
#include "vmm/arch/exception.h"
#include "vmm/lib/log.h"
#include "vmm/vmx/vmcs.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_decode.h"
#include "vmm/vmx/vmx_insn.h"

static uint8_t exit_insn_len(void)
{
    return (uint8_t)vmread(VMCS_EXIT_INSN_LEN);
}

static void emit_err(void *ctx, const char *line)
{
    (void)ctx;
    pv_err("  %s", line);
}

static void rearm_interrupted_event(struct vmx_state *s)
{
    bool needs_len;
    uint32_t info = vmx_reinject_info((uint32_t)vmread(VMCS_IDT_VECTORING_INFO), &needs_len);
    if (!info)
        return;
    vmcs_write(s, VMCS_ENTRY_INTR_INFO, info);
    if (info & VMX_INTR_ERROR_VALID)
        vmcs_write(s, VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
    if (needs_len)
        vmcs_write(s, VMCS_ENTRY_INSN_LEN, exit_insn_len());
}

static void decode_ept_violation(struct vmx_state *s, struct vm_exit *e)
{
    e->kind = EXIT_STAGE2_FAULT;
    e->info2 = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
    bool nmi_unblocked = vmx_decode_ept_violation(e->info1, e->info2,
                                                  vmread(VMCS_GUEST_LINEAR_ADDRESS), e->rip,
                                                  &e->u.fault);
    /* The fault hit an IRET that had already unblocked NMIs: restore the
     * blocking so the IRET's re-execution leaves it as the guest expects. */
    if (nmi_unblocked && !(vmread(VMCS_IDT_VECTORING_INFO) & VMX_INTR_VALID))
        vmcs_write(s, VMCS_GUEST_INTERRUPTIBILITY,
                   vmread(VMCS_GUEST_INTERRUPTIBILITY) | VMX_INTERRUPTIBILITY_NMI);
}

static void decode_ept_misconfig(struct vcpu *v, struct vm_exit *e)
{
    e->kind = EXIT_STAGE2_MISCONF;
    e->info2 = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
    e->u.fault = (struct gpa_fault){ .gpa = e->info2, .rip = e->rip };
    pv_err("vmx: EPT misconfiguration at gpa 0x%llx; the walk:", (unsigned long long)e->info2);
    s2pt_walk_render(&v->mm->s2, e->info2, emit_err, NULL);
}

static void undefined_opcode(struct vm_exit *e)
{
    e->kind = EXIT_EXCEPTION;
    e->u.exc.vector = EXC_UD;
    e->insn_len = exit_insn_len();
}

void vmx_decode_exit(struct vcpu *v, struct vmx_state *s, struct vm_exit *e)
{
    uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
    uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);
    s->exit_reason = reason;
    s->exit_qual = qual;
    *e = (struct vm_exit){ .kind = EXIT_OTHER, .reason = reason, .info1 = qual };
    e->rip = vmread(VMCS_GUEST_RIP);
    if (reason & VMX_EXIT_REASON_ENTRY_FAIL) {
        e->kind = EXIT_ENTRY_FAILED;
        vmx_explain_entry_failure(s, 0, reason);
        return;
    }
    rearm_interrupted_event(s);

    switch (reason & VMX_EXIT_REASON_BASIC) {
    case VMX_EXIT_CPUID:
        e->kind = EXIT_CPUID;
        e->insn_len = exit_insn_len();
        vmx_sync_host_osxsave(s); /* CPUID's OSXSAVE bit must be the guest's */
        break;
    case VMX_EXIT_RDMSR:
    case VMX_EXIT_WRMSR:
        e->kind = (reason & VMX_EXIT_REASON_BASIC) == VMX_EXIT_WRMSR ? EXIT_MSR_WRITE
                                                                      : EXIT_MSR_READ;
        e->u.msr.index = (uint32_t)v->gpr[GPR_RCX];
        e->insn_len = exit_insn_len();
        break;
    case VMX_EXIT_IO:
        if (vmx_decode_io(qual, e) == 0)
            e->kind = EXIT_IO;
        e->insn_len = exit_insn_len();
        break;
    case VMX_EXIT_HLT:
        e->kind = EXIT_HLT;
        e->insn_len = exit_insn_len();
        break;
    case VMX_EXIT_EPT_VIOLATION:
        decode_ept_violation(s, e);
        break;
    case VMX_EXIT_EPT_MISCONFIG:
        decode_ept_misconfig(v, e);
        break;
    case VMX_EXIT_TRIPLE_FAULT:
        e->kind = EXIT_SHUTDOWN;
        break;
    case VMX_EXIT_VMCALL:
        e->kind = EXIT_HYPERCALL;
        e->insn_len = exit_insn_len();
        break;
    case VMX_EXIT_INVD:
        e->kind = EXIT_CACHE_INVD;
        e->insn_len = exit_insn_len();
        break;
    case VMX_EXIT_XSETBV:
        e->kind = EXIT_XSETBV;
        e->insn_len = exit_insn_len();
        vmx_sync_host_osxsave(s); /* XSETBV needs CR4.OSXSAVE */
        break;
    case VMX_EXIT_CR_ACCESS:
        e->kind = EXIT_CR_ACCESS;
        e->insn_len = exit_insn_len();
        break;
    case VMX_EXIT_EXTERNAL_INTR:
        e->kind = EXIT_INTR;
        break;
    case VMX_EXIT_PREEMPT_TIMER:
        e->kind = EXIT_PREEMPT_TIMER;
        break;
    case VMX_EXIT_EXCEPTION_NMI: {
        uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
        uint32_t type = (info & VMX_INTR_TYPE_MASK) >> VMX_INTR_TYPE_SHIFT;
        if ((info & VMX_INTR_VALID) && type == VMX_INTR_TYPE_HW_EXCEPTION) {
            e->kind = EXIT_EXCEPTION;
            e->u.exc.vector = (uint8_t)(info & VMX_INTR_VECTOR_MASK);
            e->u.exc.error = (uint32_t)vmread(VMCS_EXIT_INTR_ERROR);
        }
        break;
    }
    /* VMX, SMX and the hidden MONITOR/MWAIT: #UD, as on a CPU without them. */
    case VMX_EXIT_VMCLEAR: case VMX_EXIT_VMLAUNCH: case VMX_EXIT_VMPTRLD:
    case VMX_EXIT_VMPTRST: case VMX_EXIT_VMREAD: case VMX_EXIT_VMRESUME:
    case VMX_EXIT_VMWRITE: case VMX_EXIT_VMXOFF: case VMX_EXIT_VMXON:
    case VMX_EXIT_INVEPT: case VMX_EXIT_INVVPID: case VMX_EXIT_VMFUNC:
    case VMX_EXIT_GETSEC: case VMX_EXIT_MWAIT: case VMX_EXIT_MONITOR:
    case VMX_EXIT_ENCLS:
        undefined_opcode(e);
        break;
    default:
        break;
    }
}

static uint64_t get_reg(struct vcpu *v, unsigned r)
{
    return r == GPR_RSP ? vmread(VMCS_GUEST_RSP) : v->gpr[r];
}

static void set_reg(struct vcpu *v, struct vmx_state *s, unsigned r, uint64_t value)
{
    if (r == GPR_RSP)
        vmcs_write(s, VMCS_GUEST_RSP, value);
    else
        v->gpr[r] = value;
}

#define CR0_LMSW_BITS 0xFull   /* PE, MP, EM, TS */
#define CR3_NOFLUSH (1ull << 63)

/* Returns false for accesses the masks never let through (not resolved). */
static bool handle_cr(struct vcpu *v, struct vmx_state *s, const struct vm_exit *e)
{
    struct vmx_cr_qual q;
    vmx_decode_cr(e->info1, &q);
    uint64_t value, real;
    int rc = 0;
    if (q.type == VMX_CR_MOV_FROM && q.cr == 3) {
        set_reg(v, s, q.gpr, vmread(VMCS_GUEST_CR3));
    } else if (q.type == VMX_CR_MOV_TO && q.cr == 3) {
        vmcs_write(s, VMCS_GUEST_CR3, get_reg(v, q.gpr) & ~CR3_NOFLUSH);
    } else if ((q.type == VMX_CR_MOV_TO && q.cr == 0) || q.type == VMX_CR_LMSW) {
        uint64_t shadow_view = vmx_cr_guest_view(&s->cr0, vmread(VMCS_GUEST_CR0),
                                                 vmread(VMCS_CR0_SHADOW));
        if (q.type == VMX_CR_LMSW) /* LMSW sets PE but never clears it */
            value = (shadow_view & ~(CR0_LMSW_BITS & ~VMX_CR0_PE)) |
                    (q.lmsw_data & CR0_LMSW_BITS);
        else
            value = get_reg(v, q.gpr);
        rc = vmx_cr0_apply(&s->cr0, value, &real);
        if (rc == 0) {
            vmcs_write(s, VMCS_GUEST_CR0, real);
            vmcs_write(s, VMCS_CR0_SHADOW, value);
        }
    } else if (q.type == VMX_CR_MOV_TO && q.cr == 4) {
        value = get_reg(v, q.gpr);
        rc = vmx_cr4_apply(&s->cr4, value, &real);
        if (rc == 0) {
            vmcs_write(s, VMCS_GUEST_CR4, real);
            vmcs_write(s, VMCS_CR4_SHADOW, value);
        }
    } else {
        return false;
    }
    if (rc < 0) {
        v->ops->inject_exception(v, EXC_GP, true, 0);
        return true;
    }
    /* Paging-control changes done here bypassed the CPU's own TLB
     * semantics: flush this EPT context (and its combined mappings). */
    s->flush_pending = true;
    vcpu_skip(v, e);
    return true;
}

static bool handle_xsetbv(struct vcpu *v, struct vmx_state *s, const struct vm_exit *e)
{
    uint32_t index = (uint32_t)v->gpr[GPR_RCX];
    uint64_t value = ((v->gpr[GPR_RDX] & UINT32_MAX) << 32) | (v->gpr[GPR_RAX] & UINT32_MAX);
    if (!s->xcr0_supported || !vmx_xcr0_valid(index, value, s->xcr0_supported)) {
        pv_debug("vmx: guest XSETBV xcr%u <- 0x%llx refused (#GP)", index,
                 (unsigned long long)value);
        v->ops->inject_exception(v, EXC_GP, true, 0);
        return true;
    }
    xsetbv(index, value);
    vcpu_skip(v, e);
    return true;
}

static bool handle_hlt(struct vcpu *v, struct vmx_state *s, const struct vm_exit *e)
{
    if (!(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF))
        return false; /* halted for good: the generic layer stops the guest */
    vcpu_skip(v, e);
    if (!s->hlt_activity)
        return true;  /* no HLT state on entry: resume; the idle loop halts again */
    /* The STI/MOV-SS shadow ended with the HLT it covered; entry in the
     * HLT state requires it clear. */
    uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
    vmcs_write(s, VMCS_GUEST_INTERRUPTIBILITY,
               intr & ~(uint64_t)(VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS));
    vmcs_write(s, VMCS_GUEST_ACTIVITY, VMX_ACTIVITY_HLT);
    return true;
}

bool vmx_handle_internal(struct vcpu *v, struct vmx_state *s, struct vm_exit *e)
{
    switch (e->kind) {
    case EXIT_CR_ACCESS:
        return handle_cr(v, s, e);
    case EXIT_XSETBV:
        return handle_xsetbv(v, s, e);
    case EXIT_HLT:
        return handle_hlt(v, s, e);
    default:
        return false;
    }
}

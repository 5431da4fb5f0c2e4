/*
 * Translate a #VMEXIT into the generic struct vm_exit. Instruction length
 * comes from nRIP when the CPU has NRIP-save; I/O exits always carry the
 * next RIP in EXITINFO2; the remaining intercepted instructions have fixed
 * encodings (CPUID, RDMSR/WRMSR, INVD: 2 bytes; VMMCALL and the other SVM
 * instructions: 3 bytes).
 */
#include "vmm/lib/log.h"
#include "vmm/svm/svm.h"
#include "vmm/svm/vmcb.h"

#define LEN_TWO_BYTE_OPCODE 2   /* 0F xx */
#define LEN_SVM_INSN 3          /* 0F 01 xx */
#define MSR_EXIT_WRITE 1
#define EXC_UD 6

static uint8_t insn_len(const struct svm_state *s, uint64_t rip, uint8_t fixed)
{
    if (s->nrip) {
        uint64_t next = vmcb_rd64(s->vmcb, VMCB_NRIP);
        if (next > rip && next - rip <= 15)
            return (uint8_t)(next - rip);
    }
    return fixed;
}

void svm_decode_exit(struct vcpu *v, struct svm_state *s, struct vm_exit *e)
{
    void *vmcb = s->vmcb;
    uint64_t code = vmcb_rd64(vmcb, VMCB_EXITCODE);
    uint64_t i1 = vmcb_rd64(vmcb, VMCB_EXITINFO1);
    uint64_t i2 = vmcb_rd64(vmcb, VMCB_EXITINFO2);
    *e = (struct vm_exit){ .kind = EXIT_OTHER, .reason = code, .info1 = i1, .info2 = i2 };
    e->rip = vmcb_rd64(vmcb, VMCB_RIP);
    /* The event in flight when the exit happened is re-injected by
     * hardware only if we copy it back; a stage-2 fault during delivery
     * needs it. */
    uint64_t intinfo = vmcb_rd64(vmcb, VMCB_EXITINTINFO);
    vmcb_wr64(vmcb, VMCB_EVENTINJ, (intinfo & EVENTINJ_VALID) ? intinfo : 0);

    switch (code) {
    case SVM_EXIT_CPUID:
        e->kind = EXIT_CPUID;
        e->insn_len = insn_len(s, e->rip, LEN_TWO_BYTE_OPCODE);
        break;
    case SVM_EXIT_MSR:
        e->kind = i1 == MSR_EXIT_WRITE ? EXIT_MSR_WRITE : EXIT_MSR_READ;
        e->u.msr.index = (uint32_t)v->gpr[GPR_RCX];
        e->insn_len = insn_len(s, e->rip, LEN_TWO_BYTE_OPCODE);
        break;
    case SVM_EXIT_IOIO:
        e->kind = EXIT_IO;
        e->u.io.port = (uint16_t)(i1 >> IOIO_PORT_SHIFT);
        e->u.io.in = (i1 & IOIO_IN) != 0;
        e->u.io.string = (i1 & IOIO_STR) != 0;
        e->u.io.rep = (i1 & IOIO_REP) != 0;
        e->u.io.size = (i1 & IOIO_SZ32) ? 4 : (i1 & IOIO_SZ16) ? 2 : 1;
        e->insn_len = (uint8_t)(i2 - e->rip); /* EXITINFO2 = next RIP */
        break;
    case SVM_EXIT_NPF:
        e->kind = EXIT_STAGE2_FAULT;
        e->u.fault = (struct gpa_fault){
            .gpa = i2,
            .access = (i1 & NPF_ID) ? ACC_X : (i1 & NPF_RW) ? ACC_W : ACC_R,
            .entry_rights = (i1 & NPF_P) ? ACC_R : 0,
            .rip = e->rip,
            .gla = 0,
            .gla_valid = false,
        };
        if (i1 & NPF_RSVD)
            e->kind = EXIT_STAGE2_MISCONF;
        break;
    case SVM_EXIT_SHUTDOWN:
        e->kind = EXIT_SHUTDOWN;
        break;
    case SVM_EXIT_VMMCALL:
        e->kind = EXIT_HYPERCALL;
        e->insn_len = insn_len(s, e->rip, LEN_SVM_INSN);
        break;
    case SVM_EXIT_HLT:
        e->kind = EXIT_HLT;
        e->insn_len = 1;
        break;
    case SVM_EXIT_INTR:
        e->kind = EXIT_INTR;
        break;
    case SVM_EXIT_XSETBV:
        e->kind = EXIT_XSETBV;
        e->insn_len = insn_len(s, e->rip, LEN_SVM_INSN);
        break;
    case SVM_EXIT_INVD:
        e->kind = EXIT_CACHE_INVD;
        e->insn_len = insn_len(s, e->rip, LEN_TWO_BYTE_OPCODE);
        break;
    case SVM_EXIT_VMRUN:
    case SVM_EXIT_VMLOAD:
    case SVM_EXIT_VMSAVE:
    case SVM_EXIT_STGI:
    case SVM_EXIT_CLGI:
    case SVM_EXIT_SKINIT:
    case SVM_EXIT_INVLPGA:
    case SVM_EXIT_MONITOR:
    case SVM_EXIT_MWAIT:
        /* Not offered to the guest (CPUID says so): #UD, like real hardware
         * without SVM. */
        e->kind = EXIT_EXCEPTION;
        e->u.exc.vector = EXC_UD;
        e->insn_len = insn_len(s, e->rip, LEN_SVM_INSN);
        break;
    case SVM_EXIT_INVALID:
        e->kind = EXIT_ENTRY_FAILED;
        pv_err("svm: VMRUN refused the VMCB (VMEXIT_INVALID): guest state is inconsistent");
        break;
    default:
        if (code >= SVM_EXIT_EXCP_BASE && code <= SVM_EXIT_EXCP_LAST) {
            e->kind = EXIT_EXCEPTION;
            e->u.exc.vector = (uint8_t)(code - SVM_EXIT_EXCP_BASE);
            e->u.exc.error = (uint32_t)i1;
            if (intinfo & EVENTINJ_VALID)
                svm_exception_in_delivery(e, intinfo);
        }
        break;
    }
}

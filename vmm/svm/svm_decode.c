/*
 * Translate a #VMEXIT into the generic struct vm_exit; see svm_decode.h.
 * Instruction length comes from nRIP when the CPU has NRIP-save; I/O exits
 * always carry the next RIP in EXITINFO2; the remaining intercepted
 * instructions have fixed encodings (CPUID, RDMSR/WRMSR, INVD: 2 bytes;
 * VMMCALL and the other SVM instructions: 3 bytes).
 */
#include "vmm/svm/svm_decode.h"
#include "vmm/arch/exception.h"
#include "vmm/svm/vmcb.h"

#define LEN_TWO_BYTE_OPCODE 2   /* 0F xx */
#define LEN_SVM_INSN 3          /* 0F 01 xx */
#define LEN_MAX 15              /* the architectural limit of one instruction */
#define MSR_EXIT_WRITE 1

static uint8_t insn_len(const struct svm_exit_fields *f, uint8_t fixed)
{
    if (f->nrip_valid && f->nrip > f->rip && f->nrip - f->rip <= LEN_MAX)
        return (uint8_t)(f->nrip - f->rip);
    return fixed;
}

void svm_decode_fields(const struct svm_exit_fields *f, struct vm_exit *e)
{
    uint64_t code = f->code, i1 = f->info1, i2 = f->info2;
    *e = (struct vm_exit){ .kind = EXIT_OTHER, .reason = code, .info1 = i1, .info2 = i2 };
    e->rip = f->rip;

    switch (code) {
    case SVM_EXIT_CPUID:
        e->kind = EXIT_CPUID;
        e->insn_len = insn_len(f, LEN_TWO_BYTE_OPCODE);
        break;
    case SVM_EXIT_MSR:
        e->kind = i1 == MSR_EXIT_WRITE ? EXIT_MSR_WRITE : EXIT_MSR_READ;
        e->u.msr.index = (uint32_t)f->rcx;
        e->insn_len = insn_len(f, LEN_TWO_BYTE_OPCODE);
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
            .table_walk = (i1 & NPF_TABLE_GPA) != 0,
        };
        if (i1 & NPF_RSVD)
            e->kind = EXIT_STAGE2_MISCONF;
        break;
    case SVM_EXIT_SHUTDOWN:
        e->kind = EXIT_SHUTDOWN;
        break;
    case SVM_EXIT_VMMCALL:
        e->kind = EXIT_HYPERCALL;
        e->insn_len = insn_len(f, LEN_SVM_INSN);
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
        e->insn_len = insn_len(f, LEN_SVM_INSN);
        break;
    case SVM_EXIT_INVD:
        e->kind = EXIT_CACHE_INVD;
        e->insn_len = insn_len(f, LEN_TWO_BYTE_OPCODE);
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
        e->insn_len = insn_len(f, LEN_SVM_INSN);
        break;
    case SVM_EXIT_INVALID:
        e->kind = EXIT_ENTRY_FAILED;
        break;
    default:
        if (code >= SVM_EXIT_EXCP_BASE && code <= SVM_EXIT_EXCP_LAST) {
            e->kind = EXIT_EXCEPTION;
            e->u.exc.vector = (uint8_t)(code - SVM_EXIT_EXCP_BASE);
            e->u.exc.error = (uint32_t)i1;
        }
        break;
    }
}

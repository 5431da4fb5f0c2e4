/*
 * What SVM itself puts into the guest's state, kept from the guest:
 *
 *  - EFER.SVME: VMRUN refuses a guest EFER without it, so the VMCB's EFER
 *    always has it; the guest is told there is no SVM (CPUID), so its
 *    RDMSR of EFER reads it clear and a WRMSR that sets it faults (#GP:
 *    a reserved bit on a CPU without SVM). EFER is trapped for both.
 *  - An exception intercepted while another event was being delivered
 *    (EXITINTINFO valid; only #GP is intercepted): the two combine as the
 *    CPU would have combined them, since the intercept took that from it.
 */
#include "vmm/arch/exception.h"
#include "vmm/arch/arch.h"
#include "vmm/lib/log.h"
#include "vmm/svm/svm.h"
#include "vmm/svm/vmcb.h"

#define CR0_PG (1ull << 31)
#define CPUID_EXT1 0x80000001u
#define CPUID_EXT1_EDX_FFXSR (1u << 25)
#define CPUID_EXT1_ECX_TCE (1u << 17)
#define CPUID_EXT21 0x80000021u
#define CPUID_EXT21_EAX_AUTOIBRS (1u << 8)
#define CPUID_EXT_MAX 0x80000000u


/* EFER bits a guest may write: those this CPU implements, minus SVME. */
static uint64_t efer_writable(void)
{
    static uint64_t mask;
    if (!mask) {
        mask = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
        struct cpuid_regs r = cpuid(CPUID_EXT1, 0);
        if (r.edx & CPUID_EXT1_EDX_FFXSR)
            mask |= EFER_FFXSR;
        if (r.ecx & CPUID_EXT1_ECX_TCE)
            mask |= EFER_TCE;
        if (cpuid(CPUID_EXT_MAX, 0).eax >= CPUID_EXT21 &&
            (cpuid(CPUID_EXT21, 0).eax & CPUID_EXT21_EAX_AUTOIBRS))
            mask |= EFER_AUTOIBRS;
    }
    return mask;
}

int svm_msr_own(struct vcpu *v, uint32_t msr, bool write, uint64_t *value)
{
    if (msr != MSR_EFER)
        return 0;
    void *vmcb = ((struct svm_state *)v->vendor)->vmcb;
    uint64_t cur = vmcb_rd64(vmcb, VMCB_EFER);
    if (!write) {
        *value = cur & ~EFER_SVME;
        return 1;
    }
    uint64_t val = *value;
    bool paging = (vmcb_rd64(vmcb, VMCB_CR0) & CR0_PG) != 0;
    if ((val & ~efer_writable()) || (paging && ((val ^ cur) & EFER_LME))) {
        pv_debug("svm: guest EFER write 0x%llx refused (#GP)", (unsigned long long)val);
        return -1;
    }
    /* LMA is the CPU's to set (it follows LME and CR0.PG): writes keep it. */
    vmcb_wr64(vmcb, VMCB_EFER, (val & ~EFER_LMA) | (cur & EFER_LMA) | EFER_SVME);
    return 1;
}

static bool contributory(uint8_t vec)
{
    return vec == EXC_DE || vec == EXC_TS || vec == EXC_NP || vec == EXC_SS || vec == EXC_GP;
}

void svm_exception_in_delivery(struct vm_exit *e, uint64_t intinfo)
{
    uint8_t first = (uint8_t)(intinfo & EVENTINJ_VECTOR_MASK);
    if ((intinfo & EVENTINJ_TYPE_MASK) != EVENTINJ_TYPE_EXCEPTION)
        return; /* an interrupt or NMI: the new exception is delivered instead */
    if (first == EXC_DF) {
        e->kind = EXIT_SHUTDOWN; /* a fault delivering #DF: triple fault */
    } else if (first == EXC_PF || (contributory(first) && contributory(e->u.exc.vector))) {
        e->u.exc.vector = EXC_DF;
        e->u.exc.error = 0;
    }
}

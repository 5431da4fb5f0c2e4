/*
 * #VMEXIT handling in the backend: read the exit fields from the VMCB,
 * re-arm the event whose delivery the exit interrupted, and hand the raw
 * fields to the pure decoder (svm_decode.c) for the generic struct vm_exit.
 */
#include "vmm/lib/log.h"
#include "vmm/svm/svm.h"
#include "vmm/svm/svm_decode.h"
#include "vmm/svm/vmcb.h"

void svm_decode_exit(struct vcpu *v, struct svm_state *s, struct vm_exit *e)
{
    void *vmcb = s->vmcb;
    const struct svm_exit_fields f = {
        .code = vmcb_rd64(vmcb, VMCB_EXITCODE),
        .info1 = vmcb_rd64(vmcb, VMCB_EXITINFO1),
        .info2 = vmcb_rd64(vmcb, VMCB_EXITINFO2),
        .rip = vmcb_rd64(vmcb, VMCB_RIP),
        .nrip = s->nrip ? vmcb_rd64(vmcb, VMCB_NRIP) : 0,
        .nrip_valid = s->nrip,
        .rcx = v->gpr[GPR_RCX],
    };
    /* The event in flight when the exit happened is re-injected by
     * hardware only if we copy it back; a stage-2 fault during delivery
     * needs it. */
    uint64_t intinfo = vmcb_rd64(vmcb, VMCB_EXITINTINFO);
    vmcb_wr64(vmcb, VMCB_EVENTINJ, (intinfo & EVENTINJ_VALID) ? intinfo : 0);

    svm_decode_fields(&f, e);
    if (e->kind == EXIT_ENTRY_FAILED)
        pv_err("svm: VMRUN refused the VMCB (VMEXIT_INVALID): guest state is inconsistent");
    /* An exception intercepted while the CPU delivered another one combines
     * with it as hardware would (#DF, or shutdown after #DF). */
    if (e->kind == EXIT_EXCEPTION && f.code >= SVM_EXIT_EXCP_BASE &&
        f.code <= SVM_EXIT_EXCP_LAST && (intinfo & EVENTINJ_VALID))
        svm_exception_in_delivery(e, intinfo);
}

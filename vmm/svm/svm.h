/* AMD SVM backend: implements struct vcpu_ops (vmm/vcpu.h). */
#ifndef PV_VMM_SVM_SVM_H
#define PV_VMM_SVM_SVM_H

#include "vmm/arch/cpufeat.h"
#include "vmm/vcpu.h"

extern const struct vcpu_ops svm_ops;

/* Enable SVM on this CPU and prepare v to enter the guest at *entry with
 * mm's nested page table. Returns 0, or -1 with the reason logged. */
int svm_setup(struct vcpu *v, const struct svm_features *f, const struct guest_entry *entry);

/* Whether nested page entries can say no-execute: the CPU has NX, and the
 * host's EFER.NXE, which the nested walk uses (without it bit 63 of an
 * entry is reserved), is set now if it was not. */
bool svm_host_nx(void);

/* Exit decoding (svm_exit.c). */
struct svm_state;
void svm_decode_exit(struct vcpu *v, struct svm_state *s, struct vm_exit *e);

/* SVM's own guest state the generic layer must not see (svm_guard.c):
 * EFER.SVME, and an exception that hit while another event was being
 * delivered. */
int svm_msr_own(struct vcpu *v, uint32_t msr, bool write, uint64_t *value);
void svm_exception_in_delivery(struct vm_exit *e, uint64_t intinfo);

struct svm_state {
    void *vmcb;                 /* guest VMCB */
    void *host_vmcb;            /* VMSAVE area for the host's hidden state */
    void *hsave;                /* VM_HSAVE_PA area */
    uint8_t *iopm, *msrpm;
    bool nrip, flush_by_asid;
    bool flush_pending;         /* stage-2 changed: flush on next VMRUN */
    uint32_t asid;
    uint64_t host_cr0, host_cr4; /* what the host runs with (svm.c) */
};

#endif

/*
 * Pure SVM exit decoder (host unit-tested): the #VMEXIT exit code and its
 * EXITINFO fields, as read from the VMCB, become the generic struct
 * vm_exit. No VMCB access here: the backend (svm_exit.c) reads the fields,
 * passes the raw values, and does what needs the VMCB itself (re-arming
 * an interrupted event, logging a refused VMRUN).
 */
#ifndef PV_VMM_SVM_SVM_DECODE_H
#define PV_VMM_SVM_SVM_DECODE_H

#include "vmm/vcpu.h"

#include <stdbool.h>
#include <stdint.h>

/* The VMCB fields of one #VMEXIT that decoding depends on. */
struct svm_exit_fields {
    uint64_t code;      /* EXITCODE */
    uint64_t info1;     /* EXITINFO1 */
    uint64_t info2;     /* EXITINFO2 */
    uint64_t rip;       /* guest RIP (of the exiting instruction) */
    uint64_t nrip;      /* next sequential RIP (VMCB offset 0xC8) */
    bool nrip_valid;    /* the CPU has NRIP-save, so nrip means something */
    uint64_t rcx;       /* guest RCX: the MSR index of RDMSR/WRMSR */
};

/*
 * Fill *e from f. Unknown exit codes give EXIT_OTHER with the vendor code
 * and EXITINFO kept for the log; VMEXIT_INVALID gives EXIT_ENTRY_FAILED.
 * Instruction lengths come from nRIP when valid and plausible (1 to 15
 * bytes past RIP), else from the instruction's fixed encoding; I/O exits
 * take theirs from EXITINFO2, which always holds the next RIP.
 */
void svm_decode_fields(const struct svm_exit_fields *f, struct vm_exit *e);

#endif

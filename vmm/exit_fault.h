/* Stage-2 fault exits: hand to ept/ (mm_handle_fault) and act on the
 * outcome; accesses nothing backs are emulated (vmm/access_emul.c). */
#ifndef PV_VMM_EXIT_FAULT_H
#define PV_VMM_EXIT_FAULT_H

#include "vmm/vcpu.h"

void handle_stage2_fault(struct vcpu *v, struct vm_exit *e);

/* Emulate the faulting instruction's memory access: reads of open bus
 * return all-ones, writes to open bus or ROM are dropped; MMIO devices are
 * not modelled yet. Returns 0 when RIP was advanced past the instruction. */
int emulate_access(struct vcpu *v, const struct vm_exit *e, const struct fault_outcome *o);

#endif

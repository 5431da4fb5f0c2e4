/* The statistics block printed when the guest stops. */
#ifndef PV_VMM_REPORT_H
#define PV_VMM_REPORT_H

#include "vmm/vcpu.h"

/* Lines "stats ..." : exits by kind, faults by resolution, frames in use
 * and the peak, entries. Parseable: "stats <group> <name> <value>". */
void report_final(const struct vcpu *v);

#endif

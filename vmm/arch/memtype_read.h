/* The running CPU's MTRRs (hypervisor build only; see memtype.h). */
#ifndef PV_VMM_ARCH_MEMTYPE_READ_H
#define PV_VMM_ARCH_MEMTYPE_READ_H

#include <stdbool.h>

#include "vmm/arch/memtype.h"

/* false (and *m zeroed) when CPUID says the CPU has no MTRRs. */
bool memtype_read_mtrrs(struct mtrr_state *m);

#endif

/*
 * The all-ones value of an access width: what a 1-, 2-, 4- or 8-byte port
 * or memory access can carry. The one helper for it: instruction emulation
 * (vmm/insn.c), the guest port policies (open bus reads as all-ones of the
 * access size) and the hypervisor's PCI configuration access use it.
 */
#ifndef PV_VMM_LIB_SIZE_MASK_H
#define PV_VMM_LIB_SIZE_MASK_H

#include <stdint.h>

/* bytes = 0 gives 0; 8 or more give all 64 bits. */
static inline uint64_t access_size_mask(unsigned bytes)
{
    return bytes >= 8 ? UINT64_MAX : (1ull << (8 * bytes)) - 1;
}

#endif

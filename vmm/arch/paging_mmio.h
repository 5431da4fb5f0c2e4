/*
 * Identity-mapping device memory after paging_init(): the boot-time map
 * covers what the firmware memory map names (at least 4 GiB), but firmware
 * puts 64-bit BARs in a window far above RAM that no map entry names (OVMF:
 * 0xE000000000 on a 1 GiB q35). Drivers map their BARs with this before
 * touching them.
 */
#ifndef PV_VMM_PAGING_MMIO_H
#define PV_VMM_PAGING_MMIO_H

#include <stdint.h>

/*
 * Identity-map [base, base + size) uncached (PCD|PWT) where nothing is
 * mapped yet, in 2 MiB pages; ranges already mapped are left as they are
 * (the low map is covered by the firmware's MTRRs). Table pages come from
 * the heap. Returns 0, or -1 with an error line when the heap is full or
 * the range is not canonical.
 */
int paging_map_mmio(uint64_t base, uint64_t size);

#endif

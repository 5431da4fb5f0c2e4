/*
 * The hypervisor's own page tables: an identity map of everything the
 * firmware memory map names (at least the low 4 GiB, where the local APIC
 * and other MMIO live), with 1 GiB pages when the CPU has them, else 2 MiB.
 * Identity mapping keeps hpa == pointer (see ept/types.h).
 */
#ifndef PV_VMM_PAGING_H
#define PV_VMM_PAGING_H

#include <stdbool.h>
#include <stdint.h>

/* Bytes of table memory paging_build() needs to map [0, top). */
uint64_t paging_tables_bytes(uint64_t top, bool page1gb);
/* Build the identity map in [tables, tables + bytes) and return the CR3
 * value (the root). Returns 0 if the space is too small. */
uint64_t paging_build(uint64_t tables, uint64_t bytes, uint64_t top, bool page1gb);
/* Build and switch to the identity map. */
void paging_init(uint64_t tables, uint64_t bytes, uint64_t top, bool page1gb);

#endif

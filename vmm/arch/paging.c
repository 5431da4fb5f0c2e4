/* Identity page tables for the hypervisor; see paging.h. */
#include "vmm/arch/paging.h"
#include "vmm/arch/arch.h"
#include "vmm/lib/log.h"

#include <string.h>

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7) /* large page in a PDPT or PD entry */
#define ENTRIES 512ull
#define TABLE_BYTES 4096ull
#define GIB (1ull << 30)
#define MIB2 (1ull << 21)
#define PML4_SPAN (ENTRIES * GIB) /* 512 GiB per PML4 entry */
#define MIN_TOP (4 * GIB)

static uint64_t span(uint64_t top)
{
    if (top < MIN_TOP)
        top = MIN_TOP;
    return (top + GIB - 1) & ~(GIB - 1);
}

uint64_t paging_tables_bytes(uint64_t top, bool page1gb)
{
    uint64_t gibs = span(top) / GIB;
    uint64_t pdpts = (gibs + ENTRIES - 1) / ENTRIES;
    uint64_t pds = page1gb ? 0 : gibs;
    return (1 + pdpts + pds) * TABLE_BYTES;
}

uint64_t paging_build(uint64_t tables, uint64_t bytes, uint64_t top, bool page1gb)
{
    if (bytes < paging_tables_bytes(top, page1gb))
        return 0;
    uint64_t gibs = span(top) / GIB;
    uint64_t pdpts = (gibs + ENTRIES - 1) / ENTRIES;
    uint64_t *pml4 = (uint64_t *)(uintptr_t)tables;
    uint64_t next = tables + TABLE_BYTES;
    memset(pml4, 0, TABLE_BYTES);

    for (uint64_t i = 0; i < pdpts; i++) {
        uint64_t *pdpt = (uint64_t *)(uintptr_t)next;
        memset(pdpt, 0, TABLE_BYTES);
        pml4[i] = next | PTE_P | PTE_RW;
        next += TABLE_BYTES;
        for (uint64_t j = 0; j < ENTRIES && i * ENTRIES + j < gibs; j++) {
            uint64_t gib = (i * ENTRIES + j) * GIB;
            if (page1gb) {
                pdpt[j] = gib | PTE_P | PTE_RW | PTE_PS;
                continue;
            }
            uint64_t *pd = (uint64_t *)(uintptr_t)next;
            pdpt[j] = next | PTE_P | PTE_RW;
            next += TABLE_BYTES;
            for (uint64_t k = 0; k < ENTRIES; k++)
                pd[k] = (gib + k * MIB2) | PTE_P | PTE_RW | PTE_PS;
        }
    }
    return tables;
}

void paging_init(uint64_t tables, uint64_t bytes, uint64_t top, bool page1gb)
{
    uint64_t cr3 = paging_build(tables, bytes, top, page1gb);
    if (!cr3) {
        pv_err("paging: %llu bytes of table space is too small; keeping firmware tables",
               (unsigned long long)bytes);
        return;
    }
    write_cr3(cr3);
    pv_info("paging: identity map of %llu GiB with %s pages, root 0x%llx",
            (unsigned long long)(span(top) / GIB), page1gb ? "1 GiB" : "2 MiB",
            (unsigned long long)cr3);
}

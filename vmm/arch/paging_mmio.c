/* Late identity mappings for device memory; see paging_mmio.h. */
#include "vmm/arch/paging_mmio.h"
#include "vmm/arch/arch.h"
#include "vmm/lib/heap.h"
#include "vmm/lib/log.h"

#include <stdbool.h>

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000FFFFFFFFFF000ull
#define TABLE_BYTES 4096u
#define INDEX_MASK 0x1FFull
#define PML4_SHIFT 39
#define PDPT_SHIFT 30
#define PD_SHIFT 21
#define MIB2 (1ull << PD_SHIFT)
#define CANONICAL_TOP (1ull << 47)   /* 4-level paging: lower half only */

static uint64_t *table(uint64_t entry) { return (uint64_t *)(uintptr_t)(entry & PTE_ADDR); }

/* The next-level table under *e, made (empty) if absent; NULL if *e is a
 * large leaf (already mapped) or the heap is full (*full set). */
static uint64_t *next_table(uint64_t *e, bool *full)
{
    if (*e & PTE_P)
        return (*e & PTE_PS) ? NULL : table(*e);
    uint64_t *t = heap_alloc(TABLE_BYTES, TABLE_BYTES, "mmio page table");
    if (!t) {
        *full = true;
        return NULL;
    }
    *e = (uint64_t)(uintptr_t)t | PTE_P | PTE_RW;
    return t;
}

int paging_map_mmio(uint64_t base, uint64_t size)
{
    if (!size || base + size < base || base + size > CANONICAL_TOP) {
        pv_err("paging: cannot map 0x%llx+0x%llx", (unsigned long long)base,
               (unsigned long long)size);
        return -1;
    }
    uint64_t *pml4 = table(read_cr3());
    bool changed = false, full = false;
    for (uint64_t a = base & ~(MIB2 - 1); a < base + size && !full; a += MIB2) {
        uint64_t *pdpt = next_table(&pml4[(a >> PML4_SHIFT) & INDEX_MASK], &full);
        if (!pdpt)
            continue;
        uint64_t *pd = next_table(&pdpt[(a >> PDPT_SHIFT) & INDEX_MASK], &full);
        if (!pd)
            continue;
        uint64_t *pde = &pd[(a >> PD_SHIFT) & INDEX_MASK];
        if (*pde & PTE_P)
            continue;
        *pde = a | PTE_P | PTE_RW | PTE_PS | PTE_PCD | PTE_PWT;
        changed = true;
    }
    if (changed)
        write_cr3(read_cr3());
    if (full) {
        pv_err("paging: no heap left to map device memory at 0x%llx",
               (unsigned long long)base);
        return -1;
    }
    return 0;
}

/* Boot page tables, boot GDT and the 64-bit entry state; see entry.h. */
#include "guest/entry.h"

#include <string.h>

#include "guest/layout.h"

#define PT_CHUNK 64u /* entries written per mm_write: a small stack buffer */

#define GDT_CODE64                                                             \
    (GUEST_DESC_LIMIT_LOW | GUEST_DESC_LIMIT_HIGH | GUEST_DESC_TYPE_ACCESSED | \
     GUEST_DESC_TYPE_RW | GUEST_DESC_TYPE_CODE | GUEST_DESC_S | GUEST_DESC_P |  \
     GUEST_DESC_L | GUEST_DESC_G)
#define GDT_DATA                                                               \
    (GUEST_DESC_LIMIT_LOW | GUEST_DESC_LIMIT_HIGH | GUEST_DESC_TYPE_ACCESSED | \
     GUEST_DESC_TYPE_RW | GUEST_DESC_S | GUEST_DESC_P | GUEST_DESC_DB |        \
     GUEST_DESC_G)

static gpa_t pdpt_gpa(void) { return GUEST_PT_GPA + PAGE_SIZE; }
static gpa_t pd_gpa(unsigned n) { return GUEST_PT_GPA + (2u + n) * PAGE_SIZE; }

/* Write entries first..first+count of the table at table, entry i =
 * base + i * step | flags. Untouched entries stay zero (fresh RAM). */
static int write_entries(struct guest_mm *mm, gpa_t table, unsigned count,
                         uint64_t base, uint64_t step, uint64_t flags)
{
    uint64_t buf[PT_CHUNK];
    for (unsigned i = 0; i < count; i += PT_CHUNK) {
        unsigned n = count - i < PT_CHUNK ? count - i : PT_CHUNK;
        for (unsigned j = 0; j < n; j++)
            buf[j] = (base + (uint64_t)(i + j) * step) | flags;
        int rc = mm_write(mm, table + (uint64_t)i * sizeof(uint64_t), buf,
                          n * sizeof(uint64_t));
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int write_page_tables(struct guest_mm *mm)
{
    const uint64_t table = GUEST_PTE_P | GUEST_PTE_RW;
    int rc = write_entries(mm, GUEST_PT_GPA, 1, pdpt_gpa(), 0, table);
    if (rc == 0)
        rc = write_entries(mm, pdpt_gpa(), GUEST_PT_PDS, pd_gpa(0), PAGE_SIZE, table);
    for (unsigned n = 0; rc == 0 && n < GUEST_PT_PDS; n++)
        rc = write_entries(mm, pd_gpa(n), GUEST_PT_ENTRIES,
                           (uint64_t)n << HUGE_1G_SHIFT, HUGE_2M,
                           table | GUEST_PTE_PS);
    return rc;
}

int entry_build(struct guest_mm *mm, gpa_t kernel_gpa, gpa_t zero_page_gpa,
                struct guest_entry *e)
{
    int rc = write_page_tables(mm);
    if (rc < 0)
        return rc;
    const uint64_t gdt[GUEST_GDT_ENTRIES] = {
        [GUEST_BOOT_CS / 8] = GDT_CODE64,
        [GUEST_BOOT_DS / 8] = GDT_DATA,
    };
    rc = mm_write(mm, GUEST_GDT_GPA, gdt, sizeof(gdt));
    if (rc < 0)
        return rc;

    memset(e, 0, sizeof(*e));
    e->rip = kernel_gpa + GUEST_ENTRY64_OFFSET;
    e->rsp = GUEST_STACK_TOP;
    e->rsi = zero_page_gpa;
    e->rflags = GUEST_RFLAGS_FIXED;
    e->cr0 = GUEST_CR0_PE | GUEST_CR0_ET | GUEST_CR0_NE | GUEST_CR0_PG;
    e->cr3 = GUEST_PT_GPA;
    e->cr4 = GUEST_CR4_PAE;
    e->efer = GUEST_EFER_LME | GUEST_EFER_LMA;
    e->gdt_base = GUEST_GDT_GPA;
    e->gdt_limit = (uint16_t)(sizeof(gdt) - 1);
    e->cs = GUEST_BOOT_CS;
    e->ds = GUEST_BOOT_DS;
    e->pat = GUEST_PAT_POWER_ON;
    return 0;
}

/*
 * Guest page-table walker (see vmm/guest_walk.h).
 *
 * Every paging mode is the same loop over levels, top to leaf: read the
 * entry the address's index selects, stop if it is not present, stop at a
 * large page where the level allows one, else descend to the table the
 * entry names. The modes differ only in the parameters of struct paging.
 */
#include "vmm/guest_walk.h"

#include <stdbool.h>

#include "vmm/lib/types.h"

#define LEAF_SHIFT PAGE_SHIFT
#define IDX_BITS_64 9u  /* 512 eight-byte entries per table */
#define IDX_BITS_32 10u /* 1024 four-byte entries per table */
#define LEVELS_LA57 5u
#define LEVELS_LONG 4u
#define LEVELS_PAE 3u
#define LEVELS_32 2u
#define LEVEL_PDPT 3u /* 1 GiB pages (long mode) */
#define LEVEL_PD 2u   /* 2 MiB / 4 MiB pages */
#define LA48_BITS 48u
#define LA57_BITS 57u
#define LINEAR32_LIMIT (1ull << 32)

_Static_assert(LEVELS_LA57 <= GW_LEVELS_MAX, "a trace must hold the deepest walk");

struct paging {
    unsigned levels;     /* tables walked, the root included */
    unsigned idx_bits;   /* index bits per level (the top may use fewer) */
    unsigned entry_size; /* 8, or 4 for 32-bit paging */
    uint64_t root;       /* address of the top table */
    uint64_t addr_mask;  /* address bits of an entry */
    uint32_t large_levels; /* bit L set: a PS=1 entry at level L is a page */
    uint32_t ps_rsvd_levels; /* bit L set: PS=1 at level L is reserved */
    bool nxe;            /* XD bit is defined (else reserved) */
    bool pae_pdpt;       /* the top level is the PAE PDPT: rights ignored */
};

static bool canonical(uint64_t va, unsigned bits)
{
    uint64_t upper = va >> (bits - 1);
    return upper == 0 || upper == (~0ull >> (bits - 1));
}

/* Choose the mode's parameters; -PV_EINVAL for an impossible combination
 * or an address the mode cannot hold. */
static int select_mode(uint64_t cr3, uint64_t cr4, uint64_t efer, uint64_t gva,
                       struct paging *pg)
{
    bool pae = cr4 & GW_CR4_PAE;
    pg->nxe = (efer & GW_EFER_NXE) && pae;
    pg->pae_pdpt = false;
    if (efer & GW_EFER_LMA) {
        bool la57 = cr4 & GW_CR4_LA57;
        if (!pae || !canonical(gva, la57 ? LA57_BITS : LA48_BITS))
            return -PV_EINVAL;
        pg->levels = la57 ? LEVELS_LA57 : LEVELS_LONG;
        pg->idx_bits = IDX_BITS_64;
        pg->entry_size = sizeof(uint64_t);
        pg->root = cr3 & GW_PTE_ADDR;
        pg->addr_mask = GW_PTE_ADDR;
        pg->large_levels = (1u << LEVEL_PD) | (1u << LEVEL_PDPT);
        pg->ps_rsvd_levels = (1u << LEVELS_LONG) | (1u << LEVELS_LA57);
        return 0;
    }
    if (gva >= LINEAR32_LIMIT)
        return -PV_EINVAL;
    if (pae) {
        pg->levels = LEVELS_PAE;
        pg->idx_bits = IDX_BITS_64; /* the PDPT index is gva bits 31:30 */
        pg->entry_size = sizeof(uint64_t);
        pg->root = cr3 & GW_CR3_PAE_ADDR;
        pg->addr_mask = GW_PTE_ADDR;
        pg->large_levels = 1u << LEVEL_PD;
        pg->ps_rsvd_levels = 0; /* PS is among the PDPTE reserved bits */
        pg->pae_pdpt = true;
        return 0;
    }
    pg->levels = LEVELS_32;
    pg->idx_bits = IDX_BITS_32;
    pg->entry_size = sizeof(uint32_t);
    pg->root = cr3 & GW_PTE32_ADDR;
    pg->addr_mask = GW_PTE32_ADDR;
    pg->large_levels = (cr4 & GW_CR4_PSE) ? 1u << LEVEL_PD : 0; /* else ignored */
    pg->ps_rsvd_levels = 0;
    return 0;
}

static int read_entry(const struct paging *pg, uint64_t table, uint64_t idx,
                      guest_read_phys_fn read_phys, void *ctx, uint64_t *e)
{
    uint64_t gpa = table + idx * pg->entry_size;
    if (pg->entry_size == sizeof(uint32_t)) {
        uint32_t e32;
        int rc = read_phys(ctx, gpa, &e32, sizeof(e32));
        *e = e32;
        return rc;
    }
    return read_phys(ctx, gpa, e, sizeof(*e));
}

/* The physical address of a large page at a given level; -PV_EINVAL when
 * the entry sets address bits below the page size (reserved). */
static int large_page(const struct paging *pg, uint64_t e, unsigned level,
                      uint64_t gva, uint64_t *gpa, uint32_t *size_flag)
{
    unsigned shift = LEAF_SHIFT + pg->idx_bits * (level - 1);
    uint64_t size = 1ull << shift;
    if (pg->entry_size == sizeof(uint32_t)) {
        /* 4 MiB: bits 31:22, and PSE-36 bits 39:32 from PDE bits 20:13. */
        uint64_t hi = (e >> GW_PDE32_4M_HI_SHIFT) & GW_PDE32_4M_HI_MASK;
        *gpa = (e & GW_PDE32_4M_ADDR) | (hi << 32) | (gva & (size - 1));
        *size_flag = GW_F_4M;
        return 0;
    }
    /* Bit 12 is the large page's PAT bit; bits 13 .. shift-1 are reserved. */
    uint64_t rsvd = (size - 1) & pg->addr_mask & ~(1ull << PAGE_SHIFT);
    if (e & rsvd)
        return -PV_EINVAL;
    *gpa = (e & pg->addr_mask & ~(size - 1)) | (gva & (size - 1));
    *size_flag = shift == HUGE_1G_SHIFT ? GW_F_1G : GW_F_2M;
    return 0;
}

int guest_walk(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
               uint64_t gva, guest_read_phys_fn read_phys, void *ctx,
               uint64_t *gpa_out, uint32_t *flags_out)
{
    return guest_walk_traced(cr0, cr3, cr4, efer, gva, read_phys, ctx, gpa_out, flags_out,
                             NULL);
}

int guest_walk_traced(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
                      uint64_t gva, guest_read_phys_fn read_phys, void *ctx,
                      uint64_t *gpa_out, uint32_t *flags_out, struct gw_trace *trace)
{
    uint32_t rights = GW_F_WRITE | GW_F_USER;
    uint32_t size_flag = 0;
    struct paging pg;
    uint64_t table, gpa = 0;
    int rc;

    if (trace)
        trace->steps = 0;
    if (!read_phys || !gpa_out)
        return -PV_EINVAL;
    if (!(cr0 & GW_CR0_PG)) {
        *gpa_out = gva;
        if (flags_out)
            *flags_out = rights | GW_F_NOPAGING;
        return 0;
    }
    if ((rc = select_mode(cr3, cr4, efer, gva, &pg)))
        return rc;

    table = pg.root;
    for (unsigned level = pg.levels; level >= 1; level--) {
        unsigned shift = LEAF_SHIFT + pg.idx_bits * (level - 1);
        uint64_t idx = (gva >> shift) & ((1ull << pg.idx_bits) - 1);
        uint64_t e;
        bool top_pdpt = pg.pae_pdpt && level == pg.levels;

        if ((rc = read_entry(&pg, table, idx, read_phys, ctx, &e)))
            return rc;
        if (trace && trace->steps < GW_LEVELS_MAX)
            trace->step[trace->steps++] = (struct gw_step){
                .level = level, .table = table, .index = (unsigned)idx, .entry = e };
        if (!(e & GW_PTE_P))
            return -PV_ENOENT;
        if (top_pdpt) {
            if (e & (GW_PDPTE_PAE_RSVD | GW_PTE_NX))
                return -PV_EINVAL;
            table = e & pg.addr_mask;
            continue;
        }
        if (pg.entry_size == sizeof(uint64_t) && (e & GW_PTE_NX)) {
            if (!pg.nxe)
                return -PV_EINVAL;
            rights |= GW_F_NX;
        }
        if (!(e & GW_PTE_RW))
            rights &= ~GW_F_WRITE;
        if (!(e & GW_PTE_US))
            rights &= ~GW_F_USER;

        if (level > 1 && (e & GW_PTE_PS)) {
            if (pg.ps_rsvd_levels & (1u << level))
                return -PV_EINVAL;
            if (pg.large_levels & (1u << level)) {
                if ((rc = large_page(&pg, e, level, gva, &gpa, &size_flag)))
                    return rc;
                break;
            }
        }
        if (level == 1)
            gpa = (e & pg.addr_mask) | (gva & (PAGE_SIZE - 1));
        else
            table = e & pg.addr_mask;
    }
    *gpa_out = gpa;
    if (flags_out)
        *flags_out = rights | size_flag;
    return 0;
}

int guest_fetch(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
                uint64_t gva, guest_read_phys_fn read_phys, void *ctx,
                uint8_t *buf, size_t len)
{
    size_t done = 0;

    if (!buf || len == 0 || len > GW_FETCH_MAX)
        return -PV_EINVAL;
    while (done < len) {
        uint64_t va = gva + done, gpa;
        size_t chunk = (size_t)(PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        int rc;

        if (chunk > len - done)
            chunk = len - done;
        rc = guest_walk(cr0, cr3, cr4, efer, va, read_phys, ctx, &gpa, NULL);
        if (rc == 0)
            rc = read_phys(ctx, gpa, buf + done, chunk);
        if (rc)
            return done ? (int)done : rc;
        done += chunk;
    }
    return (int)done;
}

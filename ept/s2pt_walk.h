/*
 * Private to ept/s2pt*.c: the entry predicates, the counted entry write and
 * the walk, inline, built on the format's masks (struct s2pt_format) so
 * that a walk makes no indirect call per level. The function-pointer ops
 * stay the reference; s2pt_check() verifies that both agree on every entry
 * it visits.
 */
#ifndef PV_EPT_S2PT_WALK_H
#define PV_EPT_S2PT_WALK_H

#include "ept/s2pt.h"

#define S2_INDEX_MASK (S2_ENTRIES - 1)
#define S2_GPA_LIMIT (1ull << S2_GPA_BITS)
#define S2_LEAF_MAX_LEVEL 3 /* 1 GiB leaves; level 4 entries are tables */

static inline unsigned s2_index(gpa_t gpa, int level)
{
    return (unsigned)(gpa >> (PAGE_SHIFT + S2_INDEX_BITS * (level - 1))) &
           S2_INDEX_MASK;
}

static inline uint64_t *s2_table_va(hpa_t table) { return hpa_va(table); }

/* Table or leaf (rights 0 included); never a swap entry or an empty one. */
static inline bool s2_present(const struct s2pt_format *fmt, uint64_t e)
{
    return (e & fmt->present_mask) != 0;
}

static inline bool s2_leaf(const struct s2pt_format *fmt, uint64_t e,
                           int level)
{
    return s2_present(fmt, e) &&
           (level == 1 ||
            (level <= S2_LEAF_MAX_LEVEL && (e & fmt->large_bit) != 0));
}

static inline bool s2_table(const struct s2pt_format *fmt, uint64_t e,
                            int level)
{
    return level > 1 && s2_present(fmt, e) && !s2_leaf(fmt, e, level);
}

static inline bool s2_swap(const struct s2pt_format *fmt, uint64_t e)
{
    return !s2_present(fmt, e) && (e & fmt->swap_bit) != 0;
}

/* The hardware may use (and cache) the entry. */
static inline bool s2_hw_present(const struct s2pt_format *fmt, uint64_t e)
{
    return (e & fmt->hw_mask) != 0;
}

/* Child table of a table entry. */
static inline hpa_t s2_table_addr(const struct s2pt_format *fmt, uint64_t e)
{
    return e & fmt->addr_mask;
}

/* Base of a leaf at level (large leaves: the low bits are not address). */
static inline hpa_t s2_leaf_addr(const struct s2pt_format *fmt, uint64_t e,
                                 int level)
{
    return e & fmt->addr_mask & ~(s2_level_size(level) - 1);
}

static inline uint64_t s2_ad_bits(const struct s2pt_format *fmt)
{
    return fmt->ad_capable ? fmt->accessed_bit | fmt->dirty_bit : 0;
}

/*
 * Write one entry of the table at table_hpa, keeping the table's count of
 * non-zero entries (the mapcount of its FRAME_TABLE descriptor, see
 * ept/s2pt.c). A single release store: the hardware never sees a torn entry.
 */
static inline void s2_set_entry(struct s2pt *pt, hpa_t table_hpa, unsigned idx,
                                uint64_t val)
{
    uint64_t *t = s2_table_va(table_hpa);
    uint64_t old = t[idx];
    struct frame *f = frame_of(pt->fp, table_hpa);
    __atomic_store_n(&t[idx], val, __ATOMIC_RELEASE);
    if (!f)
        return;
    if (old == 0 && val != 0)
        f->mapcount++;
    else if (old != 0 && val == 0)
        f->mapcount--;
}

/*
 * Walk from (table, level) towards level stop (>= 1): descend while the
 * entry for gpa is a table and level > stop. Returns the table holding the
 * entry that decides gpa at the lowest level reached (*level_io: that
 * level), which is stop, or higher where a leaf, swap entry or empty slot
 * ends the path.
 */
static inline hpa_t s2_walk_from(const struct s2pt *pt, hpa_t table,
                                 int *level_io, gpa_t gpa, int stop)
{
    const struct s2pt_format *fmt = pt->fmt;
    int level = *level_io;
#pragma GCC unroll 4 /* S2_LEVELS: a fixed-depth walk, no loop overhead */
    while (level > stop) {
        /* level > 1 here: a table is a present entry that is no leaf */
        uint64_t e = s2_table_va(table)[s2_index(gpa, level)];
        if (!s2_present(fmt, e) ||
            (level <= S2_LEAF_MAX_LEVEL && (e & fmt->large_bit) != 0))
            break;
        table = s2_table_addr(fmt, e);
        level--;
    }
    *level_io = level;
    return table;
}

#endif

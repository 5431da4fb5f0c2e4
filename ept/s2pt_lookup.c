/*
 * Stage-2 lookups and the accessed/dirty bits (contract: ept/s2pt.h): the
 * read side of the walker in ept/s2pt.c, and the only entry changes that
 * are read-modify-writes the hardware can race with (atomic here).
 */
#include "ept/s2pt.h"

#include <string.h>

#include "ept/s2pt_walk.h"

int s2pt_lookup_slot(const struct s2pt *pt, gpa_t gpa, struct s2_info *out,
                     struct s2_slot *slot)
{
    const struct s2pt_format *fmt = pt->fmt;
    memset(out, 0, sizeof(*out));
    out->state = S2_NONE;
    out->level = S2_LEVELS;
    if (slot) {
        slot->level = 0; /* no slot: install_at takes the s2pt_map path */
        slot->page = gpa & PAGE_MASK;
        slot->shape = pt->shape;
    }
    if (gpa >= S2_GPA_LIMIT || !pt->root)
        return PV_OK;
    int level = S2_LEVELS;
    hpa_t table = s2_walk_from(pt, pt->root, &level, gpa, 1);
    unsigned idx = s2_index(gpa, level);
    uint64_t e = s2_table_va(table)[idx];
    if (slot) {
        slot->table = table;
        slot->idx = idx;
        slot->level = level;
    }
    out->level = level;
    out->raw = e;
    if (s2_leaf(fmt, e, level)) {
        out->state = S2_PRESENT;
        out->size = s2_level_size(level);
        out->leaf_hpa = s2_leaf_addr(fmt, e, level);
        out->hpa = out->leaf_hpa + (ALIGN_DOWN(gpa, PAGE_SIZE) & (out->size - 1));
        out->rights = fmt->rights(e);
        out->memtype = fmt->memtype(e);
        out->accessed = fmt->ad_capable && (e & fmt->accessed_bit);
        out->dirty = fmt->ad_capable && (e & fmt->dirty_bit);
    } else if (s2_swap(fmt, e)) {
        out->state = S2_SWAP;
        out->swap = fmt->swap_of(e);
    }
    return PV_OK;
}

int s2pt_lookup(const struct s2pt *pt, gpa_t gpa, struct s2_info *out)
{
    return s2pt_lookup_slot(pt, gpa, out, NULL);
}

static bool test_and_clear(struct s2pt *pt, gpa_t gpa, uint64_t bit)
{
    if (!pt->use_ad || !pt->fmt->ad_capable || gpa >= S2_GPA_LIMIT || !bit)
        return false;
    int level = S2_LEVELS;
    hpa_t table = s2_walk_from(pt, pt->root, &level, gpa, 1);
    uint64_t *slot = &s2_table_va(table)[s2_index(gpa, level)];
    if (!s2_leaf(pt->fmt, *slot, level) || !(*slot & bit))
        return false;
    uint64_t old = __atomic_fetch_and(slot, ~bit, __ATOMIC_ACQ_REL);
    if (!(old & bit))
        return false;
    if (s2_hw_present(pt->fmt, old)) {
        uint64_t size = s2_level_size(level);
        s2pt_invalidate(pt, S2_INV_RANGE, ALIGN_DOWN(gpa, size), size);
    }
    return true;
}

bool s2pt_test_and_clear_accessed(struct s2pt *pt, gpa_t gpa)
{
    return test_and_clear(pt, gpa, pt->fmt->accessed_bit);
}

bool s2pt_test_and_clear_dirty(struct s2pt *pt, gpa_t gpa)
{
    return test_and_clear(pt, gpa, pt->fmt->dirty_bit);
}

void s2pt_set_dirty(struct s2pt *pt, gpa_t gpa)
{
    if (!pt->use_ad || !pt->fmt->ad_capable || gpa >= S2_GPA_LIMIT || !pt->root)
        return;
    int level = S2_LEVELS;
    hpa_t table = s2_walk_from(pt, pt->root, &level, gpa, 1);
    uint64_t *slot = &s2_table_va(table)[s2_index(gpa, level)];
    uint64_t bit = pt->fmt->dirty_bit;
    if (s2_leaf(pt->fmt, *slot, level) && !(*slot & bit))
        __atomic_fetch_or(slot, bit, __ATOMIC_ACQ_REL);
}

/*
 * Reclaim's operations on one pool frame's mappings, found through the
 * frame's reverse map (Linux's folio_referenced and try_to_unmap in
 * rmap.c): test-and-clear "used since the last look", and replace every
 * mapping with nothing, the zero frame or a swap entry.
 *
 * These are the only stage-2 writes the swap policy asks for outside a
 * fault; it calls them from its reclaim hook (see mm.h for when that may
 * re-enter mm_*). They call no swap hook themselves: the caller is the
 * swap policy and accounts for the frame and the slot.
 */
#include "ept/mm.h"

#include "ept/mm_internal.h"
#include "vmm/lib/log.h"

/* Used since the last look? at gpa. See mm_frame_referenced. */
static bool leaf_referenced(struct guest_mm *mm, gpa_t gpa)
{
    struct s2pt *pt = &mm->s2;

    if (pt->use_ad)
        return s2pt_test_and_clear_accessed(pt, gpa);
    struct s2_info e;
    s2pt_lookup(pt, gpa, &e);
    if (e.state != S2_PRESENT || e.rights == 0)
        return false;
    if (s2pt_protect(pt, gpa, PAGE_SIZE, 0) < 0)
        pv_err("mm: cannot take the rights of gpa 0x%llx for aging",
               (unsigned long long)gpa);
    return true;
}

bool mm_frame_referenced(struct guest_mm *mm, struct frame *f)
{
    bool ref = false;

    /* Every mapping is looked at (no early exit): each one's evidence is
     * cleared, so the next look sees only newer uses. */
    if (f->mapcount == 0)
        return false;
    ref |= leaf_referenced(mm, f->rmap);
    for (const struct rmap_item *it = f->rmap_more; it; it = it->next)
        ref |= leaf_referenced(mm, it->gpa);
    return ref;
}

/* What replaces gpa's leaf of f. */
static int replace_leaf(struct guest_mm *mm, gpa_t gpa, const struct s2_info *cur,
                        enum mm_unmap_to to, swp_entry_t se)
{
    switch (to) {
    case MM_UNMAP_EMPTY:
        return s2pt_unmap(&mm->s2, gpa, PAGE_SIZE);
    case MM_UNMAP_SWAP:
        return s2pt_set_swap(&mm->s2, gpa, se);
    case MM_UNMAP_ZERO: {
        /* A page that reads as zero when untouched goes back to untouched:
         * its next write is an anon-new fault, which maps the empty pages
         * around it too (fault-around), where a zero-frame leaf would
         * cost a cow-zero exit per page. Any other page gets the zero
         * frame, read-only, as the fault path maps it: a write then takes
         * cow-zero. */
        const struct region *r = region_lookup(&mm->regions, gpa);
        if (r && mm_anon_like(r, gpa))
            return s2pt_unmap(&mm->s2, gpa, PAGE_SIZE);
        uint32_t rights = (r ? r->rights : cur->rights) & ~ACC_W;
        return s2pt_map(&mm->s2, gpa, frame_hpa(mm->fp, mm->fp->zero),
                        PAGE_SIZE, rights, MM_RAM_MEMTYPE);
    }
    }
    return -PV_EINVAL;
}

int mm_unmap_frame(struct guest_mm *mm, struct frame *f, enum mm_unmap_to to,
                   swp_entry_t e, size_t *done)
{
    struct frame_pool *fp = mm->fp;
    hpa_t hpa = frame_hpa(fp, f);

    *done = 0;
    if (to != MM_UNMAP_EMPTY && to != MM_UNMAP_ZERO && to != MM_UNMAP_SWAP)
        return -PV_EINVAL;
    /* The first rmap gpa each time: replacing it takes it out of the rmap
     * (the next one moves up), so the mappings go in rmap order. The last
     * put may free f: mapcount is 0 then too. */
    while (f->mapcount > 0) {
        gpa_t gpa = f->rmap;
        struct s2_info cur;
        s2pt_lookup(&mm->s2, gpa, &cur);
        if (cur.state != S2_PRESENT || cur.size != PAGE_SIZE ||
            cur.leaf_hpa != hpa) {
            pv_err("mm: rmap says gpa 0x%llx maps frame 0x%llx with a 4 KiB "
                   "leaf but it does not",
                   (unsigned long long)gpa, (unsigned long long)hpa);
            return -PV_EINVAL;
        }
        int rc = replace_leaf(mm, gpa, &cur, to, e);
        if (rc < 0)
            return rc;
        frame_rmap_del(fp, f, gpa);
        frame_put(fp, f);
        (*done)++;
    }
    return 0;
}

/*
 * Mapping swap-cache frames at the gpas whose swap entries name their
 * slots, outside a fault (see mm_map_swapped in mm.h): how a swap-in's
 * readahead pages are handed to the guest at once instead of each costing
 * a minor fault on first touch.
 *
 * A leaf written here is exactly what the fault path's swap resolution
 * writes for a read of the same page (fault_swap: a 4 KiB leaf with
 * mm_swapped_rights' rights, write-back), with the same bookkeeping (one
 * reference, one rmap entry), so everything downstream — the cow path a
 * write to a read-only leaf takes, reclaim's dirty-bit check of a
 * writable one, tear-down — treats both alike. The leaf starts with its
 * accessed and dirty bits clear (a new leaf never has them): the guest's
 * first use sets the accessed bit, which is how the swap policy tells a
 * readahead hit from a miss.
 *
 * Invalidation: none. A swap entry is not present, and no TLB caches a
 * non-present translation.
 */
#include "ept/mm.h"

#include "ept/mm_internal.h"

/* Region kinds whose pages can be swapped (their frames are pool frames
 * reclaim evicts): demand-zero RAM and private copies of a staged image. */
static bool swappable(const struct region *r)
{
    return r->kind == REGION_ANON || r->kind == REGION_FILE_PRIVATE;
}

int mm_map_swapped(struct guest_mm *mm, gpa_t gpa, swp_entry_t e, struct frame *f)
{
    struct frame_pool *fp = mm->fp;

    if (gpa & ~PAGE_MASK)
        return -PV_EINVAL;
    if (!(f->flags & FRAME_SWAPCACHE) || (f->flags & FRAME_LOCKED))
        return -PV_EINVAL; /* only verified, unlocked cached data goes in */
    const struct region *r = region_lookup(&mm->regions, gpa);
    if (!r || !swappable(r))
        return -PV_ENOENT;
    struct s2_info cur;
    s2pt_lookup(&mm->s2, gpa, &cur);
    if (cur.state != S2_SWAP || cur.swap != e)
        return -PV_ENOENT;
    uint32_t rights = mm_swapped_rights(mm, r, f, e, false); /* before f gains a map */
    int rc = frame_rmap_add(fp, f, gpa);
    if (rc < 0)
        return rc;
    rc = s2pt_map(&mm->s2, gpa, frame_hpa(fp, f), PAGE_SIZE, rights, MM_RAM_MEMTYPE);
    if (rc < 0) {
        frame_rmap_del(fp, f, gpa);
        return rc;
    }
    frame_get(f); /* the leaf's reference */
    return 0;
}

size_t mm_map_swapped_batch(struct guest_mm *mm, struct mm_swapped_map *v, size_t n)
{
    size_t mapped = 0;

    for (size_t i = 0; i < n; i++) {
        v[i].result = mm_map_swapped(mm, v[i].gpa, v[i].e, v[i].f);
        mapped += v[i].result == 0;
    }
    return mapped;
}

bool mm_tracks_accessed(const struct guest_mm *mm) { return mm->s2.use_ad; }

uint32_t mm_swapped_rights(struct guest_mm *mm, const struct region *r,
                           const struct frame *f, swp_entry_t e, bool write_fault)
{
    const struct mm_swap_hooks *sh = mm->swap_hooks;
    uint32_t ro = r->rights & ~ACC_W;
    uint32_t x = mm_exec_mask(mm, f);

    if (!(r->rights & ACC_W) || f->mapcount != 0 || (f->flags & FRAME_LOCKED) ||
        !(mm->s2.use_ad || write_fault))
        return ro & x;
    if (!sh || !sh->exclusive || !sh->exclusive(mm, f, e, mm->swap_ctx))
        return ro & x;
    return r->rights & x;
}

/*
 * Mapped readahead: the pages a major swap-in reads ahead are mapped at
 * their gpas (through ept/'s mm_map_swapped, as a swap-in maps them) as soon as the
 * faulting page is, instead of waiting unmapped in the swap cache for a
 * minor fault each. Whether the guest used one is then read from the
 * stage-2 accessed bit, which the new leaf starts without:
 *
 *   hit   the bit is found set — at the next major fault (swap_ra_collect,
 *         a lookup, before the readahead policy plans its window, so the
 *         adaptive policy sees the previous window's hits in the guest's
 *         order), by reclaim aging the frame (test and clear), or a write
 *         fault on it (the cow path);
 *   miss  the page leaves memory unused: reclaim drops it, its gpa is
 *         unmapped, or it was never mapped and reclaim drops it cached.
 * Each readahead page is counted once: FRAME_READAHEAD is cleared by the
 * first verdict.
 *
 * Where to map: with the adaptive (gpa) policy the window is gpas, so each
 * page's gpa is known. Slot-keyed (cluster) readahead knows slots only;
 * reclaim records, per slot, the gpa page it wrote the slot from
 * (slot_page), and a page is mapped there only when that gpa's stage-2
 * entry still names exactly this slot and the slot has that one user. Any
 * other page stays in the cache as before (a minor fault maps it).
 *
 * Nothing here weakens what swap-in guarantees: only pages whose reads
 * succeeded and whose checksums matched are queued (swapin_major), and
 * mm_map_swapped refuses a frame still locked for I/O. The frames are
 * those the swap-in already took from the pool: no frame is added.
 */
#include "swap/swap.h"

void swap_note_slot_page(struct swap *sw, uint64_t slot, gpa_t gpa)
{
    uint64_t page = gpa >> PAGE_SHIFT;
    if (slot >= sw->slot_page_len)
        return;
    sw->slot_page[slot] = page < UINT32_MAX ? (uint32_t)(page + 1) : 0;
}

bool swap_slot_page(const struct swap *sw, uint64_t slot, gpa_t *gpa)
{
    if (slot >= sw->slot_page_len || sw->slot_page[slot] == 0)
        return false;
    *gpa = (gpa_t)(sw->slot_page[slot] - 1) << PAGE_SHIFT;
    return true;
}

void swap_ra_map(struct swap *sw)
{
    unsigned n = sw->ra_nwant;

    sw->ra_nwant = 0;
    sw->ra_ndone = 0;
    if (n == 0)
        return;
    mm_map_swapped_batch(sw->mm, sw->ra_want, n);
    for (unsigned i = 0; i < n; i++) {
        struct mm_swapped_map *m = &sw->ra_want[i];
        if (m->result < 0)
            continue; /* stays cached: a minor fault maps it */
        swap_area_put(&sw->area, swp_offset(m->e)); /* the entry is gone */
        sw->st.ra_mapped++;
        sw->ra_done[sw->ra_ndone++] = *m;
    }
}

/* The mapping ra_map made of m is still there, and its page unjudged. */
static bool still_pending(const struct mm_swapped_map *m)
{
    const struct frame *f = m->f;
    return (f->flags & FRAME_READAHEAD) && (f->flags & FRAME_SWAPCACHE) &&
           f->mapcount == 1 && f->rmap == m->gpa;
}

/* The leaf at m->gpa maps m->f and has its accessed bit. A lookup only:
 * this runs inside a fault resolution, which must not change the table;
 * the bit stays set for reclaim's aging, which will see the same use. */
static bool accessed(const struct swap *sw, const struct mm_swapped_map *m)
{
    struct s2_info e;
    s2pt_lookup(&sw->mm->s2, m->gpa, &e);
    return e.state == S2_PRESENT && e.size == PAGE_SIZE &&
           e.leaf_hpa == frame_hpa(sw->fp, m->f) && e.accessed;
}

/*
 * Did the guest walk through the previous window to reach gpa? It did when
 * gpa lies past the window's far end, on the side away from the old fault,
 * by at most RA_AUTO_STRIDE_MAX pages (the steps auto still calls a walk):
 * a sequential walk with readahead faults a window apart, not a page apart,
 * so note_walk's page-by-page test never sees it.
 */
static bool walked_through(const struct swap *sw, gpa_t gpa, unsigned n)
{
    gpa_t lo = sw->ra_fault, hi = sw->ra_fault;
    const gpa_t reach = (gpa_t)RA_AUTO_STRIDE_MAX * PAGE_SIZE;

    for (unsigned k = 0; k < n; k++) {
        gpa_t g = sw->ra_done[k].gpa;
        lo = g < lo ? g : lo;
        hi = g > hi ? g : hi;
    }
    if (gpa > hi)
        return hi > sw->ra_fault && gpa - hi <= reach;
    if (gpa < lo)
        return lo < sw->ra_fault && lo - gpa <= reach;
    return false;
}

/* Between the old fault and gpa: on the walk's way. */
static bool on_the_way(const struct swap *sw, gpa_t g, gpa_t gpa)
{
    return gpa > sw->ra_fault ? g > sw->ra_fault && g < gpa : g < sw->ra_fault && g > gpa;
}

/*
 * A page the walk went through: like the page a walk's major fault leaves
 * (swapin.c, note_walk), it goes to the inactive tail as FRAME_ONCE, the
 * last passed nearest the tail, and swapin_done forgets the walk's access
 * to it. A loop over more pages than there are frames then keeps what it
 * walked longest ago instead of evicting each page just before the next
 * pass needs it (docs/decisions.md, "Sequential swap-ins are reclaimed
 * first").
 */
static void passed(struct swap *sw, const struct mm_swapped_map *m)
{
    m->f->flags |= FRAME_ONCE;
    lru_move_tail(&sw->lru, m->f);
    sw->ra_passed[sw->ra_npassed++] = *m;
    sw->st.walk_passed++;
}

void swap_ra_collect(struct swap *sw, gpa_t gpa)
{
    unsigned n = sw->ra_ndone;

    sw->ra_ndone = 0;
    sw->ra_npassed = 0;
    sw->ra_walked = false;
    if (n == 0)
        return;
    sw->ra_walked = walked_through(sw, gpa, n);
    /* Nearest the old fault first: the order the guest's own walk
     * touched them in (down from the fault when the window lay below). */
    bool down = sw->ra_done[0].gpa < sw->ra_fault;
    for (unsigned k = 0; k < n; k++) {
        struct mm_swapped_map *m = &sw->ra_done[down ? n - 1 - k : k];
        if (!still_pending(m) || !accessed(sw, m))
            continue;
        swap_ra_used(sw, m->f);
        if (sw->ra_walked && on_the_way(sw, m->gpa, gpa))
            passed(sw, m);
    }
}

void swap_ra_used(struct swap *sw, struct frame *f)
{
    if (!(f->flags & FRAME_READAHEAD))
        return;
    f->flags &= ~FRAME_READAHEAD;
    ra_note_hit(&sw->ra, f->mapcount ? f->rmap >> PAGE_SHIFT : sw->ra.last_key);
}

void swap_ra_unused(struct swap *sw, struct frame *f)
{
    if (!(f->flags & FRAME_READAHEAD))
        return;
    f->flags &= ~FRAME_READAHEAD;
    ra_note_miss(&sw->ra);
}

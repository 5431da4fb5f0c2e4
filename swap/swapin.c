/*
 * Swap-in (Linux's swapin_readahead and the swap-cache half of
 * do_swap_page) and the other hooks the fault path calls (see swap.h and
 * ept/mm.h's mm_swap_hooks).
 *
 * Swap-in of the entry at gpa naming slot s hands the fault path a frame
 * holding s's data, which the fault path maps itself:
 *   - s cached: the cached frame (minor);
 *   - else: allocate a frame for s and for each readable slot of the
 *     readahead window (while more than the min watermark of frames is
 *     free), put them all in the swap cache locked, read them (contiguous
 *     slots in one request), verify every checksum, and hand back s's
 *     frame (major). Readahead pages stay cached, marked FRAME_READAHEAD
 *     until they are used (a hit) or dropped unused (a miss); once the
 *     faulting page is mapped, swapin_done maps each one whose gpa is
 *     known at that gpa (ra_map.c, where hits are told from misses by the
 *     accessed bit), the others wait unmapped for a minor fault. A
 *     readahead page that fails is dropped quietly (its fault will report
 *     it); the faulting page failing is the error.
 * Once the frame is mapped, swapin_mapped drops the entry's use of the
 * slot and counts the swap-in. A page whose entry was its slot's only user
 * (exclusive) comes in writable: clean, its stage-2 dirty bit telling
 * reclaim later whether the slot copy is still good (swap_cached_written
 * releases it when not); on a write fault the copy is released at once.
 * Other pages come in read-only: a write then goes through the cow path,
 * where write_cached releases the slot copy and the frame is reused.
 */
#include <string.h>

#include "swap/swap.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"

static struct swap *of(void *ctx) { return ctx; }

void swap_cache_drop(struct swap *sw, struct frame *f)
{
    uint64_t slot = f->swap_slot;
    f->flags &= ~FRAME_READAHEAD;
    swap_cache_remove(&sw->cache, sw->fp, slot); /* may free f */
    swap_area_set_cached(&sw->area, slot, false);
}

void swap_describe_error(const struct swap *sw, gpa_t gpa, int err, swp_entry_t e,
                         char *buf, size_t len)
{
    unsigned long long g = gpa & PAGE_MASK, slot = swp_offset(e);
    const char *dev = sw->area.dev ? sw->area.dev->name : "no device";
    const struct frame *f;

    switch (err) {
    case -PV_EINVAL:
        pv_snprintf(buf, len,
                    "swap: gpa 0x%llx: swap entry names slot %llu (type %u), which holds "
                    "no data",
                    g, slot, swp_type(e));
        return;
    case -PV_ECORRUPT:
        pv_snprintf(buf, len,
                    "swap: gpa 0x%llx: slot %llu on %s: checksum mismatch (stored 0x%08x): "
                    "page not handed to the guest",
                    g, slot, dev, swap_area_in_use(&sw->area, slot) ? sw->area.slot[slot].csum : 0);
        return;
    case -PV_EIO:
        /* A frame locked for I/O stays locked until the I/O is done, so
         * the slot still shows which of the two it was. */
        f = swap_cache_peek(&sw->cache, slot);
        if (f && (f->flags & FRAME_LOCKED))
            pv_snprintf(buf, len, "swap: gpa 0x%llx: slot %llu is under I/O during a fault",
                        g, slot);
        else
            pv_snprintf(buf, len,
                        "swap: gpa 0x%llx: slot %llu on %s: read error%s: page not handed "
                        "to the guest",
                        g, slot, dev,
                        sw->area.dev && sw->area.dev->failed ? " (the device has failed)" : "");
        return;
    default:
        pv_snprintf(buf, len, "swap: gpa 0x%llx: slot %llu on %s: swap-in failed (error %d)",
                    g, slot, dev, err);
        return;
    }
}

/* Log a refused swap-in; the fault outcome carries err and the entry. */
static int refuse(struct swap *sw, gpa_t gpa, int err, swp_entry_t e)
{
    char msg[SWAP_ERR_LEN];
    swap_describe_error(sw, gpa, err, e, msg, sizeof(msg));
    pv_err("%s", msg);
    return err;
}

/* A slot worth reading ahead: holds data some entry still needs, not
 * cached yet. */
static bool readable(const struct swap *sw, uint64_t slot)
{
    if (!swap_area_in_use(&sw->area, slot))
        return false;
    const struct swap_slot *sl = &sw->area.slot[slot];
    return sl->count > 0 && (sl->flags & SLOT_WRITTEN) && !(sl->flags & SLOT_CACHED);
}

/* Allocate a frame for slot, cache it locked and queue it in sw->io.
 * Returns false when no frame is left (or the cache is full). */
static bool queue_read(struct swap *sw, uint64_t slot, gpa_t gpa, unsigned *n)
{
    struct frame *f = frame_alloc(sw->fp, FRAME_GUEST);
    if (!f)
        return false;
    if (swap_cache_insert(&sw->cache, slot, f) < 0) {
        frame_put(sw->fp, f);
        return false;
    }
    frame_put(sw->fp, f); /* the cache's reference is the one left */
    swap_area_set_cached(&sw->area, slot, true);
    if (swap_area_exec(&sw->area, slot))
        f->flags |= FRAME_EXEC; /* was code: mapped executable (mm_exec_mask) */
    f->flags |= FRAME_LOCKED;
    sw->io[*n].slot = slot;
    sw->io[*n].buf = frame_va(sw->fp, f);
    sw->io[*n].result = 0;
    sw->io[*n].tag = gpa; /* swap_area_read sorts io by slot */
    (*n)++;
    return true;
}

static bool room_for_readahead(const struct swap *sw, unsigned n)
{
    return n < SWAP_IO_MAX && frame_free_count(sw->fp) > sw->wm.min;
}

/* Queue the readahead window's slots after the faulting one (io[0]). */
static void plan_readahead(struct swap *sw, gpa_t gpa, uint64_t slot, unsigned *n)
{
    struct guest_mm *mm = sw->mm;

    if (!ra_by_gpa(&sw->ra)) {
        struct ra_window w = ra_plan(&sw->ra, slot, 1, sw->area.npages);
        for (uint64_t s = w.start; s < w.end && room_for_readahead(sw, *n); s++)
            if (s != slot && readable(sw, s)) {
                gpa_t g;
                queue_read(sw, s, swap_slot_page(sw, s, &g) ? g : SWAP_GPA_NONE, n);
            }
        return;
    }
    const struct region *r = region_lookup(&mm->regions, gpa);
    uint64_t page = gpa >> PAGE_SHIFT;
    uint64_t lo = r ? r->start >> PAGE_SHIFT : page;
    uint64_t hi = r ? r->end >> PAGE_SHIFT : page + 1;
    struct ra_window w = ra_plan(&sw->ra, page, lo, hi);
    for (uint64_t p = w.start; p < w.end && room_for_readahead(sw, *n); p++) {
        if (p == page)
            continue;
        struct s2_info e;
        s2pt_lookup(&mm->s2, p << PAGE_SHIFT, &e);
        if (e.state != S2_SWAP || swp_type(e.swap) != sw->area.type)
            continue;
        uint64_t s = swp_offset(e.swap);
        if (readable(sw, s)) /* a slot named twice is cached after the first */
            queue_read(sw, s, p << PAGE_SHIFT, n);
    }
}

/* Read slot (and the readahead window) into the swap cache; hand back
 * slot's frame with a reference for the caller. */
static int swapin_major(struct swap *sw, gpa_t gpa, uint64_t slot, struct frame **out)
{
    unsigned n = 0;
    uint64_t reqs0 = sw->area.st.read_requests;

    swap_ra_collect(sw, gpa); /* the last window's hits, before this one is planned */
    sw->ra_nwant = 0;
    sw->ra_fault = gpa;
    if (!queue_read(sw, slot, gpa, &n))
        return -PV_ENOMEM;
    struct frame *f = swap_cache_lookup(&sw->cache, slot);
    plan_readahead(sw, gpa, slot, &n);
    swap_area_read(&sw->area, sw->io, n);

    int rc = 0;
    unsigned ahead = 0;
    for (unsigned i = 0; i < n; i++) {
        struct swap_io *x = &sw->io[i];
        struct frame *g = frame_of(sw->fp, va_hpa(x->buf));
        g->flags &= ~FRAME_LOCKED;
        if (x->slot == slot) {
            rc = x->result;
            if (rc < 0)
                swap_cache_drop(sw, g); /* never mapped: freed */
            continue;
        }
        if (x->result < 0) {
            swap_cache_drop(sw, g);
            continue;
        }
        g->flags |= FRAME_READAHEAD;
        lru_add(&sw->lru, g, LRU_INACTIVE);
        ahead++;
        /* Verified: worth mapping where its one entry is (swapin_done). */
        if (sw->map_ahead && x->tag != SWAP_GPA_NONE &&
            sw->area.slot[x->slot].count == 1) {
            struct mm_swapped_map *m = &sw->ra_want[sw->ra_nwant++];
            m->gpa = x->tag;
            m->e = swp_entry(sw->area.type, x->slot);
            m->f = g;
            m->result = 0;
        }
    }
    ra_note_io(&sw->ra, ahead, sw->area.st.read_requests - reqs0);
    if (rc < 0) {
        sw->ra_nwant = 0; /* no swapin_done follows */
        sw->st.in_errors++;
        return refuse(sw, gpa, rc, swp_entry(sw->area.type, slot));
    }
    /* Listed now whether or not the fault path manages to map it: if it
     * cannot (no rmap item / table page), the frame stays cached (the
     * retry is a minor fault) where reclaim can still drop it. */
    lru_add(&sw->lru, f, LRU_INACTIVE);
    frame_get(f);
    *out = f;
    return MM_SWAPIN_MAJOR;
}

static int hook_swapin(struct guest_mm *mm, gpa_t gpa, swp_entry_t e, struct frame **out,
                       void *ctx)
{
    struct swap *sw = of(ctx);
    uint64_t slot = swp_offset(e);
    (void)mm;

    gpa &= PAGE_MASK;
    if (swp_type(e) != sw->area.type || !swap_area_in_use(&sw->area, slot) ||
        sw->area.slot[slot].count == 0) {
        sw->st.in_errors++;
        return refuse(sw, gpa, -PV_EINVAL, e);
    }
    struct frame *f = swap_cache_lookup(&sw->cache, slot);
    if (!f)
        return swapin_major(sw, gpa, slot, out);
    /* Its write is in flight: wait for it. Written, the frame is a clean
     * cached copy; failed, it holds the only copy and is handed over as
     * it is (writeback restores the page's other gpas later). */
    if ((f->flags & FRAME_LOCKED) && wb_writing(sw, f))
        wb_wait(sw, f);
    if ((f->flags & FRAME_LOCKED) && !wb_holds(sw, f))
        return refuse(sw, gpa, -PV_EIO, e);
    frame_get(f);
    *out = f;
    return MM_SWAPIN_MINOR;
}

/* ---- the other fault-path hooks ---------------------------------------------- */

/*
 * Where a major swap-in's frame, mapped now, sits on the LRU: scan resistance
 * (docs/decisions.md, "Sequential swap-ins are reclaimed first"). A major
 * fault one page above or below the previous one continues a sequential
 * walk, and so does one just past the previous window when readahead
 * mapped that window's pages (ra_walked: swap_ra_collect, which also sends
 * the window's used pages the same way). For a walk over more pages than
 * there are frames, LRU order is the worst there is: each page is evicted
 * just before the walk's next pass needs it, so every page of every pass
 * is read. A walk's page therefore goes to the inactive tail, reclaimed
 * before older pages (most recently walked first, as a database's ring
 * buffer for a scan),
 * and the walk's own access to the page it just left is forgotten (its
 * accessed evidence cleared, by forget_left once the fault is resolved),
 * so that page stays only if the guest uses it again: it then gets its
 * second chance like any page, and leaves FRAME_ONCE when it reaches the
 * active list. The frame just faulted is protected as every fault's is
 * (sw->recent: install_frame set it). Other swap-ins stay at the inactive
 * head.
 */
static void note_walk(struct swap *sw, gpa_t gpa, struct frame *f)
{
    gpa_t prev = sw->walk_gpa;
    bool walk = sw->ra_walked || (prev != SWAP_GPA_NONE &&
                                  (gpa == prev + PAGE_SIZE || gpa + PAGE_SIZE == prev));

    sw->ra_walked = false;
    sw->walk_gpa = gpa;
    sw->walk_left = walk ? sw->walk_prev : NULL;
    sw->walk_left_gpa = prev;
    sw->walk_prev = NULL;
    if (!walk)
        return; /* stays at the inactive head (swapin_major) */
    f->flags |= FRAME_ONCE;
    lru_move_tail(&sw->lru, f);
    sw->walk_prev = f;
    sw->st.walk_ins++;
}

/* Forget the walk's access to f at gpa if f is still the walk's: mapped
 * only where the walk left it, not freed nor used again since (FRAME_ONCE). */
static void forget_walked(struct swap *sw, struct frame *f, gpa_t gpa)
{
    if (f && (f->flags & FRAME_ONCE) && f->mapcount == 1 && f->rmap == gpa)
        (void)mm_frame_referenced(sw->mm, f);
}

/* The walk left its previous page (note_walk) and went through the pages
 * of the previous window (swap_ra_collect): forget those accesses. Runs
 * from swapin_done, where the fault holds no lookup. */
static void forget_left(struct swap *sw)
{
    struct frame *left = sw->walk_left;

    sw->walk_left = NULL;
    forget_walked(sw, left, sw->walk_left_gpa);
    for (unsigned k = 0; k < sw->ra_npassed; k++)
        forget_walked(sw, sw->ra_passed[k].f, sw->ra_passed[k].gpa);
    sw->ra_npassed = 0;
}

static void hook_swapin_mapped(struct guest_mm *mm, struct frame *f, gpa_t gpa,
                               swp_entry_t e, bool minor, void *ctx)
{
    struct swap *sw = of(ctx);
    (void)mm;

    swap_area_put(&sw->area, swp_offset(e)); /* the entry is gone */
    if (!minor) {
        sw->st.ins++;
        note_walk(sw, gpa, f);
        return;
    }
    swap_ra_used(sw, f); /* mapped at gpa now: the hit's page */
    sw->st.ins_minor++;
}

static void hook_swapin_done(struct guest_mm *mm, gpa_t gpa, void *ctx)
{
    (void)mm;
    (void)gpa;
    forget_left(of(ctx));
    swap_ra_map(of(ctx));
}

static void hook_frame_added(struct guest_mm *mm, struct frame *f, gpa_t gpa, void *ctx)
{
    struct swap *sw = of(ctx);
    (void)mm;
    (void)gpa;
    if (!(f->flags & FRAME_LRU) && lru_eligible(f))
        lru_add(&sw->lru, f, LRU_INACTIVE);
    sw->recent = f;
}

static void hook_entry_dropped(struct guest_mm *mm, gpa_t gpa, swp_entry_t e, void *ctx)
{
    struct swap *sw = of(ctx);
    uint64_t slot = swp_offset(e);
    (void)mm;

    if (swp_type(e) != sw->area.type || !swap_area_in_use(&sw->area, slot) ||
        sw->area.slot[slot].count == 0) {
        pv_err("swap: unmap of gpa 0x%llx dropped an entry for slot %llu that holds nothing",
               (unsigned long long)gpa, (unsigned long long)slot);
        return;
    }
    /* The last entry gone and the cached copy unmapped: nobody can want it
     * (Linux's free_swap_and_cache). */
    struct frame *f = sw->area.slot[slot].count == 1 ? swap_cache_lookup(&sw->cache, slot)
                                                     : NULL;
    swap_area_put(&sw->area, slot);
    if (f && f->mapcount == 0 && !(f->flags & FRAME_LOCKED)) {
        swap_ra_unused(sw, f);
        sw->st.cache_dropped++;
        swap_cache_drop(sw, f);
    }
}

static void hook_cached_unmapped(struct guest_mm *mm, struct frame *f, gpa_t gpa, void *ctx)
{
    struct swap *sw = of(ctx);
    (void)mm;
    (void)gpa;
    uint64_t slot = f->swap_slot;
    if (f->mapcount != 0 || (f->flags & FRAME_LOCKED) || !swap_area_in_use(&sw->area, slot) ||
        sw->area.slot[slot].count != 0)
        return; /* still mapped elsewhere, or an entry still wants the data */
    swap_ra_unused(sw, f);
    sw->st.cache_dropped++;
    swap_cache_drop(sw, f); /* the unmapping leaf's reference keeps f until its put */
}

void swap_cached_written(struct swap *sw, struct frame *f)
{
    swap_ra_used(sw, f); /* a mapped readahead page written: used */
    if (f->mapcount != 1 || (f->flags & FRAME_LOCKED))
        return; /* shared: the writer gets a copy, the cached frame stays */
    swap_cache_drop(sw, f);
    f->flags |= FRAME_DIRTY;
    sw->st.released++;
}

static void hook_write_cached(struct guest_mm *mm, struct frame *f, gpa_t gpa, void *ctx)
{
    (void)mm;
    (void)gpa;
    swap_cached_written(of(ctx), f);
}

/* e is its slot's only user (f, the cached copy, maps nowhere yet: the
 * fault path checked): once e is replaced by f's leaf, no entry names the
 * slot, so no other gpa can be handed f and a writable leaf is safe. */
static bool hook_exclusive(struct guest_mm *mm, const struct frame *f, swp_entry_t e,
                           void *ctx)
{
    const struct swap *sw = of(ctx);
    uint64_t slot = swp_offset(e);
    (void)mm;
    return swp_type(e) == sw->area.type && swap_area_in_use(&sw->area, slot) &&
           sw->area.slot[slot].count == 1 && (f->flags & FRAME_SWAPCACHE) &&
           f->swap_slot == slot;
}

static size_t hook_reclaim(struct guest_mm *mm, bool urgent, void *ctx)
{
    (void)mm;
    return reclaim_direct(of(ctx), urgent);
}

const struct mm_swap_hooks swap_mm_hooks = {
    .swapin = hook_swapin,
    .swapin_mapped = hook_swapin_mapped,
    .swapin_done = hook_swapin_done,
    .frame_added = hook_frame_added,
    .entry_dropped = hook_entry_dropped,
    .write_cached = hook_write_cached,
    .exclusive = hook_exclusive,
    .cached_unmapped = hook_cached_unmapped,
    .reclaim = hook_reclaim,
};

void swap_on_free(struct frame_pool *fp, struct frame *f, void *ctx)
{
    struct swap *sw = of(ctx);
    (void)fp;
    if (f->flags & FRAME_SWAPCACHE)
        pv_err("swap: frame of slot %llu freed while cached",
               (unsigned long long)f->swap_slot);
    if (f == sw->recent)
        sw->recent = NULL;
    if (f == sw->walk_prev)
        sw->walk_prev = NULL;
    if (f == sw->walk_left)
        sw->walk_left = NULL;
    lru_del(&sw->lru, f);
}

/* Page reclaim: LRU aging and eviction (see reclaim.h for the policy). */
#include "swap/reclaim.h"

#include <string.h>

#include "swap/swap.h"
#include "vmm/lib/log.h"

#define WM_MIN_DIV 128u
#define WM_MIN_FLOOR 8u
#define WM_MIN_CEIL 4096u
#define WM_LOW_MUL 2u
#define WM_HIGH_MUL 3u
#define DIRECT_SCAN_PER_PAGE 8u /* direct reclaim looks at <= 8 frames per frame wanted */
#define SCAN_SLACK 64u
#define FULL_SCAN_PASSES 3u     /* urgent / forced: every listed frame, three looks */
#define DIRECT_BACKOFF 64u      /* direct calls skipped after one that freed nothing */

void reclaim_marks_for(size_t nframes, struct reclaim_marks *wm)
{
    size_t min = nframes / WM_MIN_DIV;
    if (min < WM_MIN_FLOOR)
        min = WM_MIN_FLOOR;
    if (min > WM_MIN_CEIL)
        min = WM_MIN_CEIL;
    wm->min = min;
    wm->low = WM_LOW_MUL * min;
    wm->high = WM_HIGH_MUL * min;
}

/* ---- looking at a frame -------------------------------------------------------- */

/* The gpas mapping f, or RECLAIM_MAX_MAPS + 1 when there are too many. */
static size_t mappings(const struct frame *f, gpa_t gpas[RECLAIM_MAX_MAPS])
{
    size_t n = frame_rmap_get(f, gpas, RECLAIM_MAX_MAPS);
    return n > RECLAIM_MAX_MAPS ? RECLAIM_MAX_MAPS + 1 : n;
}

/* The leaf at gpa is a 4 KiB leaf of f. */
static bool maps(const struct swap *sw, gpa_t gpa, const struct frame *f, struct s2_info *e)
{
    s2pt_lookup(&sw->mm->s2, gpa, e);
    return e->state == S2_PRESENT && e->size == PAGE_SIZE &&
           e->leaf_hpa == frame_hpa(sw->fp, f);
}

static bool page_is_zero(const void *page)
{
    const uint8_t *p = page;
    for (size_t i = 0; i < PAGE_SIZE; i += sizeof(uint64_t)) {
        uint64_t w;
        memcpy(&w, p + i, sizeof(w));
        if (w)
            return false;
    }
    return true;
}

/* ---- turning mappings into something else ---------------------------------------- */

/* Every mapping of f (cached, its slot holding the same data) -> a swap
 * entry for the slot, through ept/ (mm_unmap_frame). The slot's use count
 * is taken for every mapping first and given back for those not turned
 * into entries: a failure leaves f cached and mapped at the remaining
 * gpas, which is consistent. */
int reclaim_unmap_to_slot(struct swap *sw, struct frame *f)
{
    uint64_t slot = f->swap_slot;
    size_t n = f->mapcount, held = 0, done = 0;
    int rc = 0;

    if (n > 0)
        swap_note_slot_page(sw, slot, f->rmap); /* where readahead maps it back */
    if (f->flags & FRAME_EXEC)
        swap_area_mark_exec(&sw->area, slot); /* code again once read back */
    while (held < n && (rc = swap_area_dup(&sw->area, slot)) == 0)
        held++;
    if (rc == 0)
        rc = mm_unmap_frame(sw->mm, f, MM_UNMAP_SWAP, swp_entry(sw->area.type, slot), &done);
    for (size_t i = done; i < held; i++)
        swap_area_put(&sw->area, slot);
    if (rc < 0)
        pv_err("reclaim: cannot unmap gpa 0x%llx to slot %llu (%d)",
               (unsigned long long)f->rmap, (unsigned long long)slot, rc);
    return rc;
}

/* ---- write batches ------------------------------------------------------------- */

/* Write frames[0..n) and wait; unmap and free the ones that made it. */
static void write_sync(struct swap *sw, struct frame **frames, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sw->io[i].slot = frames[i]->swap_slot;
        sw->io[i].buf = frame_va(sw->fp, frames[i]);
        sw->io[i].result = 0;
    }
    swap_area_write(&sw->area, sw->io, (unsigned)n);
    for (size_t i = 0; i < n; i++) {
        struct frame *f = frame_of(sw->fp, va_hpa(sw->io[i].buf));
        f->flags &= ~FRAME_LOCKED;
        if (sw->io[i].result < 0) {
            /* Nothing was unmapped: the page stays resident, unchanged. */
            swap_cache_drop(sw, f);
            lru_add(&sw->lru, f, LRU_ACTIVE);
            sw->st.write_failed++;
            continue;
        }
        f->flags &= ~FRAME_DIRTY;
        gpa_t gpas[RECLAIM_MAX_MAPS];
        size_t nm = mappings(f, gpas);
        if (nm <= RECLAIM_MAX_MAPS && reclaim_unmap_to_slot(sw, f) == 0) {
            swap_cache_drop(sw, f); /* the last reference: freed */
            sw->st.outs++;
        } else {
            lru_add(&sw->lru, f, LRU_ACTIVE); /* clean and cached: cheap next time */
        }
    }
}

/* Write the queued frames: asynchronously where the device allows it
 * (writeback.c; a frame mapped at more than WB_MAPS gpas is written
 * synchronously), else synchronously. */
static void flush(struct swap *sw, size_t *nbatch)
{
    size_t n = *nbatch;
    if (n == 0)
        return;
    *nbatch = 0;
    if (!swap_area_async(&sw->area)) {
        write_sync(sw, sw->batch, n);
        return;
    }
    struct frame *many[WB_PAGES];
    size_t nmany = 0, nasync = 0;
    for (size_t i = 0; i < n; i++) {
        if (sw->batch[i]->mapcount > WB_MAPS)
            many[nmany++] = sw->batch[i];
        else
            sw->batch[nasync++] = sw->batch[i];
    }
    if (nmany)
        write_sync(sw, many, nmany);
    wb_flush(sw, sw->batch, nasync);
}

/* Pages one flush writes: a cluster's worth when writes go out
 * asynchronously (one request), else Linux's SWAP_CLUSTER_MAX. */
static size_t batch_max(const struct swap *sw)
{
    return swap_area_async(&sw->area) ? WB_PAGES : RECLAIM_BATCH;
}

/* Give f a slot and queue it for writing. */
static void queue_write(struct swap *sw, struct frame *f, size_t *nbatch)
{
    uint64_t slot;
    if (swap_area_alloc(&sw->area, &slot) < 0) {
        sw->st.swap_full++;
        lru_move(&sw->lru, f, LRU_ACTIVE);
        return;
    }
    if (swap_cache_insert(&sw->cache, slot, f) < 0) {
        swap_area_set_cached(&sw->area, slot, false);
        lru_move(&sw->lru, f, LRU_ACTIVE);
        return;
    }
    lru_del(&sw->lru, f); /* isolated while queued */
    f->flags |= FRAME_LOCKED;
    sw->batch[(*nbatch)++] = f;
}

/* ---- one frame from the inactive tail ------------------------------------------- */

/* The swap device is lost (its driver gave up on it): no page may leave
 * memory for it any more, neither by a write nor by dropping a clean copy
 * that could not be read back. Pages stay resident; zero pages can still
 * be given back. Said once. See docs/decisions.md, "Swap devices". */
static bool device_lost(struct swap *sw)
{
    if (!sw->area.dev || !sw->area.dev->failed)
        return false;
    if (!sw->dev_lost_noted) {
        sw->dev_lost_noted = true;
        pv_err("swap: %s has failed: swap-out stopped, pages stay resident; %llu slots "
               "still hold pages that can no longer come back",
               sw->area.dev->name, (unsigned long long)sw->area.used);
    }
    return true;
}

/*
 * Code is reclaimed last. Linux gives referenced VM_EXEC pages another
 * round on the active list; here a guest frame known to hold code
 * (FRAME_EXEC, ept/'s learn_exec) that reaches the inactive tail goes
 * back to the active list whether referenced or not, for as long as the
 * current reclaim_run has keeps left: a quarter of its scan budget (a
 * keep costs about two looks, this one and the aging that brings the
 * frame back), so that at least half the budget is left for other pages
 * and a guest whose memory is mostly code still gets frames reclaimed.
 * Aging treats code like any page (it moves to the inactive list when
 * not referenced): keeping it there too could leave the inactive list
 * empty with nothing but code on the active one, and the run without a
 * victim. A guest's code is a small share of its memory, and each page of
 * it evicted costs a synchronous swap-in on its next fetch
 * (docs/performance.md, "Code reclaimed last").
 */
static bool keep_code(struct swap *sw, const struct frame *f)
{
    if (!(f->flags & FRAME_EXEC) || sw->code_keeps == 0)
        return false;
    sw->code_keeps--;
    sw->st.code_kept++;
    return true;
}

static void shrink_one(struct swap *sw, struct frame *f, size_t *nbatch)
{
    struct lru *l = &sw->lru;
    gpa_t gpas[RECLAIM_MAX_MAPS];

    if (!lru_eligible(f) || (f->flags & FRAME_LOCKED)) {
        lru_del(l, f);
        return;
    }
    size_t n = mappings(f, gpas);
    if (n > RECLAIM_MAX_MAPS) {
        lru_move(l, f, LRU_ACTIVE);
        return;
    }
    if (n == 0) {
        if ((f->flags & FRAME_SWAPCACHE) && device_lost(sw)) {
            lru_move(l, f, LRU_ACTIVE); /* the only copy that can still be read */
        } else if (f->flags & FRAME_SWAPCACHE) {
            /* Only the cache holds it: readahead nobody used, or a page
             * whose gpa was unmapped. */
            swap_ra_unused(sw, f);
            sw->st.cache_dropped++;
            swap_cache_drop(sw, f);
        } else {
            lru_del(l, f); /* someone else's reference: not ours to evict */
        }
        return;
    }
    bool written = false;
    for (size_t i = 0; i < n; i++) {
        struct s2_info e;
        if (!maps(sw, gpas[i], f, &e)) {
            pv_err("reclaim: rmap says gpa 0x%llx maps frame 0x%llx but it does not",
                   (unsigned long long)gpas[i],
                   (unsigned long long)frame_hpa(sw->fp, f));
            lru_del(l, f);
            return;
        }
        written |= e.dirty;
    }
    /* A swapped-in page mapped writable (exclusive) that the guest wrote
     * since: its slot copy is stale. Read here, while the guest is stopped
     * (one vCPU) and before any unmapping: the dirty bit is only ever set
     * on a live leaf, never cleared, so it holds every write so far. */
    if (written && (f->flags & FRAME_SWAPCACHE))
        swap_cached_written(sw, f);
    if (mm_frame_referenced(sw->mm, f)) {
        swap_ra_used(sw, f);
        lru_move(l, f, LRU_ACTIVE);
        sw->st.referenced++;
        return;
    }
    if (f == sw->recent) {
        lru_move(l, f, LRU_ACTIVE);
        sw->st.referenced++;
        return;
    }
    if (keep_code(sw, f)) {
        lru_move(l, f, LRU_ACTIVE);
        return;
    }
    if (page_is_zero(frame_va(sw->fp, f))) {
        size_t done;
        if (mm_unmap_frame(sw->mm, f, MM_UNMAP_ZERO, 0, &done) < 0) {
            lru_move(l, f, LRU_ACTIVE);
            return;
        }
        swap_ra_unused(sw, f);
        if (f->flags & FRAME_SWAPCACHE)
            swap_cache_drop(sw, f);
        sw->st.zero_recovered++;
        return;
    }
    if (device_lost(sw)) {
        lru_move(l, f, LRU_ACTIVE);
        return;
    }
    if (f->flags & FRAME_SWAPCACHE) {
        if (reclaim_unmap_to_slot(sw, f) < 0) {
            lru_move(l, f, LRU_ACTIVE);
            return;
        }
        swap_ra_unused(sw, f); /* a mapped readahead page nobody touched */
        swap_cache_drop(sw, f);
        sw->st.clean_dropped++;
        return;
    }
    queue_write(sw, f, nbatch);
}

/* Age up to nr frames from the active tail. */
static void age_active(struct swap *sw, size_t nr, size_t *budget)
{
    struct lru *l = &sw->lru;
    gpa_t gpas[RECLAIM_MAX_MAPS];

    while (nr-- > 0 && *budget > 0) {
        struct frame *f = lru_tail(l, LRU_ACTIVE);
        if (!f)
            return;
        (*budget)--;
        sw->st.scanned++;
        if (!lru_eligible(f)) {
            lru_del(l, f);
            continue;
        }
        size_t n = mappings(f, gpas);
        bool used = n <= RECLAIM_MAX_MAPS && mm_frame_referenced(sw->mm, f);
        if (used)
            swap_ra_used(sw, f);
        if (used || (n <= RECLAIM_MAX_MAPS && f == sw->recent)) {
            lru_move(l, f, LRU_ACTIVE);
            sw->st.referenced++;
        } else {
            lru_move(l, f, LRU_INACTIVE);
            sw->st.deactivated++;
        }
    }
}

/* ---- entry points ---------------------------------------------------------------- */

/* Free frames plus frames whose write is in flight (free soon). */
static size_t coming(const struct swap *sw)
{
    return frame_free_count(sw->fp) + sw->wb.inflight;
}

size_t reclaim_run(struct swap *sw, size_t want, size_t budget)
{
    struct lru *l = &sw->lru;
    size_t free0 = frame_free_count(sw->fp), coming0 = coming(sw);
    size_t nbatch = 0, max = batch_max(sw);

    sw->code_keeps = budget / 4; /* keep_code */

    /* Progress counts frames freed, queued and in flight: an asynchronous
     * write frees its frames later (wb_harvest). */
    while (budget > 0 && coming(sw) + nbatch < coming0 + want) {
        if (l->len[LRU_INACTIVE] < l->len[LRU_ACTIVE])
            age_active(sw, RECLAIM_BATCH, &budget);
        struct frame *f = lru_tail(l, LRU_INACTIVE);
        if (!f || budget == 0)
            break;
        budget--;
        sw->st.scanned++;
        shrink_one(sw, f, &nbatch);
        if (nbatch == max)
            flush(sw, &nbatch);
    }
    flush(sw, &nbatch);
    size_t now = frame_free_count(sw->fp);
    size_t freed = now > free0 ? now - free0 : 0;
    sw->st.freed += freed;
    return freed;
}

size_t reclaim_adopt(struct swap *sw, size_t scan)
{
    struct frame_pool *fp = sw->fp;
    size_t added = 0;

    if (scan > fp->nframes)
        scan = fp->nframes;
    for (size_t k = 0; k < scan; k++) {
        struct frame *f = &fp->desc[sw->adopt_next];
        sw->adopt_next = (sw->adopt_next + 1) % fp->nframes;
        if ((f->flags & (FRAME_LRU | FRAME_LOCKED)) || !lru_eligible(f))
            continue;
        if (f->mapcount == 0 && !(f->flags & FRAME_SWAPCACHE))
            continue;
        lru_add(&sw->lru, f, LRU_INACTIVE);
        added++;
    }
    sw->st.adopted += added;
    return added;
}

static size_t full_budget(const struct swap *sw)
{
    return FULL_SCAN_PASSES * lru_total(&sw->lru) + SCAN_SLACK;
}

/* Settle finished writes (outside a fault); the frames that freed. */
static size_t harvest(struct swap *sw, bool wait)
{
    size_t free0 = frame_free_count(sw->fp);
    wb_harvest(sw, wait, false, NULL);
    size_t now = frame_free_count(sw->fp);
    size_t freed = now > free0 ? now - free0 : 0;
    sw->st.freed += freed;
    return freed;
}

/* The fault found no frame: adopt and scan everything, and wait for
 * writes in flight until one frees something (or none is left). */
static size_t urgent(struct swap *sw)
{
    sw->st.urgent++;
    size_t freed = harvest(sw, false);
    if (freed)
        return freed;
    reclaim_adopt(sw, sw->fp->nframes);
    size_t free = frame_free_count(sw->fp);
    size_t want = free + sw->wb.inflight < sw->wm.high ? sw->wm.high - free - sw->wb.inflight
                                                       : 1;
    freed = reclaim_run(sw, want, full_budget(sw));
    while (!freed && sw->wb.inflight) {
        size_t got = harvest(sw, true);
        freed += got;
        if (!got && !sw->wb.inflight)
            break;
    }
    return freed;
}

/*
 * Frames to start freeing now, up to high. With asynchronous writes only
 * once free + in flight fell below low, or a whole request's worth is
 * missing: kswapd's wake-up at low, so that requests stay large instead
 * of one page per fault.
 */
static size_t shortfall(const struct swap *sw)
{
    size_t c = coming(sw);
    if (c >= sw->wm.high)
        return 0;
    size_t gap = sw->wm.high - c;
    if (swap_area_async(&sw->area) && c >= sw->wm.low && gap < WB_PAGES)
        return 0;
    return gap;
}

size_t reclaim_direct(struct swap *sw, bool is_urgent)
{
    if (is_urgent)
        return urgent(sw);
    size_t freed = harvest(sw, false);
    size_t want = shortfall(sw);
    if (!want)
        return freed;
    if (sw->direct_backoff) {
        sw->direct_backoff--;
        return freed;
    }
    sw->st.direct++;
    uint64_t reqs0 = sw->wb.st.requests;
    freed += reclaim_run(sw, want, want * DIRECT_SCAN_PER_PAGE + SCAN_SLACK);
    if (freed == 0 && sw->wb.st.requests == reqs0)
        sw->direct_backoff = DIRECT_BACKOFF;
    return freed;
}

size_t reclaim_tick(struct swap *sw)
{
    sw->st.ticks++;
    size_t freed = harvest(sw, false);
    reclaim_adopt(sw, RECLAIM_ADOPT_SCAN);
    size_t want = shortfall(sw);
    return want ? freed + reclaim_run(sw, want, RECLAIM_TICK_SCAN) : freed;
}

size_t swap_reclaim(struct swap *sw, size_t frames)
{
    size_t free0 = frame_free_count(sw->fp);
    reclaim_adopt(sw, sw->fp->nframes);
    reclaim_run(sw, frames, full_budget(sw));
    size_t before = frame_free_count(sw->fp);
    wb_drain(sw); /* forced: report what the writes freed */
    size_t now = frame_free_count(sw->fp);
    if (now > before)
        sw->st.freed += now - before;
    return now > free0 ? now - free0 : 0;
}

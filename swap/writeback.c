/* Asynchronous swap-out: requests in flight, completion, restore (see writeback.h). */
#include "swap/writeback.h"

#include "swap/swap.h"
#include "vmm/lib/log.h"

#define NO_REQ WB_REQS

/* ---- looking things up ------------------------------------------------------------ */

static bool req_has(const struct wb_req *r, const struct frame *f)
{
    for (unsigned k = 0; k < r->n; k++)
        if (r->page[k].f == f)
            return true;
    return false;
}

bool wb_writing(const struct swap *sw, const struct frame *f)
{
    for (unsigned i = 0; i < WB_REQS; i++)
        if (sw->wb.req[i].state == WB_INFLIGHT && req_has(&sw->wb.req[i], f))
            return true;
    return false;
}

bool wb_holds(const struct swap *sw, const struct frame *f)
{
    for (unsigned i = 0; i < WB_REQS; i++)
        if (sw->wb.req[i].state != WB_FREE && req_has(&sw->wb.req[i], f))
            return true;
    return false;
}

static unsigned in_flight_reqs(const struct swap *sw)
{
    unsigned n = 0;
    for (unsigned i = 0; i < WB_REQS; i++)
        n += sw->wb.req[i].state == WB_INFLIGHT;
    return n;
}

/* ---- restoring a page whose write did not happen ---------------------------------- */

/*
 * Map p's frame again wherever its entries still name its slot (as a
 * swap-in would), give those entries' uses of the slot back, then
 * take the frame out of the swap cache: resident, listed active, or freed
 * when nobody maps or names it any more. bad: the slot failed a write and
 * is never used again. False (frame left locked and cached, data intact)
 * when a gpa could not be mapped yet (no rmap item / table page): tried
 * again at the next harvest.
 */
static bool restore(struct swap *sw, struct wb_page *p, bool bad)
{
    struct frame *f = p->f;
    swp_entry_t e = swp_entry(sw->area.type, p->slot);
    bool pending = false;

    f->flags &= ~FRAME_LOCKED; /* mm_map_swapped maps only unlocked frames */
    for (unsigned i = 0; i < p->nmaps; i++) {
        if (p->gpa[i] == SWAP_GPA_NONE)
            continue;
        int rc = mm_map_swapped(sw->mm, p->gpa[i], e, f);
        if (rc == 0)
            swap_area_put(&sw->area, p->slot);
        else if (rc != -PV_ENOENT) { /* -PV_ENOENT: faulted in or unmapped since */
            pending = true;
            continue;
        }
        p->gpa[i] = SWAP_GPA_NONE;
    }
    if (pending || sw->area.slot[p->slot].count) {
        if (!pending)
            pv_err("swap: slot %llu is still named by %u entries after its page was restored",
                   (unsigned long long)p->slot, (unsigned)sw->area.slot[p->slot].count);
        f->flags |= FRAME_LOCKED;
        return false;
    }
    if (bad) {
        pv_warn("swap: write of slot %llu on %s failed: slot marked bad; the page stays in "
                "memory", (unsigned long long)p->slot, sw->area.dev->name);
        swap_area_mark_bad(&sw->area, p->slot);
    }
    bool resident = f->mapcount > 0;
    swap_cache_drop(sw, f); /* freed here when nothing maps it */
    if (resident && !(f->flags & FRAME_LRU) && lru_eligible(f))
        lru_add(&sw->lru, f, LRU_ACTIVE);
    p->f = NULL;
    return true;
}

static void release(struct swap *sw, struct wb_req *r)
{
    r->state = WB_FREE;
    r->n = 0;
    sw->wb.busy--;
}

/* Restore what failed writes left (outside a fault). */
static void restore_pending(struct swap *sw)
{
    for (unsigned i = 0; i < WB_REQS; i++) {
        struct wb_req *r = &sw->wb.req[i];
        if (r->state != WB_RESTORE)
            continue;
        bool left = false;
        for (unsigned k = 0; k < r->n; k++)
            if (r->page[k].f && !restore(sw, &r->page[k], true))
                left = true;
        if (!left)
            release(sw, r);
    }
}

/* ---- completion ------------------------------------------------------------------- */

static void settle(struct swap *sw, struct wb_req *r, int result, bool in_fault,
                   struct frame *keep)
{
    struct swap_io io[WB_PAGES];
    bool left = false;

    for (unsigned k = 0; k < r->n; k++)
        io[k] = (struct swap_io){ r->page[k].slot, frame_va(sw->fp, r->page[k].f), 0, 0 };
    swap_area_write_done(&sw->area, io, r->n, result);
    sw->wb.inflight -= r->n;
    for (unsigned k = 0; k < r->n; k++) {
        struct wb_page *p = &r->page[k];
        struct frame *f = p->f;
        p->result = io[k].result;
        if (p->result == 0) {
            f->flags &= ~(FRAME_LOCKED | FRAME_DIRTY);
            sw->wb.st.written++;
            sw->st.outs++;
            p->f = NULL;
            if (f != keep && !f->mapcount)
                swap_cache_drop(sw, f); /* the last reference: freed */
            /* else wanted by the fault that waited: clean in the cache */
            continue;
        }
        sw->wb.st.failed++;
        sw->st.write_failed++;
        if (in_fault || !restore(sw, p, true))
            left = true;
    }
    if (left) {
        r->state = WB_RESTORE;
        return;
    }
    for (unsigned k = 0; k < r->n; k++)
        r->page[k].f = NULL;
    release(sw, r);
}

unsigned wb_harvest(struct swap *sw, bool wait, bool in_fault, struct frame *keep)
{
    struct blk_done done[WB_REQS];

    if (!in_fault)
        restore_pending(sw);
    if (!in_flight_reqs(sw))
        return 0;
    unsigned n = swap_area_poll(&sw->area, done, WB_REQS, wait);
    for (unsigned i = 0; i < n; i++) {
        uint64_t t = done[i].tag;
        if (t >= WB_REQS || sw->wb.req[t].state != WB_INFLIGHT) {
            pv_err("swap: %s finished write request %llu, which is not in flight",
                   sw->area.dev->name, (unsigned long long)t);
            continue;
        }
        settle(sw, &sw->wb.req[t], done[i].result, in_fault, keep);
    }
    return n;
}

void wb_wait(struct swap *sw, struct frame *f)
{
    sw->wb.st.waits++;
    while (wb_writing(sw, f))
        if (wb_harvest(sw, true, true, f) == 0)
            return; /* nothing came back: the caller finds f still locked */
}

void wb_drain(struct swap *sw)
{
    while (in_flight_reqs(sw))
        if (wb_harvest(sw, true, false, NULL) == 0)
            break;
    restore_pending(sw);
}

/* ---- submission ------------------------------------------------------------------- */

/* A free request, waiting for one to finish if all are busy; NO_REQ when
 * none can be had (all waiting to be restored). */
static unsigned get_req(struct swap *sw)
{
    for (;;) {
        for (unsigned i = 0; i < WB_REQS; i++)
            if (sw->wb.req[i].state == WB_FREE)
                return i;
        if (!in_flight_reqs(sw)) {
            restore_pending(sw);
            for (unsigned i = 0; i < WB_REQS; i++)
                if (sw->wb.req[i].state == WB_FREE)
                    return i;
            return NO_REQ;
        }
        sw->wb.st.full_waits++;
        if (wb_harvest(sw, true, false, NULL) == 0)
            return NO_REQ;
    }
}

/* r's pages are unmapped: submit them as one request. When the device
 * cannot take it, the request is written synchronously (page by page,
 * through swap_area_write_done's retry) and settled at once. */
static void submit(struct swap *sw, unsigned ri)
{
    struct wb_req *r = &sw->wb.req[ri];
    struct swap_io io[WB_PAGES];

    if (r->n == 0) {
        release(sw, r);
        return;
    }
    for (unsigned k = 0; k < r->n; k++)
        io[k] = (struct swap_io){ r->page[k].slot, frame_va(sw->fp, r->page[k].f), 0, 0 };
    r->state = WB_INFLIGHT;
    sw->wb.inflight += r->n;
    int rc;
    while ((rc = swap_area_write_submit(&sw->area, io, r->n, ri)) == -PV_ENOMEM &&
           in_flight_reqs(sw) > 1) {
        sw->wb.st.full_waits++; /* the device's ring is full: let one finish */
        if (wb_harvest(sw, true, false, NULL) == 0)
            break;
    }
    if (rc == 0) {
        sw->wb.st.requests++;
        sw->wb.st.pages += r->n;
        if (sw->wb.inflight > sw->wb.st.peak_pages)
            sw->wb.st.peak_pages = sw->wb.inflight;
        unsigned reqs = in_flight_reqs(sw);
        if (reqs > sw->wb.st.peak_reqs)
            sw->wb.st.peak_reqs = reqs;
        return;
    }
    sw->wb.st.sync_fallback++;
    settle(sw, r, rc, false, NULL);
}

/* Write fr[0..n), consecutive slots, with as few requests as possible. */
static void write_run(struct swap *sw, struct frame **fr, size_t n)
{
    while (n > 0) {
        unsigned ri = get_req(sw);
        if (ri == NO_REQ) {
            /* Nothing can be submitted: put the pages back as they were. */
            for (size_t k = 0; k < n; k++) {
                fr[k]->flags &= ~FRAME_LOCKED;
                swap_cache_drop(sw, fr[k]);
                lru_add(&sw->lru, fr[k], LRU_ACTIVE);
            }
            return;
        }
        struct wb_req *r = &sw->wb.req[ri];
        r->state = WB_INFLIGHT; /* taken; submit() finishes the job */
        r->n = 0;
        sw->wb.busy++;
        size_t k = 0;
        for (; k < n && r->n < WB_PAGES; k++) {
            struct wb_page *p = &r->page[r->n];
            struct frame *f = fr[k];
            gpa_t gpas[RECLAIM_MAX_MAPS];
            size_t nm = frame_rmap_get(f, gpas, RECLAIM_MAX_MAPS);
            p->f = f;
            p->slot = f->swap_slot;
            p->result = 0;
            p->nmaps = (uint8_t)(nm < WB_MAPS ? nm : WB_MAPS);
            for (unsigned i = 0; i < p->nmaps; i++)
                p->gpa[i] = gpas[i];
            if (nm <= WB_MAPS && reclaim_unmap_to_slot(sw, f) == 0) {
                r->n++;
                continue;
            }
            /* Could not be unmapped whole: map back what was and keep the
             * page (its slot is given back); the run goes on after it. */
            if (!restore(sw, p, false))
                pv_err("swap: frame of slot %llu could not be unmapped nor mapped back; "
                       "it stays in the swap cache", (unsigned long long)p->slot);
            k++;
            break;
        }
        r->state = WB_FREE;
        submit(sw, ri);
        fr += k;
        n -= k;
    }
}

static void sort_by_slot(struct frame **fr, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct frame *x = fr[i];
        size_t j = i;
        while (j > 0 && fr[j - 1]->swap_slot > x->swap_slot) {
            fr[j] = fr[j - 1];
            j--;
        }
        fr[j] = x;
    }
}

void wb_flush(struct swap *sw, struct frame **frames, size_t n)
{
    sort_by_slot(frames, n);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && j - i < WB_PAGES && frames[j]->swap_slot == frames[j - 1]->swap_slot + 1)
            j++;
        write_run(sw, frames + i, j - i);
        i = j;
    }
}

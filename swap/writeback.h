/*
 * Asynchronous swap-out (Linux's swap writeback under kswapd): reclaim's
 * dirty victims are written with several requests in flight while the
 * guest runs, and their frames are freed only when the write finished.
 * Used when the swap device offers blkdev submit / poll (virtio-blk);
 * otherwise reclaim writes synchronously as before (reclaim.c).
 *
 * One page's life, each step in a VM exit (the guest does not run during
 * any of them):
 *   1. reclaim picks it (reclaim.c): a slot, the swap cache (locked),
 *      off the LRU;
 *   2. wb_flush: pages are sorted by slot and cut into runs of consecutive
 *      slots (up to WB_PAGES: one request each); every mapping of each page
 *      becomes a swap entry for its slot (so the guest can no longer
 *      change the data), the gpas are remembered, the checksum recorded
 *      and the run submitted. The frame stays in the swap cache, locked:
 *      its data lives nowhere else yet;
 *   3. completion, harvested by wb_harvest at the next fault that needs
 *      frames, tick or reclaim (polling the device; no interrupt):
 *      - written: the slot is marked written, the frame leaves the cache
 *        and is freed (swap-out done);
 *      - failed (after a page-by-page retry, as the synchronous path
 *        does): the page is restored — each remembered gpa whose entry
 *        still names the slot is mapped to the frame again, as a swap-in
 *        would (mm_map_swapped), the slot is marked bad and the frame leaves the
 *        cache, resident and listed active. Nothing was freed.
 *   A fault on a page while its write is in flight (its entry names a
 *   slot whose cached frame is locked) waits for that request (wb_wait)
 *   and then takes the frame like a minor swap-in: a written page stays
 *   in the swap cache, clean; a failed one is handed to the fault as it is
 *   and restored (its other gpas) at the next harvest outside a fault,
 *   since the fault path allows mm_* calls only from the reclaim hook.
 *   A device lost with writes in flight answers each of them with an
 *   error: all those pages are restored.
 *
 * Bounds: WB_REQS requests, WB_PAGES pages each, WB_MAPS gpas per page
 * (reclaim writes pages with more mappings synchronously).
 */
#ifndef PV_SWAP_WRITEBACK_H
#define PV_SWAP_WRITEBACK_H

#include "ept/frame.h"
#include "vmm/drivers/blkdev.h"
#include "vmm/lib/types.h"

struct swap;

#define WB_REQS 8u              /* write requests in flight at most */
#define WB_PAGES BLK_MAX_SEGS   /* pages per request (one swap cluster) */
#define WB_MAPS 4u              /* gpas remembered per page */

enum wb_state {
    WB_FREE = 0,
    WB_INFLIGHT,                /* submitted, not finished */
    WB_RESTORE,                 /* finished; failed pages wait to be restored */
};

struct wb_page {
    struct frame *f;            /* NULL once settled */
    uint64_t slot;
    int result;                 /* the write's, once finished */
    uint8_t nmaps;
    gpa_t gpa[WB_MAPS];         /* where f was mapped (SWAP_GPA_NONE: settled) */
};

struct wb_req {
    uint8_t state;              /* enum wb_state */
    unsigned n;
    struct wb_page page[WB_PAGES];
};

struct wb_stats {
    uint64_t requests;          /* submitted without waiting */
    uint64_t pages;             /* pages in them */
    uint64_t written;           /* pages written and freed (or kept for a fault) */
    uint64_t failed;            /* pages whose write failed: restored */
    uint64_t waits;             /* faults that waited for a write in flight */
    uint64_t full_waits;        /* reclaim waited for a free request */
    uint64_t sync_fallback;     /* runs written synchronously (did not fit / no room) */
    uint64_t peak_pages;        /* most pages in flight at once */
    uint64_t peak_reqs;         /* most requests in flight at once */
};

struct writeback {
    struct wb_req req[WB_REQS];
    unsigned busy;              /* requests not WB_FREE */
    size_t inflight;            /* pages in WB_INFLIGHT requests */
    struct wb_stats st;
};

/* Write frames[0..n) (locked, cached under their slots, off the LRU, each
 * mapped at <= WB_MAPS gpas) asynchronously. Reclaim context only. */
void wb_flush(struct swap *sw, struct frame **frames, size_t n);

/*
 * Take finished writes from the device and settle them; wait: block until
 * at least one finished while any is in flight. in_fault: called from a
 * fault's swap-in (no mm_* call allowed): failed pages wait for a later
 * harvest to be restored, and keep (may be NULL), if written, stays in the
 * swap cache instead of being freed. Outside a fault, pages waiting to be
 * restored are restored first. Returns requests settled.
 */
unsigned wb_harvest(struct swap *sw, bool wait, bool in_fault, struct frame *keep);

/* f (locked in the swap cache) is being written by a request in flight. */
bool wb_writing(const struct swap *sw, const struct frame *f);

/* A fault wants f, which wb_writing: wait until its request finished. */
void wb_wait(struct swap *sw, struct frame *f);

/* Wait for every write in flight and settle everything (reclaim context). */
void wb_drain(struct swap *sw);

/* f is locked because writeback holds it (for swap_check). */
bool wb_holds(const struct swap *sw, const struct frame *f);

#endif

/*
 * Page reclaim (Linux's vmscan / kswapd for anonymous memory): keeps free
 * frames above watermarks by evicting guest frames from the inactive LRU.
 *
 * Watermarks on the pool's free frames, from its size n (frames):
 *   min  = clamp(n / 128, 8, 4096)   reserve: readahead never takes it
 *   low  = 2 * min                   below: direct reclaim before each fault
 *   high = 3 * min                   reclaim (direct or background) stops here
 *
 * Aging: a frame is "referenced" when any of its mappings was used since
 * the last look: the stage-2 accessed bit (test and clear) where the table
 * tracks A/D, else the rights-clearing fallback — a look finds the leaf's
 * rights restored (by the reprotect fault a use took) and takes them away
 * again (rights 0), so the next use faults once more. Reclaim takes frames
 * from the inactive tail: referenced ones go to the active head (second
 * chance), the rest are evicted. When the inactive list is shorter than the
 * active one, the active tail is aged: referenced frames rotate to the
 * active head, the rest move to the inactive head. New and swapped-in
 * frames start at the inactive head. Code (FRAME_EXEC) is reclaimed
 * last: at the inactive tail it goes back to the active list, referenced
 * or not, while the run has keeps left (keep_code in reclaim.c). The
 * frame the latest fault mapped counts as referenced: the access that
 * faulted has not been retried yet, so it has no accessed bit to show
 * (without this, direct reclaim before the next fault could evict it and
 * the vCPU would never make progress).
 *
 * Eviction of one frame, cheapest first:
 *   1. all zero           -> every mapping reads as zero again: untouched
 *                            (anon) or the shared zero frame (read-only; a
 *                            write takes cow-zero), no I/O;
 *   2. clean swap copy    -> (FRAME_SWAPCACHE, and no mapping's dirty bit
 *                            set: a set one releases the copy, then 3)
 *                            every mapping becomes a swap entry for its
 *                            slot, the frame is freed, no I/O;
 *   3. otherwise          -> a slot is allocated (clustered), the frame
 *                            enters the swap cache locked, and is written
 *                            with its batch (contiguous slots merged into one
 *                            request); once the write succeeded every mapping
 *                            becomes a swap entry (invalidated) and the frame
 *                            is freed. A failed write leaves the frame mapped
 *                            and unchanged (on the active list) and the slot
 *                            marked bad. No slot left: the frame stays.
 * A frame is never freed while its data exists nowhere else: the mappings
 * turn into swap entries only after the data is on the device (or in the
 * zero frame), and the frame goes back to the pool only after that.
 *
 * Shared frames (mapcount > 1, from same-page merging) are evicted whole:
 * every mapping gets the same swap entry and the slot's use count is the
 * mapcount; a swap-in of one gpa brings the frame into the swap cache where
 * the others find it (minor faults), so the sharing survives. Frames mapped
 * at more than RECLAIM_MAX_MAPS gpas are kept (activated).
 *
 * That is the synchronous path (a device with rw only, e.g. ATA): the
 * guest does not run during reclaim (it runs in a VM exit and waits for the
 * write), so no mapping can change between the write and the unmap. With a
 * device that takes requests asynchronously (virtio-blk) step 3 is
 * writeback.c's instead: batches of a whole cluster (WB_PAGES), every
 * mapping turned into a swap entry *before* the write is submitted (so the
 * guest, which runs while the write is in flight, cannot change the data),
 * the frame kept locked in the swap cache and freed only once the write
 * finished; a failed write maps the page back. The watermarks then count
 * frames under write as coming: below low (free + in flight) reclaim
 * submits up to high without waiting, between low and high it tops up a
 * whole request's worth at a time, and a fault waits for a write only when
 * no frame is free (urgent).
 *
 * The stage-2 side of aging and of every "mappings become ..." above is
 * ept/'s (mm_frame_referenced, mm_unmap_frame in ept/mm.h); reclaim keeps
 * the slot counts and the frames' lists.
 */
#ifndef PV_SWAP_RECLAIM_H
#define PV_SWAP_RECLAIM_H

#include <stddef.h>

#include "ept/frame.h"

struct swap;

#define RECLAIM_BATCH 32u       /* pages per write batch (Linux SWAP_CLUSTER_MAX) */
#define RECLAIM_MAX_MAPS 16u    /* gpas one evicted frame may have */
#define RECLAIM_TICK_SCAN 512u  /* LRU frames one background tick may look at */
#define RECLAIM_ADOPT_SCAN 1024u /* descriptors one tick checks for unlisted frames */

struct reclaim_marks {
    size_t min, low, high;
};

void reclaim_marks_for(size_t nframes, struct reclaim_marks *wm);

/*
 * Evict until want frames were freed or budget LRU frames were looked at.
 * Returns the frames freed.
 */
size_t reclaim_run(struct swap *sw, size_t want, size_t budget);

/*
 * The fault path's hook (mm_swap_hooks.reclaim): urgent false — free up to
 * high (bounded scan); urgent true — the fault found no frame: adopt every
 * unlisted frame and scan everything, twice if need be.
 */
size_t reclaim_direct(struct swap *sw, bool urgent);

/*
 * Background step (kswapd), for the hypervisor to call periodically (VMX
 * preemption timer, or rate-limited exits on SVM) and between guest runs:
 * puts unlisted guest frames on the LRU (a slice of the pool per call) and,
 * while free frames are below high, reclaims with a bounded scan
 * (RECLAIM_TICK_SCAN). Returns the frames freed.
 */
size_t reclaim_tick(struct swap *sw);

/* Put up to scan descriptors' worth of unlisted guest frames on the
 * inactive list, resuming where the last call stopped. Returns frames
 * listed. */
size_t reclaim_adopt(struct swap *sw, size_t scan);

#endif

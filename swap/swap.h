/*
 * Swap for one guest: ties the swap area (slots on a block device), the
 * swap cache, the readahead policy, the LRU lists and reclaim together and
 * plugs them into the guest's fault path (guest_mm's mm_swap_hooks, with
 * the swap object as swap_ctx, and the frame pool's on_free hook).
 *
 * Life cycle (the hypervisor, once the guest's mm exists):
 *     size_t len = swap_meta_size(mm->fp, dev);      // dev may be NULL
 *     void *meta = <len bytes, 8-byte aligned, from the heap>;
 *     rc = swap_init(&sw, mm, dev, meta, len, RA_CLUSTER, 8, err, sizeof(err));
 *     ... run the guest; call reclaim_tick(&sw) periodically ...
 *     swap_render_stats(&sw, emit, ctx);             // final stats block
 *     swap_destroy(&sw);
 * dev == NULL gives swap without a device: reclaim still recovers all-zero
 * pages, nothing is written. A device without a valid mkswap header is
 * refused (err names it; see swap_area.h).
 *
 * Faults then resolve as (swap/ hands the frame back, ept/ maps it):
 *   swap entry, slot cached   -> the cached frame (swap-in-minor)
 *   swap entry, not cached    -> read the slot and the readahead window into
 *                                the swap cache, checksums verified (swap-in).
 *                                With accessed bits, the verified readahead
 *                                pages are mapped at once too (ra_map.c: no
 *                                minor fault; hits and misses from the
 *                                accessed bit)
 *   either way the frame is mapped writable when the entry was its slot's
 *   only user (clean: reclaim releases the slot copy if the stage-2 dirty
 *   bit says it was written; a write fault releases it at once), else
 *   read-only, and a write then releases the slot copy and reuses the
 *   frame (cow-reuse).
 *   read error / bad checksum -> FAULT_ERROR, outcome.err -PV_EIO /
 *                                -PV_ECORRUPT, outcome.swap the entry (and
 *                                swap_describe_error() renders them with gpa,
 *                                slot and device); nothing is mapped, the
 *                                data stays on disk
 *   no frame, nothing to evict-> FAULT_OOM; swap_describe_oom() says why
 *
 * Not thread-safe: one vCPU; the caller serialises monitor access.
 */
#ifndef PV_SWAP_SWAP_H
#define PV_SWAP_SWAP_H

#include "ept/mm.h"
#include "vmm/drivers/blkdev.h"
#include "swap/lru.h"
#include "swap/readahead.h"
#include "swap/reclaim.h"
#include "swap/swap_area.h"
#include "swap/swap_cache.h"
#include "swap/writeback.h"

#define SWAP_TYPE 0u          /* the one swap area's type in entries */
#define SWAP_ERR_LEN 192u    /* room for swap_describe_error's lines */
#define SWAP_IO_MAX RA_MAX_PAGES /* pages one swap-in may read */
#define SWAP_GPA_NONE (~(gpa_t)0)

struct swap_stats {
    uint64_t outs;            /* pages written to swap and unmapped */
    uint64_t ins;             /* major swap-ins: faulting page read */
    uint64_t ins_minor;       /* swap-ins served by the swap cache */
    uint64_t zero_recovered;  /* all-zero pages given back (MM_UNMAP_ZERO) */
    uint64_t clean_dropped;   /* cached clean pages dropped without I/O */
    uint64_t cache_dropped;   /* unmapped cached pages freed (readahead, orphans) */
    uint64_t released;        /* slot copies released by a write (fault or dirty bit) */
    uint64_t write_failed;    /* pages kept resident: their write failed */
    uint64_t swap_full;       /* dirty pages kept: no slot left */
    uint64_t in_errors;       /* swap-ins refused: read error or bad checksum */
    uint64_t ra_mapped;       /* readahead pages mapped at once (no minor fault) */
    uint64_t direct, urgent, ticks; /* reclaim invocations */
    uint64_t freed;           /* frames freed by reclaim */
    uint64_t scanned;         /* LRU frames looked at */
    uint64_t referenced;      /* ... found referenced (second chance) */
    uint64_t code_kept;       /* ... kept because they hold code (FRAME_EXEC) */
    uint64_t walk_ins;        /* major swap-ins continuing a sequential walk (FRAME_ONCE) */
    uint64_t walk_passed;     /* readahead pages such a walk went through (FRAME_ONCE) */
    uint64_t deactivated;     /* active -> inactive */
    uint64_t adopted;         /* unlisted frames put on the LRU */
};

struct swap {
    struct guest_mm *mm;
    struct frame_pool *fp;
    struct swap_area area;
    struct swap_cache cache;
    struct ra_state ra;
    struct lru lru;
    struct reclaim_marks wm;
    struct swap_stats st;
    struct writeback wb;      /* asynchronous writes in flight (writeback.h) */
    size_t adopt_next;        /* reclaim_adopt's cursor */
    size_t direct_backoff;    /* direct reclaims to skip after a fruitless one */
    /* The frame the latest fault mapped: the access that faulted has not
     * completed yet (no accessed bit to show for it), so reclaim treats
     * it as referenced rather than evict it before the retry. */
    struct frame *recent;
    bool dev_lost_noted;      /* the "swap-out stopped" line was logged */
    size_t code_keeps;        /* code frames reclaim_run may still keep (reclaim.c) */
    /* Readahead pages are mapped at once (swap/ra_map.c) rather than left
     * in the cache for a minor fault. On when the table keeps accessed
     * bits (how their use is seen); tests may turn it off. */
    bool map_ahead;
    /* Per slot: 1 + the gpa page it was last written from, 0 unknown —
     * where slot-keyed (cluster) readahead maps a page; checked against
     * the table before use (slot_page_len entries). */
    uint32_t *slot_page;
    uint64_t slot_page_len;
    /* The latest major swap-in's readahead pages: to map (ra_want, filled
     * by swapin_major) and, once mapped, to look at for use (ra_done). */
    struct mm_swapped_map ra_want[SWAP_IO_MAX];
    unsigned ra_nwant;
    struct mm_swapped_map ra_done[SWAP_IO_MAX];
    unsigned ra_ndone;
    gpa_t ra_fault;           /* that swap-in's faulting gpa */
    /* The window's used pages a walk went through to reach this major
     * (swap_ra_collect), whose accesses swapin_done forgets; and whether
     * this major continues that walk (note_walk). */
    struct mm_swapped_map ra_passed[SWAP_IO_MAX];
    unsigned ra_npassed;
    bool ra_walked;
    /* The latest major swap-in's gpa (SWAP_GPA_NONE: none yet) and, when
     * it continued a walk, its frame; the walk's page it left (frame and
     * gpa), whose access swapin_done forgets (swapin.c, note_walk). */
    gpa_t walk_gpa, walk_left_gpa;
    struct frame *walk_prev, *walk_left;
    /* scratch for one swap-in / one write batch (kept off the stack) */
    struct swap_io io[SWAP_IO_MAX];
    struct frame *batch[WB_PAGES]; /* >= RECLAIM_BATCH */
};

/* Bytes of metadata swap_init needs for this pool and device (NULL: none). */
size_t swap_meta_size(const struct frame_pool *fp, const struct blkdev *dev);
/* The same from numbers: a pool of nframes frames, a device of dev_pages
 * 4 KiB pages when has_dev (see swap/mem_plan.h for the boot-time plan). */
size_t swap_meta_size_for(size_t nframes, bool has_dev, uint64_t dev_pages);

/*
 * Check dev's header, set everything up in meta and install the hooks into
 * mm and mm->fp. policy/ra_pages as for ra_set_policy (enum ra_policy
 * matches enum config_readahead; pass cfg->readahead_pages). Returns 0, or
 * -PV_EINVAL / -PV_EIO with one line in err (header problems as in
 * swap_area.h; "swap: metadata needs N bytes, got M"; "swap: bad readahead
 * policy"). Nothing is installed on failure.
 */
int swap_init(struct swap *sw, struct guest_mm *mm, struct blkdev *dev, void *meta,
              size_t meta_len, enum ra_policy policy, uint32_t ra_pages, char *err,
              size_t err_len);

/*
 * Uninstall the hooks and drop the swap cache and the LRU lists. Swap
 * entries left in the guest's table become unresolvable (FAULT_ERROR):
 * call it when the guest is gone (before or after mm_destroy).
 */
void swap_destroy(struct swap *sw);

/* Switch readahead at run time (the monitor's command). */
int swap_set_readahead(struct swap *sw, enum ra_policy policy, uint32_t pages);

/* Forced reclaim (the monitor's command): try to free frames frames. */
size_t swap_reclaim(struct swap *sw, size_t frames);

/*
 * Lines for the final stats block / the monitor, fixed shape:
 *   swap device NAME slots N used N bad N
 *   swap readahead POLICY
 *   swap outs N / swap ins N / swap ins-minor N             (one line each)
 *   swap readahead-pages N / swap readahead-hits N / swap readahead-misses N
 *   swap readahead-mapped N
 *   swap read-requests N / swap write-requests N
 *   swap zero-recovered N / swap clean-dropped N / swap cache-dropped N
 *   swap released N / swap write-errors N / swap read-errors N
 *   swap checksum-errors N / swap full N
 *   swap reclaim direct N urgent N ticks N freed N scanned N referenced N
 *   swap code-kept N   (LRU looks that kept a code frame, reclaim.h)
 *   swap walk-ins N passed N  (major swap-ins that continued a sequential
 *                       walk, and the readahead pages such a walk went
 *                       through: reclaimed first unless used again, swapin.c)
 *   swap lru active N inactive N cached N
 *   swap free N watermarks min N low N high N
 *   swap io-cycles read N write N   (TSC cycles the vCPU waited for I/O)
 *   swap writeback requests N pages N written N failed N waits N full-waits N
 *        sync N peak PAGES/REQUESTS inflight N  (asynchronous writes, writeback.h)
 */
void swap_render_stats(const struct swap *sw, emit_fn emit, void *ctx);

/*
 * One line for a swap-in the fault path refused: gpa and the outcome's err
 * and swap entry (fault_outcome.err / .swap), described from the slot's
 * state, which the refusal left as it was. The same line is logged when
 * the swap-in fails. E.g.
 *   "swap: gpa 0x1234000: slot 77 on virtio-blk 00:04.0: checksum mismatch
 *    (stored 0x1a2b3c4d): page not handed to the guest"
 *   "swap: gpa 0x1234000: slot 77 on ramdisk: read error: page not handed
 *    to the guest"
 *   "swap: gpa 0x1234000: swap entry names slot 77 (type 0), which holds no
 *    data"
 */
void swap_describe_error(const struct swap *sw, gpa_t gpa, int err, swp_entry_t e,
                         char *buf, size_t len);

/* One line for a FAULT_OOM pause: frames, free, swap use, what is left. */
void swap_describe_oom(const struct swap *sw, char *buf, size_t len);

/*
 * Consistency for tests: area, cache and LRU checks; every cached frame's
 * slot in use and flagged cached, mapped writable only as its slot's one
 * user where stage-2 dirty bits are kept (mm_swapped_rights); every swap entry
 * in the guest's regions names a used slot, and the slot counts add up to
 * the entries. Walks the whole guest: not for hot paths.
 */
bool swap_check(const struct swap *sw);

/* Internal (swapin.c): the mm hooks and helpers reclaim.c shares. */
extern const struct mm_swap_hooks swap_mm_hooks;
void swap_cache_drop(struct swap *sw, struct frame *f);
/* f, cached and mapped, was written (a write fault, or its stage-2 dirty
 * bit): a readahead page counts as used; the slot copy is released when f
 * has that one mapping (counted in released); f is dirty. */
void swap_cached_written(struct swap *sw, struct frame *f);
void swap_on_free(struct frame_pool *fp, struct frame *f, void *ctx);
/* (reclaim.c) Every mapping of f, cached under its slot with the same
 * data, becomes a swap entry for the slot; see reclaim.c. */
int reclaim_unmap_to_slot(struct swap *sw, struct frame *f);

/* Internal (ra_map.c): mapped readahead and its hit/miss feedback. */
/* Remember that slot holds the data of gpa's page (written from it). */
void swap_note_slot_page(struct swap *sw, uint64_t slot, gpa_t gpa);
/* Where slot's data was last mapped (a hint), or false. */
bool swap_slot_page(const struct swap *sw, uint64_t slot, gpa_t *gpa);
/* Map the pages swapin_major queued in ra_want (the swapin_done hook). */
void swap_ra_map(struct swap *sw);
/* Before the major fault at gpa plans its window: the previous window's
 * mapped pages the guest used since are readahead hits (accessed bits).
 * When gpa lies just past the window's far end, the guest walked through
 * it: its used pages go to the inactive tail as FRAME_ONCE (ra_passed,
 * ra_walked; swapin.c forgets their accesses once the fault is resolved). */
void swap_ra_collect(struct swap *sw, gpa_t gpa);
/* f, a readahead page, was used (referenced, written): a hit. */
void swap_ra_used(struct swap *sw, struct frame *f);
/* f, a readahead page, goes without having been used: a miss. */
void swap_ra_unused(struct swap *sw, struct frame *f);

#endif

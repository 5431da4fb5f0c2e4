/*
 * Frame pool: the host frames that may back guest memory and stage-2 tables.
 *
 * The boot path hands over up to FRAME_RANGES_MAX host ranges (as many as
 * the firmware's memory map needs: below and above the PCI hole, fragments)
 * plus a separate metadata area of frame_pool_meta_size() bytes; the
 * frames of all ranges form one descriptor array, in address order
 * (frame_pool_init_ranges). frame_pool_init() is the one-range form used by
 * tests: it carves the metadata out of the front of its range. One frame is
 * taken as the shared, permanently zero frame.
 *
 * Descriptor contract:
 *  - refcount: number of holders. Every stage-2 leaf that maps a frame holds
 *    one reference; so does any in-flight user (e.g. swap I/O later). A free
 *    frame has refcount 0. The zero frame is pinned and never freed.
 *  - mapcount + rmap: the guest-physical addresses whose stage-2 leaves map
 *    this frame (reverse map, like Linux's rmap/anon_vma). The zero frame and
 *    table frames keep no rmap.
 *  - swap_slot: SWAP_SLOT_NONE unless the frame is in the swap cache.
 *  - lru: links for the active/inactive lists (swap/ reclaim); the pool
 *    itself never touches them except to initialise them.
 *  - FRAME_TABLE frames: ept/s2pt.c keeps the number of non-empty entries of
 *    the table in mapcount (they have no rmap, rmap_more stays NULL).
 *
 * 2 MiB blocks: frame_alloc_2m() hands out 512 contiguous frames whose hpa is
 * 2 MiB aligned; only the head descriptor carries refcount/rmap, tails are
 * marked FRAME_HUGE_TAIL. frame_split_2m() turns such a block into 512
 * independent frames (each with refcount 1 and the rmap gpa+i*4K). Single
 * frame allocation prefers partly used 2 MiB blocks so that whole blocks
 * stay available for huge mappings.
 */
#ifndef PV_EPT_FRAME_H
#define PV_EPT_FRAME_H

#include "vmm/lib/list.h"
#include "vmm/lib/types.h"

#define SWAP_SLOT_NONE UINT64_MAX

/* frame flags */
#define FRAME_ZERO       (1u << 0)  /* the shared zero frame (pinned) */
#define FRAME_TABLE      (1u << 1)  /* a stage-2 table page */
#define FRAME_GUEST      (1u << 2)  /* holds guest data */
#define FRAME_HUGE_HEAD  (1u << 3)  /* first frame of a 2 MiB block */
#define FRAME_HUGE_TAIL  (1u << 4)  /* other frames of a 2 MiB block */
#define FRAME_DIRTY      (1u << 5)  /* contents differ from the swap copy (a writable
                                        swap-cache leaf: its dirty bit says it first) */
#define FRAME_LRU        (1u << 6)  /* on an LRU list */
#define FRAME_ACTIVE     (1u << 7)  /* on the active list (else inactive) */
#define FRAME_SWAPCACHE  (1u << 8)  /* in the swap cache (swap_slot valid) */
#define FRAME_LOCKED     (1u << 9)  /* I/O in flight: do not reclaim */
#define FRAME_PINNED     (1u << 10) /* never reclaim (e.g. DMA, boot data) */
#define FRAME_READAHEAD  (1u << 11) /* swap/: read ahead, not used yet */
#define FRAME_EXEC       (1u << 12) /* guest code: the guest fetched from it
                                        (guest_mm.learn_exec, ept/fault.c) */
#define FRAME_ONCE       (1u << 13) /* swap/: brought in by a sequential walk,
                                        not used since the walk passed it */

struct rmap_item {
    gpa_t gpa;
    struct rmap_item *next;
};

struct frame {
    uint32_t refcount;
    uint32_t flags;
    uint32_t mapcount;          /* entries in the reverse map */
    uint32_t pins;              /* mm_pin_page holds; FRAME_PINNED while > 0 */
    gpa_t rmap;                 /* first mapping gpa (valid if mapcount >= 1) */
    struct rmap_item *rmap_more; /* further gpas when mapcount > 1 */
    uint64_t swap_slot;
    struct list_node lru;
};

/* Most host ranges one pool is built from. */
#define FRAME_RANGES_MAX 32

struct hpa_range {
    hpa_t base;
    uint64_t size;
};

/*
 * One host range of the pool: frames [idx0, idx0 + n) of the descriptor
 * array live at first + (i - idx0) * 4K. slot0 is the allocator slot of
 * frame idx0 (see frame.c); segments are in address order, which is also
 * descriptor order and slot order.
 */
struct frame_seg {
    hpa_t first;
    size_t idx0, n;
    size_t slot0;
};

struct frame_pool {
    hpa_t base, end;            /* lowest and highest address handed over */
    hpa_t first;                /* hpa of frame 0 (page aligned) */
    size_t nframes;
    struct frame_seg seg[FRAME_RANGES_MAX];
    size_t nseg;
    struct frame *desc;         /* nframes descriptors */
    size_t nfree;
    size_t peak_used;           /* high-water mark of allocated frames */
    struct frame *zero;         /* the shared zero frame */
    /* allocator state: implementation-defined, see frame.c */
    uint64_t *bitmap;           /* 1 = allocated */
    uint16_t *block_used;       /* allocated frames per 2 MiB block */
    size_t nblocks;
    size_t hint;
    size_t npartial;            /* blocks with 0 < block_used < 512 */
    struct rmap_item *rmap_free;
    size_t rmap_cap, rmap_used;
    uint64_t allocs, frees, allocs_2m, failed;
    /*
     * Called by frame_put() when a frame (the head, for a 2 MiB block) is
     * about to return to the pool, before its descriptor is reset: swap/
     * takes it off its LRU list here. NULL (the default): nothing. A pool
     * hook, not one of guest_mm's mm_swap_hooks: frees come from every
     * frame_put (table pages, swap-cache drops), not only from guest_mm.
     * It must not allocate or put frames.
     */
    void (*on_free)(struct frame_pool *fp, struct frame *f, void *ctx);
    void *on_free_ctx;
};

/*
 * Bytes of metadata (descriptors, reverse-map items, allocator bitmap and
 * per-2M-block counters) for a pool of nframes frames built from at most
 * nranges host ranges, laid out from a 64-byte aligned address.
 */
size_t frame_pool_meta_size(size_t nframes, size_t nranges);

/*
 * Set up a pool of min(max_frames, pages in the ranges) frames over the
 * given host ranges (any order, page granular: partial pages at the ends are
 * left out; adjacent ranges are merged), with its metadata at meta
 * (64-byte aligned, at least frame_pool_meta_size(frames, nranges) bytes).
 * Returns -PV_EINVAL for overlapping ranges, more than FRAME_RANGES_MAX,
 * too little metadata room, or fewer than two frames (the zero frame and
 * one more).
 */
int frame_pool_init_ranges(struct frame_pool *fp, hpa_t meta, uint64_t meta_len,
                           const struct hpa_range *ranges, size_t nranges, size_t max_frames);

/*
 * Set up a pool over [base, base + size), metadata carved from its front.
 * Returns -PV_EINVAL when the range is too small to hold metadata, the zero
 * frame and at least one frame.
 */
int frame_pool_init(struct frame_pool *fp, hpa_t base, uint64_t size);
/* Same, with at most max_frames frames (the zero frame included): the
 * boot path makes the pool exactly as large as the configured `frames`
 * although its allocation is rounded up. */
int frame_pool_init_max(struct frame_pool *fp, hpa_t base, uint64_t size, size_t max_frames);

/* One frame, refcount 1, flags as given, contents undefined; NULL if none. */
struct frame *frame_alloc(struct frame_pool *fp, uint32_t flags);
/* Same, contents zeroed. */
struct frame *frame_alloc_zeroed(struct frame_pool *fp, uint32_t flags);
/* A whole free 2 MiB-aligned block (head returned, refcount 1, contents
 * undefined); NULL if no block is entirely free. */
struct frame *frame_alloc_2m(struct frame_pool *fp, uint32_t flags);

/* The cache line the scan below and frame_prefetch step by. */
#define CACHE_LINE_BYTES 64u

/*
 * True when the bytes at va read as zero; va 8-byte aligned, bytes a
 * multiple of ZERO_SCAN_STEP (ept/zero_scan.c). A clear that would write
 * zeros over zeros is skipped with it: under an emulator that runs a
 * string store one element at a time, and on a host that backs memory
 * on first touch (QEMU, KVM), reading a never-written block is cheaper and
 * maps only the host's zero page: the guest's own first write backs it, as
 * in a guest booted without pagevisor (with a huge page on Linux 6.18, as
 * measured: docs/performance.md; docs/decisions.md says why).
 */
#define ZERO_SCAN_STEP CACHE_LINE_BYTES
bool frame_bytes_zero(const void *va, size_t bytes);

/*
 * Hint the cache to start loading the bytes at va, a line at a time. A
 * copy out of a page nobody touched lately (a staged image page, a frame
 * shared after merging) waits on a miss per line; hinted before the frame
 * allocation and bookkeeping that come before the copy, those misses
 * overlap that work instead of following it (docs/performance.md, "The
 * copy's source hinted first"). A hint only: it cannot fault, orders
 * nothing, and correctness never depends on it; an emulator may drop it.
 */
static inline void frame_prefetch(const void *va, size_t bytes)
{
    for (size_t off = 0; off < bytes; off += CACHE_LINE_BYTES)
        __builtin_prefetch((const char *)va + off);
}

void frame_get(struct frame *f);
/* Drop one reference; at zero the frame (or the whole 2 MiB block, for a
 * head) returns to the pool and its rmap is released. Returns true when
 * freed. Never frees the zero frame. */
bool frame_put(struct frame_pool *fp, struct frame *f);

/* Break a 2 MiB block into independent 4 KiB frames (see above). */
void frame_split_2m(struct frame_pool *fp, struct frame *head);

/* Inline: the fault path converts between descriptors and addresses
 * several times per fault. Pools have few segments (one or two on most
 * machines), so a linear walk is the fast path. */
static inline hpa_t frame_hpa(const struct frame_pool *fp,
                              const struct frame *f)
{
    size_t idx = (size_t)(f - fp->desc);
    const struct frame_seg *s = fp->seg, *last = fp->seg + fp->nseg - 1;
    while (s < last && idx >= s->idx0 + s->n)
        s++;
    return s->first + (hpa_t)(idx - s->idx0) * PAGE_SIZE;
}
static inline void *frame_va(const struct frame_pool *fp, const struct frame *f)
{
    return hpa_va(frame_hpa(fp, f));
}
/* Descriptor of the pool frame containing hpa, or NULL if hpa is not in the
 * pool (staged images, passthrough ranges). For a tail frame of a 2 MiB
 * block this is the tail's own descriptor; frame_head() finds the head. */
static inline struct frame *frame_of(const struct frame_pool *fp, hpa_t hpa)
{
    for (size_t i = 0; i < fp->nseg; i++) {
        const struct frame_seg *s = &fp->seg[i];
        if (hpa < s->first)
            return NULL; /* segments ascend: below this one, in none */
        uint64_t k = (hpa - s->first) >> PAGE_SHIFT;
        if (k < s->n)
            return &fp->desc[s->idx0 + k];
    }
    return NULL;
}
struct frame *frame_head(const struct frame_pool *fp, struct frame *f);

size_t frame_free_count(const struct frame_pool *fp);
size_t frame_used_count(const struct frame_pool *fp);

/* Reverse map. add/del return -PV_ENOMEM (no rmap item left) / -PV_ENOENT. */
int frame_rmap_add(struct frame_pool *fp, struct frame *f, gpa_t gpa);
int frame_rmap_del(struct frame_pool *fp, struct frame *f, gpa_t gpa);
/* Copy up to max mapping gpas into out; returns mapcount. */
size_t frame_rmap_get(const struct frame *f, gpa_t *out, size_t max);
/* Drop every mapping gpa of f at once (its items back to the pool's free
 * list, mapcount 0): frame_put() of a frame's last reference does this. */
void frame_rmap_release(struct frame_pool *fp, struct frame *f);

/* Consistency check for tests: free counts, bitmap, block counters. */
bool frame_pool_check(const struct frame_pool *fp);

#endif

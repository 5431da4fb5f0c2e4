/*
 * The swap area on a block device, in the layout Linux's mkswap writes
 * (so users prepare the disk with mkswap and inspect it with standard
 * tools): page 0 holds the header — bootbits (1024 bytes), then
 * version (u32, 1), last_page (u32), nr_badpages (u32), uuid[16],
 * volume_name[16], padding, badpages[] (u32 each) — and the last 10 bytes
 * of page 0 are the signature "SWAPSPACE2". Slots are pages 1..last_page,
 * minus the bad pages.
 *
 * pagevisor never writes the header: a disk without a valid signature is
 * refused by name, never formatted.
 *
 * Slot allocator (swap_area.c), after Linux's swapfile.c:
 *  - Slot s is device page s (swap entry offset == page number), so slot 0
 *    (the header) and the header's bad pages are never handed out.
 *  - Slots are grouped in clusters of SWAP_CLUSTER_SLOTS. Allocation goes on
 *    in the current cluster, upwards from the last slot handed out, so
 *    pages reclaimed together get neighbouring slots and their writes merge
 *    into one request. When the current cluster has nothing free above the
 *    cursor a wholly free cluster is taken (searched round-robin); only when
 *    none is left do partly used clusters serve, again one at a time.
 *  - Per slot: a state (free / used / bad), a use count and a "cached" flag
 *    (like Linux's swap_map count and SWAP_HAS_CACHE): the count is the
 *    number of stage-2 swap entries naming the slot, cached means the swap
 *    cache holds a frame for it. A used slot returns to free when both are
 *    gone. A bad slot is never handed out again.
 *  - Per slot an in-memory checksum of the data last written (swap_csum),
 *    verified on every read: a mismatch is -PV_ECORRUPT and the caller never
 *    hands the page to the guest.
 *
 * Metadata lives in memory the caller provides (swap_area_meta_size()): no
 * allocation. Not thread-safe (one vCPU; the caller serialises).
 */
#ifndef PV_SWAP_SWAP_AREA_H
#define PV_SWAP_SWAP_AREA_H

#include "vmm/lib/types.h"
#include "vmm/drivers/blkdev.h"

#define SWAP_SIGNATURE "SWAPSPACE2"
#define SWAP_SIGNATURE_LEN 10
/* The pre-2.2 signature: recognised only to give a better message. */
#define SWAP_SIGNATURE_V0 "SWAP-SPACE"

/* Header field offsets in page 0 (Linux's union swap_header). */
#define SWAP_HDR_VERSION 1024u
#define SWAP_HDR_LAST_PAGE 1028u
#define SWAP_HDR_NR_BADPAGES 1032u
#define SWAP_HDR_UUID 1036u
#define SWAP_HDR_UUID_LEN 16u
#define SWAP_HDR_LABEL 1052u
#define SWAP_HDR_LABEL_LEN 16u
#define SWAP_HDR_BADPAGES 1536u
#define SWAP_HDR_SIGNATURE (PAGE_SIZE - SWAP_SIGNATURE_LEN)
#define SWAP_VERSION 1u
/* As many u32 as fit between badpages[] and the signature (Linux: 637). */
#define SWAP_MAX_BADPAGES ((SWAP_HDR_SIGNATURE - SWAP_HDR_BADPAGES) / 4u)

/* What a valid header says. badpages points into the caller's page buffer. */
struct swap_header_info {
    uint32_t last_page;       /* highest slot page */
    uint32_t nr_badpages;     /* entries in badpages[] */
    uint64_t nslots;          /* usable slots: last_page minus distinct bad pages */
    uint8_t uuid[SWAP_HDR_UUID_LEN];
    char label[SWAP_HDR_LABEL_LEN + 1];
    const uint8_t *badpages;  /* nr_badpages little-endian u32 */
};

/*
 * Read and check the header of dev (one page). On success fills *nslots
 * (usable page slots) and returns 0; else -PV_EINVAL / -PV_EIO with one
 * line in err naming the device and the problem, e.g.
 *   "virtio-blk 00:04.0: no swap signature (SWAPSPACE2) in the last 10
 *    bytes of page 0: prepare it with mkswap"
 *   "ata0-slave: swap header says 262143 pages but the disk has 1024"
 * The full list of messages is in swap_header.c. page_buf must hold
 * PAGE_SIZE bytes; err may be NULL / err_len 0.
 */
int swap_header_check(struct blkdev *dev, void *page_buf, uint64_t *nslots, char *err,
                      size_t err_len);

/* swap_header_check() that also fills *info (for swap_area_init). */
int swap_header_parse(struct blkdev *dev, void *page_buf, struct swap_header_info *info,
                      char *err, size_t err_len);

/* Bad page i of a parsed header (i < info->nr_badpages). */
uint32_t swap_header_badpage(const struct swap_header_info *info, uint32_t i);

/* ---- slots ------------------------------------------------------------- */

#define SWAP_CLUSTER_SLOTS 64u /* 256 KiB: one cluster fits one request */

enum swap_slot_state {
    SLOT_FREE = 0,
    SLOT_USED,
    SLOT_BAD,      /* listed by mkswap, failed a write, or page 0 */
};

#define SLOT_CACHED 0x1u /* the swap cache holds a frame for the slot */
#define SLOT_WRITTEN 0x2u /* csum holds the checksum of the data on disk */
#define SLOT_EXEC 0x4u    /* the page was guest code (FRAME_EXEC) when it left
                             memory: its frame is code again when read back */

/* 8 bytes per device page. */
struct swap_slot {
    uint32_t csum;
    uint16_t count;   /* stage-2 swap entries naming the slot */
    uint8_t state;    /* enum swap_slot_state */
    uint8_t flags;    /* SLOT_* */
};
#define SWAP_SLOT_COUNT_MAX UINT16_MAX

struct swap_area_stats {
    uint64_t allocs, frees, alloc_failed;
    uint64_t pages_written, write_requests, write_errors;
    uint64_t pages_read, read_requests, read_errors, csum_errors;
    uint64_t clusters_taken;  /* new clusters started */
    uint64_t read_cycles, write_cycles; /* TSC cycles spent waiting in requests */
    uint64_t async_writes;    /* write requests submitted without waiting */
};

struct swap_area {
    struct blkdev *dev;       /* NULL: an area with no slots (zero reclaim only) */
    unsigned type;            /* swap type stored in the entries */
    uint64_t npages;          /* last_page + 1: slots are indices 1..npages-1 */
    uint64_t nslots;          /* usable (not bad) slots */
    uint64_t used;            /* slots in state SLOT_USED */
    uint64_t bad;             /* bad slots, page 0 not counted */
    uint32_t sectors_per_page;
    struct swap_slot *slot;   /* npages entries */
    uint16_t *cl_free;        /* free slots per cluster */
    uint16_t *cl_good;        /* slots that are not bad, per cluster */
    uint64_t nclusters;
    uint64_t nwhole;          /* clusters with every good slot free */
    uint64_t cur;             /* current cluster, nclusters when none */
    uint64_t next;            /* next slot to look at in it */
    uint64_t scan;            /* where the next cluster search starts */
    struct swap_area_stats st;
};

/* Bytes of metadata an area of npages device pages (last_page + 1) needs. */
size_t swap_area_meta_size(uint64_t npages);

/*
 * Set up the allocator over a parsed header: every slot in 1..last_page
 * free except the header's bad pages. meta must be at least
 * swap_area_meta_size(info->last_page + 1) bytes, 8-byte aligned.
 * dev == NULL (info ignored) makes an area with no slots. Returns 0 or
 * -PV_EINVAL (meta too small / misaligned).
 */
int swap_area_init(struct swap_area *a, struct blkdev *dev, unsigned type,
                   const struct swap_header_info *info, void *meta, size_t meta_len);

/*
 * A free slot for a page entering the swap cache: returned with state used,
 * count 0 and SLOT_CACHED set (Linux's get_swap_page + SWAP_HAS_CACHE).
 * Returns 0 or -PV_ENOSPC.
 */
int swap_area_alloc(struct swap_area *a, uint64_t *slot);

/* True if slot is in the area and in use. */
bool swap_area_in_use(const struct swap_area *a, uint64_t slot);

/* One more / one fewer swap entry names slot. dup fails with -PV_ENOSPC
 * when the count would overflow, -PV_EINVAL for a slot not in use. */
int swap_area_dup(struct swap_area *a, uint64_t slot);
void swap_area_put(struct swap_area *a, uint64_t slot);
/* The swap cache took / dropped its frame for slot. */
void swap_area_set_cached(struct swap_area *a, uint64_t slot, bool cached);
/* The page leaving memory for slot is guest code (SLOT_EXEC, kept until
 * the slot is freed) / whether it was; false for a slot not in use. */
void swap_area_mark_exec(struct swap_area *a, uint64_t slot);
bool swap_area_exec(const struct swap_area *a, uint64_t slot);
/* A slot that must never be used again (write failed). Its count and cache
 * flag are dropped: nobody may read it. */
void swap_area_mark_bad(struct swap_area *a, uint64_t slot);

/*
 * Checksum kept per slot: the page's 512 little-endian 64-bit words in four
 * interleaved chains (lane k takes words k, k+4, ...; each step
 * lane = (lane ^ word) * odd constant), lanes seeded from the slot number,
 * combined the same way, then a 64-bit finaliser (murmur3 fmix64) folded to
 * 32 bits. Every step before the fold is a bijection, so a change confined
 * to one aligned 64-bit word always changes the 64-bit value; any corruption
 * goes unnoticed with probability about 2^-32. The slot seed also catches a
 * page read from (or written to) the wrong place.
 */
uint32_t swap_csum(uint64_t slot, const void *page);

/* One page of a batched transfer. */
struct swap_io {
    uint64_t slot;
    void *buf;                /* PAGE_SIZE bytes */
    int result;               /* out: 0, -PV_EIO, -PV_ECORRUPT */
    uint64_t tag;             /* the caller's, carried along (io is reordered) */
};

/*
 * Write io[0..n) (any order; contiguous slots are merged into one request
 * of up to BLK_MAX_SEGS segments). The checksum of every page written is
 * recorded. A failed request is retried page by page, so one bad sector
 * costs one slot: a page that still fails gets result -PV_EIO and its slot
 * is marked bad. Returns the pages written.
 */
unsigned swap_area_write(struct swap_area *a, struct swap_io *io, unsigned n);

/*
 * The asynchronous path (the device offers blkdev submit / poll):
 *
 * swap_area_write_submit starts writing io[0..n) — consecutive slots in
 * order, n <= BLK_MAX_SEGS — as one request and returns without waiting.
 * Each page's checksum is recorded now, so the page must not change until
 * the write finished; SLOT_WRITTEN is set only by swap_area_write_done.
 * Returns 0; -PV_ENOMEM (no room in the device now: poll, then try again);
 * -PV_EINVAL (no asynchronous path, or the run does not fit one device
 * request: use swap_area_write); -PV_EIO (the device is lost; nothing
 * started).
 *
 * swap_area_poll hands back finished requests (blkdev poll); the TSC time
 * a waiting poll spends counts as write wait (st.write_cycles).
 *
 * swap_area_write_done: the request that wrote io[0..n) finished with
 * result. 0: every slot holds its page (SLOT_WRITTEN). Else each page is
 * written again on its own, synchronously, as swap_area_write does; a page
 * that still fails gets result -PV_EIO and is counted, but its
 * slot is not marked bad here: entries may still name it, so the caller
 * marks it (swap_area_mark_bad) once it has given those back.
 */
int swap_area_write_submit(struct swap_area *a, const struct swap_io *io, unsigned n,
                           uint64_t tag);
unsigned swap_area_poll(struct swap_area *a, struct blk_done *done, unsigned max, bool wait);
void swap_area_write_done(struct swap_area *a, struct swap_io *io, unsigned n, int result);
/* The device offers the asynchronous path. */
bool swap_area_async(const struct swap_area *a);

/*
 * Read io[0..n) the same way (a failed merged request is retried page by
 * page) and verify each page against its slot's checksum: result 0,
 * -PV_EIO, or -PV_ECORRUPT (checksum mismatch, or a slot never written).
 * Returns the pages read and verified.
 */
unsigned swap_area_read(struct swap_area *a, struct swap_io *io, unsigned n);

/* Internal consistency (counts vs slot states) for tests. */
bool swap_area_check(const struct swap_area *a);

#endif

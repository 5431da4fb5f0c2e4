/*
 * A block device over a memory buffer the caller provides (a host test's
 * heap array, a file mapped by a test, or a RAM disk carved out of the
 * hypervisor's heap), with fault injection for tests:
 *   - fail the Nth read / write request from now (one shot),
 *   - fail every request touching a sector range (persistent bad sectors,
 *     reads, writes or both),
 *   - an inject callback consulted before every request (random failures
 *     in simulations),
 *   - corrupt stored data (flip bits) behind the swap layer's back,
 *   - an asynchronous mode (blkdev submit / poll): requests wait in the
 *     device until a poll finishes them, in submission order, reversed or
 *     at random, each poll finishing a random number of them (delays) or
 *     none while held; the data moves (and injection is consulted) when a
 *     request finishes, as a device's DMA would,
 *   - a lost device: every request fails from then on, those in flight
 *     included.
 * A failed request transfers nothing and returns -PV_EIO. Freestanding.
 */
#ifndef PV_SWAP_BLK_FILE_H
#define PV_SWAP_BLK_FILE_H

#include "vmm/lib/types.h"
#include "vmm/drivers/blkdev.h"

#define BLK_FILE_SECTOR 512u

/* Which requests a bad range affects. */
#define BLK_FAIL_READ 0x1u
#define BLK_FAIL_WRITE 0x2u

/* Return true to fail this request. */
typedef bool (*blk_inject_fn)(void *ctx, bool write, uint64_t sector, uint64_t nsectors);

#define BLK_FILE_MAX_ASYNC 16u  /* requests in flight at most in asynchronous mode */

enum blk_async_order { BLK_ASYNC_FIFO, BLK_ASYNC_REVERSE, BLK_ASYNC_RANDOM };

struct blk_file_req {
    bool write;
    uint64_t sector, tag;
    unsigned nsegs;
    struct blk_seg segs[BLK_MAX_SEGS];
};

struct blk_file {
    struct blkdev dev;
    uint8_t *data;
    uint64_t bytes;
    /* one-shot: the fail_*_in-th request from now fails (0 = none) */
    uint64_t fail_read_in, fail_write_in;
    /* persistent: requests touching [bad_lo, bad_hi) fail per bad_mode */
    uint64_t bad_lo, bad_hi;
    uint32_t bad_mode;
    blk_inject_fn inject;
    void *inject_ctx;
    /* requests seen (failed ones included), and failures injected */
    uint64_t read_reqs, write_reqs, injected;
    uint64_t flushes;
    /* asynchronous mode (blk_file_set_async) */
    unsigned max_async, npend;
    struct blk_file_req pend[BLK_FILE_MAX_ASYNC];
    enum blk_async_order order;
    unsigned delay_one_in;    /* a waitless poll finishes each request with 1/this odds; 0: all */
    bool hold;                /* a waitless poll finishes nothing; a waiting one one */
    uint64_t rng, submitted;
    uint64_t waited;          /* polls that had to wait (wait set, requests pending) */
};

/*
 * A device of bytes / sector_size sectors over data[0..bytes). name is
 * copied (truncated to the blkdev name field). Returns -PV_EINVAL when the
 * sector size is 0 or does not divide PAGE_SIZE.
 */
int blk_file_init(struct blk_file *b, void *data, uint64_t bytes, uint32_t sector_size,
                  const char *name);

/* Fail the n-th read / write request from now on (n >= 1; 0 cancels). */
void blk_file_fail_read_in(struct blk_file *b, uint64_t n);
void blk_file_fail_write_in(struct blk_file *b, uint64_t n);

/* Requests touching sectors [lo, hi) fail (mode BLK_FAIL_*; 0 clears). */
void blk_file_set_bad(struct blk_file *b, uint64_t lo, uint64_t hi, uint32_t mode);

/*
 * Asynchronous mode with up to max_inflight (<= BLK_FILE_MAX_ASYNC)
 * requests in flight, finished in `order`; delay_one_in > 1 makes a
 * waitless poll stop at each request with odds (n-1)/n; seed the random
 * order and delays. max_inflight 0: synchronous only (the default).
 */
void blk_file_set_async(struct blk_file *b, unsigned max_inflight, enum blk_async_order order,
                        unsigned delay_one_in, uint64_t seed);

/* The device is lost (dev.failed): every request fails from now on. */
void blk_file_lose(struct blk_file *b);

/* XOR mask into the byte at offset (no-op past the end). */
void blk_file_corrupt(struct blk_file *b, uint64_t offset, uint8_t mask);

#endif

/*
 * A block device over a memory buffer the caller provides (a host test's
 * heap array, a file mapped by a test, or a RAM disk carved out of the
 * hypervisor's heap), with fault injection for tests:
 *   - fail the Nth read / write request from now (one shot),
 *   - fail every request touching a sector range (persistent bad sectors,
 *     reads, writes or both),
 *   - an inject callback consulted before every request (random failures
 *     in simulations),
 *   - corrupt stored data (flip bits) behind the swap layer's back.
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

/* XOR mask into the byte at offset (no-op past the end). */
void blk_file_corrupt(struct blk_file *b, uint64_t offset, uint8_t mask);

#endif

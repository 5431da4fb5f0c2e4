/*
 * Block devices for swap: the one interface every driver implements
 * (virtio-blk over virtio-pci, ATA PIO, and a file-backed device for host
 * tests). Polled and synchronous from the caller's view: a call returns
 * when the whole request is done (drivers may keep several requests in
 * flight internally).
 *
 * A request is a run of consecutive sectors [sector, sector + total/ssize)
 * transferred to or from a list of segments (page buffers need not be
 * contiguous): readahead reads neighbouring swap slots into separate
 * frames with one request, and swap-out merges neighbouring slots' writes.
 */
#ifndef PV_SWAP_BLKDEV_H
#define PV_SWAP_BLKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLK_MAX_SEGS 64

struct blk_seg {
    void *buf;
    uint32_t len;             /* multiple of the sector size */
};

struct blkdev;

struct blkdev_ops {
    /* Returns 0, -PV_EIO (device error), -PV_EINVAL (out of range,
     * misaligned, too many segments). */
    int (*rw)(struct blkdev *d, bool write, uint64_t sector, const struct blk_seg *segs,
              unsigned nsegs);
    int (*flush)(struct blkdev *d);
};

struct blkdev {
    const struct blkdev_ops *ops;
    char name[32];            /* "virtio-blk 00:04.0", "ata0-slave", "file" */
    uint64_t sectors;         /* capacity in sectors */
    uint32_t sector_size;     /* bytes, normally 512 */
    void *priv;               /* the driver's state */
    /* Set once by the driver when the device is lost (timeout, reset,
     * protocol violation): every later request fails with -PV_EIO without
     * touching the device. Never cleared: see docs/decisions.md. */
    bool failed;
    /* counters kept by the drivers */
    uint64_t reads, writes, sectors_read, sectors_written, errors;
};

static inline int blk_read(struct blkdev *d, uint64_t sector, void *buf, uint32_t len)
{
    struct blk_seg s = { buf, len };
    return d->ops->rw(d, false, sector, &s, 1);
}

static inline int blk_write(struct blkdev *d, uint64_t sector, const void *buf, uint32_t len)
{
    struct blk_seg s = { (void *)buf, len };
    return d->ops->rw(d, true, sector, &s, 1);
}

#endif

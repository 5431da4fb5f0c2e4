/*
 * Block devices for swap: the one interface every driver implements
 * (virtio-blk over virtio-pci, ATA PIO, and a file-backed device for host
 * tests). Polled. rw is synchronous from the caller's view: a call returns
 * when the whole request is done (drivers may keep several requests in
 * flight internally). Drivers that can also leave requests in flight
 * (virtio-blk; the host test device) offer submit / poll: submit starts
 * one request and returns at once, poll hands back finished ones. Both
 * paths may be used at the same time: an rw call that meets completions
 * of submitted requests keeps them for the next poll.
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

/* One finished submitted request (blkdev_ops.poll). */
struct blk_done {
    uint64_t tag;             /* submit's tag */
    int result;               /* 0, or -PV_EIO: the data is not known to be there */
};

struct blkdev_ops {
    /* Returns 0, -PV_EIO (device error), -PV_EINVAL (out of range,
     * misaligned, too many segments). */
    int (*rw)(struct blkdev *d, bool write, uint64_t sector, const struct blk_seg *segs,
              unsigned nsegs);
    int (*flush)(struct blkdev *d);
    /*
     * Optional (NULL: rw only). Start one request without waiting for it;
     * the segments' buffers must stay as they are until poll returns its
     * completion (the device reads or writes them meanwhile). Returns 0
     * (in flight), -PV_ENOMEM (no room now: poll, then try again),
     * -PV_EINVAL (out of range, misaligned, or more than one device
     * request can carry: use rw), -PV_EIO (the device is lost; nothing
     * started).
     */
    int (*submit)(struct blkdev *d, bool write, uint64_t sector, const struct blk_seg *segs,
                  unsigned nsegs, uint64_t tag);
    /*
     * Up to max completions of submitted requests into done[], in the
     * order the device finished them (not the order submitted); with wait,
     * blocks until there is at least one while any request is in flight.
     * Returns the completions handed back. A device found lost completes
     * every request still in flight with -PV_EIO, so nothing submitted is
     * ever left without an answer.
     */
    unsigned (*poll)(struct blkdev *d, struct blk_done *done, unsigned max, bool wait);
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

/*
 * virtio-blk (virtio 1.0 section 5.2) over the modern virtio-pci transport,
 * polled, behind swap/blkdev.h. One request queue; a blkdev request is cut
 * into device requests that respect seg_max / size_max, and those are
 * submitted together and completed by polling the used ring (several in
 * flight). The asynchronous path (blkdev submit / poll) puts one device
 * request on the ring per submit and returns; its completion is kept when
 * a synchronous request's wait meets it, and handed back by poll. Request
 * slots (header + status) are shared by both paths: owner[] says whose
 * each one is. A device that does not answer within the timeout, or that was
 * reset or asks for a reset while requests are in flight, is marked
 * FAILED (bd.failed) and every later request fails with -PV_EIO at once:
 * the swap core must not trust a device it lost track of.
 *
 * Sector numbers and capacity are in 512-byte units whatever the device's
 * logical block size; requests must be aligned to that block size.
 */
#ifndef PV_SWAP_VIRTIO_BLK_H
#define PV_SWAP_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/drivers/blkdev.h"
#include "vmm/drivers/virtio_pci.h"

/* Feature bits (virtio-blk). */
#define VIRTIO_BLK_F_SIZE_MAX (1ull << 1)
#define VIRTIO_BLK_F_SEG_MAX (1ull << 2)
#define VIRTIO_BLK_F_RO (1ull << 5)
#define VIRTIO_BLK_F_BLK_SIZE (1ull << 6)
#define VIRTIO_BLK_F_FLUSH (1ull << 9)

/* Device configuration (struct virtio_blk_config) offsets. */
#define VIRTIO_BLK_CFG_CAPACITY 0x00
#define VIRTIO_BLK_CFG_SIZE_MAX 0x08
#define VIRTIO_BLK_CFG_SEG_MAX 0x0C
#define VIRTIO_BLK_CFG_BLK_SIZE 0x14
#define VIRTIO_BLK_CFG_MIN_LEN 0x18u

/* Request types and status values. */
#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_T_GET_ID 8u
#define VIRTIO_BLK_ID_BYTES 20u       /* GET_ID's answer: the serial, NUL padded */
#define VIRTIO_BLK_S_OK 0u
#define VIRTIO_BLK_S_IOERR 1u
#define VIRTIO_BLK_S_UNSUPP 2u

#define VIRTIO_BLK_SECTOR 512u
/* Entries; the device's size is capped to this. 256 lets three requests of
 * 64 pages (66 descriptors each) be in flight at once. */
#define VIRTIO_BLK_QUEUE_MAX 256u
#define VIRTIO_BLK_MAX_INFLIGHT 32u   /* device requests in flight at once */
/* Without any completion for this long the device is declared lost (see
 * docs/decisions.md, "Swap devices"): long enough for a busy host's disk,
 * short enough that the guest does not sit frozen. A warning is logged
 * after a VIRTIO_BLK_SLOW_DIV-th of it so even a slow success is not
 * silent, and the device status is read every VIRTIO_BLK_STATUS_POLL_MS so
 * that a device reset under the hypervisor fails the request at once. */
#define VIRTIO_BLK_TIMEOUT_MS 5000u
#define VIRTIO_BLK_SLOW_DIV 5u
#define VIRTIO_BLK_STATUS_POLL_MS 10u
#define VIRTIO_BLK_STATUS_UNSET 0xFFu /* written before submission */

struct virtio_blk_hdr {               /* struct virtio_blk_req's header */
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

/* Per request in flight: what the device reads and writes besides data. */
struct virtio_blk_slot {
    struct virtio_blk_hdr hdr;
    uint8_t status;
};

/* One device request of a batch. */
struct virtio_blk_io {
    uint32_t type;                   /* VIRTIO_BLK_T_IN / _OUT / _FLUSH */
    uint64_t sector;
    const struct blk_seg *segs;      /* none for a flush */
    unsigned nsegs;
    int result;                      /* set by the batch: 0 or -PV_EIO */
};

/* owner[] of a request slot: free, an asynchronous request, or (>= 0) the
 * index of a synchronous batch's io. */
#define VIRTIO_BLK_OWNER_FREE (-1)
#define VIRTIO_BLK_OWNER_ASYNC (-2)

/* What an asynchronous request needs at completion (the caller's segment
 * list is not kept). */
struct virtio_blk_async {
    uint64_t tag;
    uint64_t sector;
    uint64_t sectors;
    uint32_t type;
};

struct virtio_blk {
    struct blkdev bd;                /* bd.priv points back here */
    struct virtio_pci vp;
    struct virtio_queue q;
    uint64_t features;               /* accepted */
    uint32_t seg_max;                /* data descriptors per request */
    uint32_t size_max;               /* bytes per data descriptor; 0: no limit */
    uint32_t blk_size;               /* logical block in bytes (>= 512) */
    struct virtio_blk_slot *slots;   /* VIRTIO_BLK_MAX_INFLIGHT of them, DMA memory */
    /* Notify the device (virtio_queue_kick; host tests play the device here). */
    void (*kick)(struct virtio_blk *vb);
    void *kick_ctx;
    uint32_t timeout_ms;
    bool broken;
    int16_t owner[VIRTIO_BLK_MAX_INFLIGHT];          /* VIRTIO_BLK_OWNER_* or io index */
    struct virtio_blk_async async[VIRTIO_BLK_MAX_INFLIGHT]; /* per slot owned async */
    unsigned async_inflight;
    uint64_t next_status;     /* a waitless poll reads the device status after this */
    /* finished asynchronous requests not yet handed back by poll (FIFO) */
    struct blk_done done[VIRTIO_BLK_MAX_INFLIGHT];
    unsigned done_head, ndone;
};

/*
 * Bring up the virtio-blk function at a: capabilities, features
 * (VERSION_1 required; SEG_MAX, SIZE_MAX, BLK_SIZE, FLUSH taken when
 * offered), queue 0, DRIVER_OK, capacity. Returns 0; -PV_ENOENT when a is
 * not a virtio-blk function; -PV_EINVAL / -PV_EIO / -PV_ENOMEM with one
 * line in err starting with the device name, e.g.
 *   "virtio-blk 00:04.0: no VIRTIO_F_VERSION_1 (legacy device); use disable-legacy=on"
 */
int virtio_blk_init(struct virtio_blk *vb, struct pci_addr a, char *err, size_t err_len);

/*
 * Finish a device whose queue, slots, limits and kick are set: fill the
 * blkdev (ops, capacity in 512-byte sectors, priv). Used by init and by
 * host tests that play the device.
 */
void virtio_blk_bind(struct virtio_blk *vb, uint64_t capacity);

/*
 * Chain for one request: header, its data segments (each cut into pieces
 * of at most size_max bytes, 0: uncut), status. Returns the number of
 * buffers, or -PV_EINVAL when more than max are needed. Pure.
 */
int virtio_blk_chain(const struct virtio_blk_io *io, uint64_t hdr_addr, uint64_t status_addr,
                     uint32_t size_max, struct vring_buf *bufs, unsigned max);

/*
 * Submit ios[0..n) together (as many as the queue holds at a time) and poll
 * until all are done. Each io's result is set; returns 0 if all succeeded,
 * -PV_EINVAL (nothing submitted) for an io that is out of range, misaligned
 * or needs more than seg_max data descriptors, else -PV_EIO.
 */
int virtio_blk_submit(struct virtio_blk *vb, struct virtio_blk_io *ios, unsigned n);

/*
 * The asynchronous path (blkdev_ops submit / poll; see blkdev.h): one
 * device request per submit, at most VIRTIO_BLK_MAX_INFLIGHT and what the
 * ring's descriptors hold at a time.
 */
int virtio_blk_submit_async(struct virtio_blk *vb, bool write, uint64_t sector,
                            const struct blk_seg *segs, unsigned nsegs, uint64_t tag);
unsigned virtio_blk_poll(struct virtio_blk *vb, struct blk_done *done, unsigned max, bool wait);

/*
 * The device's serial (GET_ID; QEMU's -device virtio-blk-pci,serial=) into
 * id[0..VIRTIO_BLK_ID_BYTES], NUL-terminated. 0, or -PV_EIO when the
 * device does not answer it.
 */
int virtio_blk_get_id(struct virtio_blk *vb, char id[VIRTIO_BLK_ID_BYTES + 1]);

#endif

/*
 * The guest's virtio block device (virtio 1.x section 5.2), transport
 * independent: features, device configuration, and serving one request
 * chain against a backing struct blkdev (vmm/drivers/blkdev.h) through a
 * bounce buffer. Guest pages are reached through vdev_dma.h (pinned for the
 * whole transfer); the disk is only ever given the bounce buffer, so an
 * unaligned or scattered guest buffer is never a driver problem.
 */
#ifndef PV_VDEV_VBLK_H
#define PV_VDEV_VBLK_H

#include "vmm/drivers/blkdev.h"
#include "vmm/vdev/vdev_dma.h"

/* Feature bits (virtio 1.x 5.2.3 and 6). */
#define VBLK_F_SIZE_MAX (1ull << 1)
#define VBLK_F_SEG_MAX (1ull << 2)
#define VBLK_F_RO (1ull << 5)
#define VBLK_F_BLK_SIZE (1ull << 6)
#define VBLK_F_FLUSH (1ull << 9)
#define VDEV_F_INDIRECT_DESC (1ull << 28)
#define VDEV_F_VERSION_1 (1ull << 32)

/* Request types and status (5.2.6). */
#define VBLK_T_IN 0u
#define VBLK_T_OUT 1u
#define VBLK_T_FLUSH 4u
#define VBLK_T_GET_ID 8u
#define VBLK_S_OK 0u
#define VBLK_S_IOERR 1u
#define VBLK_S_UNSUPP 2u

#define VBLK_SECTOR 512u
#define VBLK_HDR_LEN 16u           /* type, reserved, sector */
#define VBLK_ID_LEN 20u            /* GET_ID's answer */
#define VBLK_SEG_MAX (VQ_MAX_SEGS - 2u)
#define VBLK_SIZE_MAX (1u << 20)   /* bytes per buffer the guest may use */
#define VBLK_BOUNCE VDMA_MAX_BYTES /* bytes per disk transfer */

/* struct virtio_blk_config offsets (5.2.4). */
#define VBLK_CFG_CAPACITY 0x00u
#define VBLK_CFG_SIZE_MAX 0x08u
#define VBLK_CFG_SEG_MAX 0x0Cu
#define VBLK_CFG_BLK_SIZE 0x14u
#define VBLK_CFG_LEN 0x24u         /* through num_queues, unused fields zero */

struct vblk {
    struct blkdev *disk;
    bool ro;
    uint32_t blk_size;             /* logical block the guest should use */
    char id[VBLK_ID_LEN];          /* GET_ID answer, NUL padded */
    uint8_t *bounce;               /* VBLK_BOUNCE bytes, caller's memory */
    struct vdma dma;
    uint64_t reads, writes, flushes, sectors_read, sectors_written, errors, refused_ro;
};

/* Bind to disk (512-byte sectors). bounce: VBLK_BOUNCE bytes. blk_size a
 * power of two >= 512. id: up to 20 bytes (may be NULL). */
int vblk_init(struct vblk *b, struct blkdev *disk, bool ro, uint32_t blk_size, const char *id,
              uint8_t *bounce);

/* The features the device offers. */
uint64_t vblk_features(const struct vblk *b);

/* Read len (1, 2, 4 or 8) bytes of device configuration at off; bytes past
 * the structure read as zero. */
uint64_t vblk_config_read(const struct vblk *b, uint32_t off, unsigned len);

/*
 * Serve one chain: header (first 16 device-readable bytes), data, status
 * (last device-writable byte). Returns 0 with *written (bytes put into
 * device-writable buffers, status included) when the request completed,
 * with any status: a disk error, a range beyond capacity, a write to a
 * read-only disk, a guest page that could not be brought in; or
 * -PV_EINVAL with a message in err when the chain cannot carry a request
 * at all (no header, no status byte): the device then needs reset.
 */
int vblk_serve(struct vblk *b, struct guest_mm *mm, const struct vq_chain *c,
               uint32_t *written, char *err, size_t err_len);

#endif

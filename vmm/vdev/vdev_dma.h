/*
 * A device's transfers between a virtqueue chain's buffers and a host
 * buffer. A chain is two byte streams: what the device may read (its
 * device-readable buffers in order) and what it may write (its
 * device-writable buffers in order). vdma_map pins the guest pages behind a
 * range of one stream (ept/mm.h mm_pin_page: faulted in as a guest access
 * of that direction would be, held against reclaim), vdma_copy moves bytes,
 * vdma_unmap lets the pages go. A device maps, does its disk transfer,
 * copies, and unmaps: pages stay pinned for the whole transfer.
 */
#ifndef PV_VDEV_VDEV_DMA_H
#define PV_VDEV_VDEV_DMA_H

#include "vmm/vdev/virtq.h"

/* Pieces one mapping may hold: a range of VDMA_MAX_BYTES spans at most
 * that many pages plus one, and every chain buffer can split one more. */
#define VDMA_MAX_BYTES (64u * 1024u)
#define VDMA_MAX_PIECES (VQ_MAX_SEGS + VDMA_MAX_BYTES / PAGE_SIZE + 2u)

struct vdma_piece {
    uint8_t *va;
    uint32_t len;
};

struct vdma {
    struct guest_mm *mm;
    unsigned n;
    uint64_t bytes;                         /* mapped */
    struct vdma_piece piece[VDMA_MAX_PIECES];
    struct mm_pin pin[VDMA_MAX_PIECES];
};

/*
 * Map up to len bytes (at most VDMA_MAX_BYTES) of c's device-writable
 * (to_guest) or device-readable stream from byte off. Returns the bytes
 * mapped (> 0 unless len is 0; fewer than len only when the stream ends
 * or pieces run out), or a negative mm error (-PV_ENOMEM: out of frames;
 * -PV_EIO, -PV_ENOENT) with nothing left pinned.
 */
int64_t vdma_map(struct vdma *d, struct guest_mm *mm, const struct vq_chain *c, bool to_guest,
                 uint64_t off, uint64_t len);

/* Copy between the mapping and buf (the mapping's first n bytes, n <= bytes). */
void vdma_to_guest(struct vdma *d, const void *buf, uint64_t n);
void vdma_from_guest(const struct vdma *d, void *buf, uint64_t n);

/* Unpin everything mapped. */
void vdma_unmap(struct vdma *d);

/* Convenience: map, copy, unmap n bytes at off; 0 or a negative error
 * (-PV_EINVAL when the stream is shorter than off + n). */
int vdma_write(struct guest_mm *mm, const struct vq_chain *c, uint64_t off, const void *buf,
               uint64_t n, struct vdma *scratch);
int vdma_read(struct guest_mm *mm, const struct vq_chain *c, uint64_t off, void *buf,
              uint64_t n, struct vdma *scratch);

#endif

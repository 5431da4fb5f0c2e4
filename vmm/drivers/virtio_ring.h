/*
 * One virtio split virtqueue (virtio 1.0 section 2.4), driver side: the
 * descriptor table, the available ring the driver fills and the used ring
 * the device fills, all in one block of memory the device reads by
 * physical address (identity mapped: pointer == physical address).
 *
 * Pure memory operations, no device access: the transport notifies the
 * device after vring_publish(). Host tests play the device on the same
 * memory.
 *
 * Ordering: the rings are ordinary write-back memory shared with a device
 * that snoops caches. x86 keeps stores in order with stores and loads in
 * order with loads, so the spec's write barrier (descriptors and ring entry
 * before avail->idx) and read barrier (used->idx before the used entries)
 * are compiler barriers here; the notify that follows is an uncached MMIO
 * write, which x86 does not pass earlier stores.
 */
#ifndef PV_SWAP_VIRTIO_RING_H
#define PV_SWAP_VIRTIO_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VRING_MAX_SIZE 256u      /* queue sizes are capped to this */

/* Descriptor flags. */
#define VRING_DESC_F_NEXT 0x1u
#define VRING_DESC_F_WRITE 0x2u   /* the device writes this buffer */
/* Available ring flags. */
#define VRING_AVAIL_F_NO_INTERRUPT 0x1u

#define VRING_DESC_ALIGN 16u
#define VRING_AVAIL_ALIGN 2u
#define VRING_USED_ALIGN 4u

/* Layouts fixed by the spec (little-endian, which x86 is). */
struct vring_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct vring_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];           /* then le16 used_event */
};

struct vring_used_elem {
    uint32_t id;               /* head of the chain the device finished */
    uint32_t len;              /* bytes it wrote */
};

struct vring_used {
    uint16_t flags;
    uint16_t idx;
    struct vring_used_elem ring[]; /* then le16 avail_event */
};

/* One buffer of a chain. */
struct vring_buf {
    uint64_t addr;             /* physical */
    uint32_t len;
    bool device_writes;
};

struct vring {
    uint16_t size;             /* power of two, <= VRING_MAX_SIZE */
    volatile struct vring_desc *desc;
    volatile struct vring_avail *avail;
    volatile struct vring_used *used;
    uint16_t free_head;        /* free descriptors, linked through .next */
    uint16_t num_free;
    uint16_t avail_shadow;     /* avail->idx once published */
    uint16_t last_used;        /* next used->ring entry to consume */
    uint16_t in_flight;        /* chains added and not yet popped */
    uint16_t cookie[VRING_MAX_SIZE];  /* per chain head: the caller's tag */
    bool busy[VRING_MAX_SIZE];        /* head of an outstanding chain */
};

/* Byte offsets of the three parts in the block, and its total size. */
size_t vring_avail_offset(uint16_t size);
size_t vring_used_offset(uint16_t size);
size_t vring_bytes(uint16_t size);

/* Lay a queue of `size` entries over mem (vring_bytes(size) bytes, 16-byte
 * aligned, zeroed by this call). -PV_EINVAL for a size that is not a power
 * of two in 1..VRING_MAX_SIZE. Interrupts are suppressed (polled driver). */
int vring_init(struct vring *vr, void *mem, uint16_t size);

/*
 * Chain bufs[0..n) into free descriptors and put the head in the available
 * ring, not yet visible to the device. Returns the head, -PV_ENOMEM when
 * fewer than n descriptors are free, -PV_EINVAL for n == 0.
 */
int vring_add(struct vring *vr, const struct vring_buf *bufs, unsigned n, uint16_t cookie);
/* Make every chain added so far visible to the device (then notify it). */
void vring_publish(struct vring *vr);

/*
 * Take one finished chain from the used ring, free its descriptors and
 * return 1 with its cookie and written length; 0 when nothing is new;
 * -PV_EIO when the device returned something that is not an outstanding
 * chain head (the ring is then not to be trusted).
 */
int vring_pop_used(struct vring *vr, uint16_t *cookie, uint32_t *len);

/* Chains added and not yet popped. */
unsigned vring_outstanding(const struct vring *vr);

#endif

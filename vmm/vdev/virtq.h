/*
 * The device side of a split virtqueue (virtio 1.x section 2.7) in guest
 * memory: the guest is the driver, pagevisor the device. Rings,
 * descriptor tables and the buffers they name are guest-physical and are
 * read and written through the guest memory core (ept/mm.h), so a ring in a
 * page that is absent or swapped out is faulted in like any guest access.
 *
 * Everything the guest wrote is untrusted. A chain is accepted only when
 * every descriptor index is inside the table, the chain is no longer than
 * the table (a loop is caught by this bound), every device-readable buffer
 * precedes every device-writable one, an indirect table is in guest RAM, a
 * multiple of 16 bytes, not nested and not combined with NEXT, and every
 * buffer lies inside guest RAM. Anything else is a VQ_E* error with a
 * message naming the queue and the guest-physical address; the device
 * model then marks itself NEEDS_RESET (vpci.h), never the hypervisor.
 */
#ifndef PV_VDEV_VIRTQ_H
#define PV_VDEV_VIRTQ_H

#include "ept/mm.h"
#include "vmm/lib/types.h"

#define VQ_MAX_SIZE 256u         /* queue size the device offers */
#define VQ_MAX_SEGS 130u         /* buffers one chain may have (seg_max + 2) */
#define VQ_ERR_LEN 160u

/* Descriptor flags (virtio 1.x 2.7.5). */
#define VQ_DESC_F_NEXT 0x1u
#define VQ_DESC_F_WRITE 0x2u
#define VQ_DESC_F_INDIRECT 0x4u
#define VQ_AVAIL_F_NO_INTERRUPT 0x1u
#define VQ_DESC_SIZE 16u
#define VQ_USED_ELEM_SIZE 8u
#define VQ_RING_HDR 4u           /* flags + idx of avail and used */

/* One buffer of a chain: guest-physical, checked to lie in guest RAM. */
struct vq_seg {
    gpa_t gpa;
    uint32_t len;
    bool write;                  /* the device writes it */
};

struct vq_chain {
    uint16_t head;
    unsigned n;
    struct vq_seg seg[VQ_MAX_SEGS];
    uint64_t rlen, wlen;         /* bytes the device may read / write */
};

/* One queue's state, as the driver configured it (common configuration). */
struct vq {
    uint16_t index;
    uint16_t size;               /* entries; 1..VQ_MAX_SIZE */
    uint16_t msix_vector;
    bool enabled;
    gpa_t desc, avail, used;     /* queue_desc / queue_driver / queue_device */
    uint16_t last_avail;         /* next avail ring entry to take */
    uint16_t used_idx;           /* next used ring entry to fill */
    uint64_t chains, errors;     /* counters */
};

/* Return codes besides 0. */
#define VQ_EMPTY 1               /* vq_pop: nothing available */

/* Reset to the state after device reset (size = VQ_MAX_SIZE). */
void vq_reset(struct vq *q, uint16_t index);

/*
 * The rings named by q lie in guest RAM with their natural alignment.
 * Returns 0 or -PV_EINVAL with a message in err (queue enable checks this).
 */
int vq_check_rings(struct guest_mm *mm, const struct vq *q, char *err, size_t err_len);

/*
 * Take the next available chain: 0 with *c filled and q->last_avail
 * advanced; VQ_EMPTY when the driver has published nothing new; or
 * -PV_EINVAL (malformed chain, index out of range) / -PV_ENOENT (outside
 * guest RAM) / another mm error
 * with one line in err naming the queue and the address.
 */
int vq_pop(struct guest_mm *mm, struct vq *q, struct vq_chain *c, char *err, size_t err_len);

/* Return chain head with `written` bytes written into it; used.idx is
 * published at once. 0 or a negative error with a message in err. */
int vq_push(struct guest_mm *mm, struct vq *q, uint16_t head, uint32_t written, char *err,
            size_t err_len);

/* The driver asked for no interrupt (avail.flags); false if unreadable. */
bool vq_no_interrupt(struct guest_mm *mm, const struct vq *q);

#endif

/* Split virtqueue, driver side; see virtio_ring.h. */
#include "vmm/drivers/virtio_ring.h"
#include "vmm/lib/types.h"

#include <string.h>

#define USED_EVENT_BYTES 2u
#define AVAIL_HDR_BYTES 4u   /* flags, idx */
#define USED_HDR_BYTES 4u

/* See the header: on x86 both spec barriers reduce to compiler barriers. */
#define vring_wmb() __asm__ volatile("" ::: "memory")
#define vring_rmb() __asm__ volatile("" ::: "memory")

size_t vring_avail_offset(uint16_t size) { return (size_t)size * sizeof(struct vring_desc); }

size_t vring_used_offset(uint16_t size)
{
    size_t end = vring_avail_offset(size) + AVAIL_HDR_BYTES + (size_t)size * sizeof(uint16_t) +
                 USED_EVENT_BYTES;
    return ALIGN_UP(end, VRING_USED_ALIGN);
}

size_t vring_bytes(uint16_t size)
{
    return vring_used_offset(size) + USED_HDR_BYTES +
           (size_t)size * sizeof(struct vring_used_elem) + USED_EVENT_BYTES;
}

int vring_init(struct vring *vr, void *mem, uint16_t size)
{
    if (!size || size > VRING_MAX_SIZE || (size & (size - 1)) ||
        !IS_ALIGNED((uintptr_t)mem, VRING_DESC_ALIGN))
        return -PV_EINVAL;
    memset(vr, 0, sizeof(*vr));
    memset(mem, 0, vring_bytes(size));
    uint8_t *base = mem;
    vr->size = size;
    vr->desc = (volatile struct vring_desc *)base;
    vr->avail = (volatile struct vring_avail *)(base + vring_avail_offset(size));
    vr->used = (volatile struct vring_used *)(base + vring_used_offset(size));
    for (uint16_t i = 0; i + 1 < size; i++)
        vr->desc[i].next = (uint16_t)(i + 1);
    vr->free_head = 0;
    vr->num_free = size;
    vr->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
    return 0;
}

int vring_add(struct vring *vr, const struct vring_buf *bufs, unsigned n, uint16_t cookie)
{
    if (!n)
        return -PV_EINVAL;
    if (n > vr->num_free)
        return -PV_ENOMEM;
    uint16_t head = vr->free_head, i = head, last = head;
    for (unsigned k = 0; k < n; k++) {
        volatile struct vring_desc *d = &vr->desc[i];
        d->addr = bufs[k].addr;
        d->len = bufs[k].len;
        d->flags = (uint16_t)((bufs[k].device_writes ? VRING_DESC_F_WRITE : 0) |
                              (k + 1 < n ? VRING_DESC_F_NEXT : 0));
        last = i;
        i = d->next;
    }
    vr->desc[last].next = 0;   /* tidy: no NEXT flag, so the device ignores it */
    vr->free_head = i;
    vr->num_free = (uint16_t)(vr->num_free - n);
    vr->cookie[head] = cookie;
    vr->busy[head] = true;
    vr->in_flight++;
    vr->avail->ring[vr->avail_shadow & (vr->size - 1)] = head;
    vr->avail_shadow++;
    return head;
}

void vring_publish(struct vring *vr)
{
    vring_wmb();   /* descriptors and ring entries before the index */
    vr->avail->idx = vr->avail_shadow;
}

/* Return the chain at head to the free list; false if it is malformed. */
static bool free_chain(struct vring *vr, uint16_t head)
{
    uint16_t i = head, n = 1;
    while (vr->desc[i].flags & VRING_DESC_F_NEXT) {
        i = vr->desc[i].next;
        if (i >= vr->size || ++n > vr->size)
            return false;
    }
    vr->desc[i].next = vr->free_head;
    vr->free_head = head;
    vr->num_free = (uint16_t)(vr->num_free + n);
    return true;
}

int vring_pop_used(struct vring *vr, uint16_t *cookie, uint32_t *len)
{
    uint16_t idx = vr->used->idx;
    if (idx == vr->last_used)
        return 0;
    if ((uint16_t)(idx - vr->last_used) > vr->in_flight)
        return -PV_EIO;   /* the device claims more than was outstanding */
    vring_rmb();   /* the index before the entry it covers */
    volatile struct vring_used_elem *e = &vr->used->ring[vr->last_used & (vr->size - 1)];
    uint32_t id = e->id;
    if (id >= vr->size || !vr->busy[id])
        return -PV_EIO;
    *len = e->len;
    *cookie = vr->cookie[id];
    vr->busy[id] = false;
    if (!free_chain(vr, (uint16_t)id))
        return -PV_EIO;
    vr->last_used++;
    vr->in_flight--;
    return 1;
}

unsigned vring_outstanding(const struct vring *vr) { return vr->in_flight; }

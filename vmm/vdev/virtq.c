/* Split virtqueue, device side (see virtq.h). */
#include "vmm/vdev/virtq.h"

#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"

#include <string.h>

/* Byte offsets inside the rings (virtio 1.x 2.7). */
#define AVAIL_FLAGS 0u
#define AVAIL_IDX 2u
#define AVAIL_RING 4u
#define USED_IDX 2u
#define USED_RING 4u
#define DESC_ALIGN 16u
#define AVAIL_ALIGN 2u
#define USED_ALIGN 4u

struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

void vq_reset(struct vq *q, uint16_t index)
{
    memset(q, 0, sizeof(*q));
    q->index = index;
    q->size = VQ_MAX_SIZE;
    q->msix_vector = 0xFFFFu;
}

static uint64_t desc_bytes(const struct vq *q) { return (uint64_t)q->size * VQ_DESC_SIZE; }
/* flags, idx, ring[size], used_event */
static uint64_t avail_bytes(const struct vq *q) { return VQ_RING_HDR + 2ull * q->size + 2; }
/* flags, idx, ring[size], avail_event */
static uint64_t used_bytes(const struct vq *q) { return VQ_RING_HDR + (uint64_t)VQ_USED_ELEM_SIZE * q->size + 2; }

static int ring_bad(const struct vq *q, const char *what, gpa_t gpa, uint64_t len,
                    char *err, size_t err_len)
{
    pv_snprintf(err, err_len, "queue %u: %s at gpa 0x%llx (%llu bytes) is not in guest RAM",
                q->index, what, (unsigned long long)gpa, (unsigned long long)len);
    return -PV_ENOENT;
}

int vq_check_rings(struct guest_mm *mm, const struct vq *q, char *err, size_t err_len)
{
    if (q->size == 0 || q->size > VQ_MAX_SIZE) {
        pv_snprintf(err, err_len, "queue %u: size %u (1..%u)", q->index, q->size, VQ_MAX_SIZE);
        return -PV_EINVAL;
    }
    if (q->desc % DESC_ALIGN || q->avail % AVAIL_ALIGN || q->used % USED_ALIGN) {
        pv_snprintf(err, err_len, "queue %u: misaligned rings (desc 0x%llx, driver 0x%llx, "
                    "device 0x%llx)", q->index, (unsigned long long)q->desc,
                    (unsigned long long)q->avail, (unsigned long long)q->used);
        return -PV_EINVAL;
    }
    if (!mm_is_ram(mm, q->desc, desc_bytes(q)))
        return ring_bad(q, "descriptor table", q->desc, desc_bytes(q), err, err_len);
    if (!mm_is_ram(mm, q->avail, avail_bytes(q)))
        return ring_bad(q, "driver ring", q->avail, avail_bytes(q), err, err_len);
    if (!mm_is_ram(mm, q->used, used_bytes(q)))
        return ring_bad(q, "device ring", q->used, used_bytes(q), err, err_len);
    return 0;
}

/* Guest RAM only: mm_read alone would also read ROM and open bus. */
static int ram_read(struct guest_mm *mm, gpa_t gpa, void *dst, size_t len)
{
    if (!mm_is_ram(mm, gpa, len))
        return -PV_ENOENT;
    return mm_read(mm, gpa, dst, len);
}

static int ram_write(struct guest_mm *mm, gpa_t gpa, const void *src, size_t len)
{
    if (!mm_is_ram(mm, gpa, len))
        return -PV_ENOENT;
    return mm_write(mm, gpa, src, len);
}

static int bad(const struct vq *q, int rc, char *err, size_t err_len, const char *fmt,
               unsigned long long a, unsigned long long b)
{
    char what[VQ_ERR_LEN];
    pv_snprintf(what, sizeof(what), fmt, a, b);
    pv_snprintf(err, err_len, "queue %u: %s", q->index, what);
    return rc;
}

/* Append one descriptor's buffer to c, checking direction and RAM. */
static int add_seg(const struct vq *q, struct guest_mm *mm, struct vq_chain *c,
                   const struct vq_desc *d, char *err, size_t err_len)
{
    bool write = d->flags & VQ_DESC_F_WRITE;
    if (!write && c->wlen)
        return bad(q, -PV_EINVAL, err, err_len,
                   "device-readable buffer at gpa 0x%llx after a device-writable one "
                   "(chain head %llu)", d->addr, c->head);
    if (d->len == 0)
        return 0; /* nothing to transfer; harmless */
    if (!mm_is_ram(mm, d->addr, d->len))
        return bad(q, -PV_ENOENT, err, err_len,
                   "buffer at gpa 0x%llx (%llu bytes) is not in guest RAM", d->addr, d->len);
    if (c->n == VQ_MAX_SEGS)
        return bad(q, -PV_EINVAL, err, err_len,
                   "chain head %llu has more than %llu buffers", c->head, VQ_MAX_SEGS);
    c->seg[c->n++] = (struct vq_seg){ d->addr, d->len, write };
    if (write)
        c->wlen += d->len;
    else
        c->rlen += d->len;
    return 0;
}

static int read_desc(struct guest_mm *mm, const struct vq *q, gpa_t table, uint32_t i,
                     struct vq_desc *d, char *err, size_t err_len)
{
    gpa_t at = table + (uint64_t)i * VQ_DESC_SIZE;
    int rc = ram_read(mm, at, d, sizeof(*d));
    if (rc < 0)
        return bad(q, rc, err, err_len, "descriptor %llu at gpa 0x%llx cannot be read", i, at);
    return 0;
}

/* Walk an indirect table of n descriptors at gpa. */
static int walk_indirect(struct guest_mm *mm, const struct vq *q, struct vq_chain *c,
                         const struct vq_desc *outer, char *err, size_t err_len)
{
    if (outer->len == 0 || outer->len % VQ_DESC_SIZE)
        return bad(q, -PV_EINVAL, err, err_len,
                   "indirect table at gpa 0x%llx has length %llu (not a multiple of 16)",
                   outer->addr, outer->len);
    if (outer->flags & VQ_DESC_F_NEXT)
        return bad(q, -PV_EINVAL, err, err_len,
                   "indirect descriptor at gpa 0x%llx also has NEXT (chain head %llu)",
                   outer->addr, c->head);
    if (!mm_is_ram(mm, outer->addr, outer->len))
        return bad(q, -PV_ENOENT, err, err_len,
                   "indirect table at gpa 0x%llx (%llu bytes) is not in guest RAM",
                   outer->addr, outer->len);
    uint32_t n = outer->len / VQ_DESC_SIZE;
    uint32_t i = 0;
    for (uint32_t walked = 0;; walked++) {
        if (walked == n)
            return bad(q, -PV_EINVAL, err, err_len,
                       "indirect table at gpa 0x%llx loops (more than %llu descriptors)",
                       outer->addr, n);
        struct vq_desc d;
        int rc = read_desc(mm, q, outer->addr, i, &d, err, err_len);
        if (rc < 0)
            return rc;
        if (d.flags & VQ_DESC_F_INDIRECT)
            return bad(q, -PV_EINVAL, err, err_len,
                       "nested indirect table at gpa 0x%llx (in table at 0x%llx)", d.addr,
                       outer->addr);
        rc = add_seg(q, mm, c, &d, err, err_len);
        if (rc < 0)
            return rc;
        if (!(d.flags & VQ_DESC_F_NEXT))
            return 0;
        if (d.next >= n)
            return bad(q, -PV_EINVAL, err, err_len,
                       "indirect descriptor's next %llu is outside its table at gpa 0x%llx",
                       d.next, outer->addr);
        i = d.next;
    }
}

int vq_pop(struct guest_mm *mm, struct vq *q, struct vq_chain *c, char *err, size_t err_len)
{
    uint16_t avail_idx;
    int rc = ram_read(mm, q->avail + AVAIL_IDX, &avail_idx, sizeof(avail_idx));
    if (rc < 0)
        return bad(q, rc, err, err_len, "driver ring at gpa 0x%llx cannot be read",
                   q->avail, 0);
    uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
    if (pending == 0)
        return VQ_EMPTY;
    if (pending > q->size)
        return bad(q, -PV_EINVAL, err, err_len,
                   "driver ring index jumped by %llu entries (queue size %llu)", pending,
                   q->size);
    uint16_t head;
    gpa_t slot = q->avail + AVAIL_RING + 2ull * (q->last_avail % q->size);
    rc = ram_read(mm, slot, &head, sizeof(head));
    if (rc < 0)
        return bad(q, rc, err, err_len, "driver ring entry at gpa 0x%llx cannot be read",
                   slot, 0);
    c->head = head;
    c->n = 0;
    c->rlen = c->wlen = 0;
    if (head >= q->size)
        return bad(q, -PV_EINVAL, err, err_len, "chain head %llu outside the table of %llu",
                   head, q->size);
    uint16_t i = head;
    for (uint32_t walked = 0;; walked++) {
        if (walked == q->size)
            return bad(q, -PV_EINVAL, err, err_len,
                       "chain head %llu loops (more than %llu descriptors)", head, q->size);
        struct vq_desc d;
        rc = read_desc(mm, q, q->desc, i, &d, err, err_len);
        if (rc < 0)
            return rc;
        if (d.flags & VQ_DESC_F_INDIRECT) {
            rc = walk_indirect(mm, q, c, &d, err, err_len);
            if (rc < 0)
                return rc;
            break; /* an indirect descriptor ends the chain */
        }
        rc = add_seg(q, mm, c, &d, err, err_len);
        if (rc < 0)
            return rc;
        if (!(d.flags & VQ_DESC_F_NEXT))
            break;
        if (d.next >= q->size)
            return bad(q, -PV_EINVAL, err, err_len,
                       "descriptor's next %llu outside the table of %llu", d.next, q->size);
        i = d.next;
    }
    q->last_avail++;
    q->chains++;
    return 0;
}

int vq_push(struct guest_mm *mm, struct vq *q, uint16_t head, uint32_t written, char *err,
            size_t err_len)
{
    uint32_t elem[2] = { head, written };
    gpa_t slot = q->used + USED_RING + (uint64_t)VQ_USED_ELEM_SIZE * (q->used_idx % q->size);
    int rc = ram_write(mm, slot, elem, sizeof(elem));
    if (rc < 0)
        return bad(q, rc, err, err_len, "device ring entry at gpa 0x%llx cannot be written",
                   slot, 0);
    q->used_idx++;
    rc = ram_write(mm, q->used + USED_IDX, &q->used_idx, sizeof(q->used_idx));
    if (rc < 0)
        return bad(q, rc, err, err_len, "device ring at gpa 0x%llx cannot be written",
                   q->used, 0);
    return 0;
}

bool vq_no_interrupt(struct guest_mm *mm, const struct vq *q)
{
    uint16_t flags;
    if (ram_read(mm, q->avail + AVAIL_FLAGS, &flags, sizeof(flags)) < 0)
        return false;
    return flags & VQ_AVAIL_F_NO_INTERRUPT;
}

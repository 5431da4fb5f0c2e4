/* Chain <-> host buffer transfers through pinned guest pages (see vdev_dma.h). */
#include "vmm/vdev/vdev_dma.h"

#include <string.h>

void vdma_unmap(struct vdma *d)
{
    for (unsigned i = 0; i < d->n; i++)
        mm_unpin_page(d->mm, &d->pin[i]);
    d->n = 0;
    d->bytes = 0;
}

int64_t vdma_map(struct vdma *d, struct guest_mm *mm, const struct vq_chain *c, bool to_guest,
                 uint64_t off, uint64_t len)
{
    d->mm = mm;
    d->n = 0;
    d->bytes = 0;
    if (len > VDMA_MAX_BYTES)
        len = VDMA_MAX_BYTES;
    uint64_t pos = 0; /* stream offset of seg's first byte */
    for (unsigned s = 0; s < c->n && d->bytes < len; s++) {
        const struct vq_seg *g = &c->seg[s];
        if (g->write != to_guest)
            continue;
        uint64_t seg_end = pos + g->len;
        if (seg_end <= off) {
            pos = seg_end;
            continue;
        }
        uint64_t in = off + d->bytes > pos ? off + d->bytes - pos : 0;
        while (in < g->len && d->bytes < len) {
            if (d->n == VDMA_MAX_PIECES)
                return (int64_t)d->bytes;
            gpa_t gpa = g->gpa + in;
            uint64_t page_left = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
            uint64_t take = g->len - in;
            if (take > page_left)
                take = page_left;
            if (take > len - d->bytes)
                take = len - d->bytes;
            int rc = mm_pin_page(mm, gpa, to_guest, &d->pin[d->n]);
            if (rc < 0) {
                vdma_unmap(d);
                return rc;
            }
            d->piece[d->n] = (struct vdma_piece){
                (uint8_t *)d->pin[d->n].va + (gpa & (PAGE_SIZE - 1)), (uint32_t)take };
            d->n++;
            d->bytes += take;
            in += take;
        }
        pos = seg_end;
    }
    return (int64_t)d->bytes;
}

void vdma_to_guest(struct vdma *d, const void *buf, uint64_t n)
{
    const uint8_t *p = buf;
    for (unsigned i = 0; i < d->n && n; i++) {
        uint32_t k = d->piece[i].len < n ? d->piece[i].len : (uint32_t)n;
        memcpy(d->piece[i].va, p, k);
        p += k;
        n -= k;
    }
}

void vdma_from_guest(const struct vdma *d, void *buf, uint64_t n)
{
    uint8_t *p = buf;
    for (unsigned i = 0; i < d->n && n; i++) {
        uint32_t k = d->piece[i].len < n ? d->piece[i].len : (uint32_t)n;
        memcpy(p, d->piece[i].va, k);
        p += k;
        n -= k;
    }
}

static int xfer(struct guest_mm *mm, const struct vq_chain *c, bool to_guest, uint64_t off,
                uint8_t *buf, uint64_t n, struct vdma *d)
{
    while (n) {
        int64_t got = vdma_map(d, mm, c, to_guest, off, n);
        if (got < 0)
            return (int)got;
        if (got == 0)
            return -PV_EINVAL;
        if (to_guest)
            vdma_to_guest(d, buf, (uint64_t)got);
        else
            vdma_from_guest(d, buf, (uint64_t)got);
        vdma_unmap(d);
        off += (uint64_t)got;
        buf += got;
        n -= (uint64_t)got;
    }
    return 0;
}

int vdma_write(struct guest_mm *mm, const struct vq_chain *c, uint64_t off, const void *buf,
               uint64_t n, struct vdma *scratch)
{
    return xfer(mm, c, true, off, (uint8_t *)(uintptr_t)buf, n, scratch);
}

int vdma_read(struct guest_mm *mm, const struct vq_chain *c, uint64_t off, void *buf,
              uint64_t n, struct vdma *scratch)
{
    return xfer(mm, c, false, off, buf, n, scratch);
}

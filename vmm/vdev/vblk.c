/* The guest's virtio block device: requests against the backing disk (see vblk.h). */
#include "vmm/vdev/vblk.h"

#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"

#include <string.h>

#define RO_WARN_MAX 4u   /* refused writes logged, then only counted */

int vblk_init(struct vblk *b, struct blkdev *disk, bool ro, uint32_t blk_size, const char *id,
              uint8_t *bounce)
{
    memset(b, 0, sizeof(*b));
    if (!disk || !bounce || disk->sector_size != VBLK_SECTOR || blk_size < VBLK_SECTOR ||
        (blk_size & (blk_size - 1)) || blk_size > VBLK_BOUNCE)
        return -PV_EINVAL;
    b->disk = disk;
    b->ro = ro;
    b->blk_size = blk_size;
    b->bounce = bounce;
    if (id)
        for (unsigned i = 0; i < VBLK_ID_LEN && id[i]; i++)
            b->id[i] = id[i];
    return 0;
}

uint64_t vblk_features(const struct vblk *b)
{
    uint64_t f = VDEV_F_VERSION_1 | VDEV_F_INDIRECT_DESC | VBLK_F_SEG_MAX | VBLK_F_SIZE_MAX |
                 VBLK_F_BLK_SIZE | VBLK_F_FLUSH;
    if (b->ro)
        f |= VBLK_F_RO;
    return f;
}

uint64_t vblk_config_read(const struct vblk *b, uint32_t off, unsigned len)
{
    uint8_t cfg[VBLK_CFG_LEN];
    memset(cfg, 0, sizeof(cfg));
    uint64_t cap = b->disk->sectors;
    uint32_t size_max = VBLK_SIZE_MAX, seg_max = VBLK_SEG_MAX, blk = b->blk_size;
    memcpy(cfg + VBLK_CFG_CAPACITY, &cap, sizeof(cap));
    memcpy(cfg + VBLK_CFG_SIZE_MAX, &size_max, sizeof(size_max));
    memcpy(cfg + VBLK_CFG_SEG_MAX, &seg_max, sizeof(seg_max));
    memcpy(cfg + VBLK_CFG_BLK_SIZE, &blk, sizeof(blk));
    uint64_t v = 0;
    for (unsigned i = 0; i < len && i < sizeof(v); i++)
        if (off + i < sizeof(cfg))
            v |= (uint64_t)cfg[off + i] << (8 * i);
    return v;
}

/* A transfer of n bytes at sector between the disk and the chain's data:
 * IN: disk -> writable stream from 0; OUT: readable stream from the header
 * -> disk. Each piece: pin the guest pages, move the bytes, unpin. */
static uint8_t transfer(struct vblk *b, struct guest_mm *mm, const struct vq_chain *c,
                        bool in, uint64_t sector, uint64_t n)
{
    uint64_t done = 0;
    while (done < n) {
        uint64_t want = n - done < VBLK_BOUNCE ? n - done : VBLK_BOUNCE;
        int64_t got = vdma_map(&b->dma, mm, c, in, (in ? 0 : VBLK_HDR_LEN) + done, want);
        if (got < 0) {
            pv_warn("vdisk: sector %llu: guest memory for the %s could not be brought in "
                    "(error %d)", (unsigned long long)(sector + done / VBLK_SECTOR),
                    in ? "read" : "write", (int)got);
            return VBLK_S_IOERR;
        }
        uint64_t k = (uint64_t)got - (uint64_t)got % VBLK_SECTOR;
        if (k == 0) { /* cannot happen: pieces cover any 512 bytes of a chain */
            vdma_unmap(&b->dma);
            return VBLK_S_IOERR;
        }
        uint64_t at = sector + done / VBLK_SECTOR;
        int rc;
        if (in) {
            rc = blk_read(b->disk, at, b->bounce, (uint32_t)k);
            if (rc == 0)
                vdma_to_guest(&b->dma, b->bounce, k);
        } else {
            vdma_from_guest(&b->dma, b->bounce, k);
            rc = blk_write(b->disk, at, b->bounce, (uint32_t)k);
        }
        vdma_unmap(&b->dma);
        if (rc < 0) {
            b->errors++;
            return VBLK_S_IOERR;
        }
        done += k;
    }
    return VBLK_S_OK;
}

static uint8_t rw(struct vblk *b, struct guest_mm *mm, const struct vq_chain *c, bool in,
                  uint64_t sector, uint32_t *data_written)
{
    uint64_t n = in ? c->wlen - 1 : c->rlen - VBLK_HDR_LEN;
    if (!in && b->ro) {
        if (b->refused_ro++ < RO_WARN_MAX)
            pv_warn("vdisk: write of %llu bytes at sector %llu refused: the disk is read-only",
                    (unsigned long long)n, (unsigned long long)sector);
        return VBLK_S_IOERR;
    }
    uint64_t cap = b->disk->sectors;
    uint64_t blk_sectors = b->blk_size / VBLK_SECTOR;
    if (n % VBLK_SECTOR || sector > cap || n / VBLK_SECTOR > cap - sector ||
        sector % blk_sectors || (n / VBLK_SECTOR) % blk_sectors) {
        b->errors++;
        return VBLK_S_IOERR;
    }
    uint8_t st = transfer(b, mm, c, in, sector, n);
    if (st != VBLK_S_OK)
        return st;
    if (in) {
        b->reads++;
        b->sectors_read += n / VBLK_SECTOR;
        *data_written = (uint32_t)n;
    } else {
        b->writes++;
        b->sectors_written += n / VBLK_SECTOR;
    }
    return VBLK_S_OK;
}

int vblk_serve(struct vblk *b, struct guest_mm *mm, const struct vq_chain *c,
               uint32_t *written, char *err, size_t err_len)
{
    struct {
        uint32_t type;
        uint32_t reserved;
        uint64_t sector;
    } hdr;
    *written = 0;
    if (c->rlen < VBLK_HDR_LEN || c->wlen < 1) {
        pv_snprintf(err, err_len, "chain head %u has %llu readable and %llu writable bytes: "
                    "no room for a request header and a status byte", c->head,
                    (unsigned long long)c->rlen, (unsigned long long)c->wlen);
        return -PV_EINVAL;
    }
    uint8_t st;
    uint32_t data = 0;
    int rc = vdma_read(mm, c, 0, &hdr, sizeof(hdr), &b->dma);
    if (rc < 0) {
        st = VBLK_S_IOERR;
        goto status;
    }
    switch (hdr.type) {
    case VBLK_T_IN:
    case VBLK_T_OUT:
        st = rw(b, mm, c, hdr.type == VBLK_T_IN, hdr.sector, &data);
        break;
    case VBLK_T_FLUSH:
        b->flushes++;
        st = b->disk->ops->flush && b->disk->ops->flush(b->disk) < 0 ? VBLK_S_IOERR
                                                                       : VBLK_S_OK;
        break;
    case VBLK_T_GET_ID: {
        uint64_t n = c->wlen - 1 < VBLK_ID_LEN ? c->wlen - 1 : VBLK_ID_LEN;
        st = vdma_write(mm, c, 0, b->id, n, &b->dma) < 0 ? VBLK_S_IOERR : VBLK_S_OK;
        if (st == VBLK_S_OK)
            data = (uint32_t)n;
        break;
    }
    default:
        st = VBLK_S_UNSUPP;
        break;
    }
status:
    rc = vdma_write(mm, c, c->wlen - 1, &st, 1, &b->dma);
    if (rc < 0) {
        pv_snprintf(err, err_len, "chain head %u: status byte cannot be written (error %d)",
                    c->head, rc);
        return -PV_EINVAL;
    }
    *written = data + 1;
    return 0;
}

/* virtio-blk, polled; see virtio_blk.h. */
#include "vmm/drivers/virtio_blk.h"
#include "vmm/lib/types.h"
#include "vmm/arch/arch.h"
#include "vmm/arch/clock.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/heap.h"
#include "vmm/lib/log.h"

#include <string.h>

#define WANTED_FEATURES (VIRTIO_BLK_F_SIZE_MAX | VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_RO | \
                         VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH | VIRTIO_F_ACCESS_PLATFORM)
#define CHAIN_EXTRA 2u          /* header and status descriptors */
#define BLK_SIZE_MAX 4096u      /* larger logical blocks than a page are refused */
#define PIECES 128u             /* data pieces per batch in rw() */

static const char *status_name(uint8_t s)
{
    switch (s) {
    case VIRTIO_BLK_S_IOERR: return "I/O error";
    case VIRTIO_BLK_S_UNSUPP: return "unsupported request";
    case VIRTIO_BLK_STATUS_UNSET: return "no status written";
    default: return "unknown status";
    }
}

static const char *type_name(uint32_t t)
{
    return t == VIRTIO_BLK_T_IN ? "read" : t == VIRTIO_BLK_T_OUT ? "write"
         : t == VIRTIO_BLK_T_GET_ID ? "get-id" : "flush";
}

int virtio_blk_chain(const struct virtio_blk_io *io, uint64_t hdr_addr, uint64_t status_addr,
                     uint32_t size_max, struct vring_buf *bufs, unsigned max)
{
    unsigned n = 0;
    if (max < CHAIN_EXTRA)
        return -PV_EINVAL;
    bufs[n++] = (struct vring_buf){ hdr_addr, sizeof(struct virtio_blk_hdr), false };
    for (unsigned i = 0; i < io->nsegs; i++) {
        uint64_t addr = va_hpa(io->segs[i].buf);
        uint32_t left = io->segs[i].len;
        while (left) {
            uint32_t len = size_max && left > size_max ? size_max : left;
            if (n + 1 >= max)   /* keep room for the status */
                return -PV_EINVAL;
            bufs[n++] = (struct vring_buf){ addr, len, io->type == VIRTIO_BLK_T_IN ||
                                                            io->type == VIRTIO_BLK_T_GET_ID };
            addr += len;
            left -= len;
        }
    }
    bufs[n++] = (struct vring_buf){ status_addr, sizeof(uint8_t), true };
    return (int)n;
}

static int check_io(const struct virtio_blk *vb, const struct virtio_blk_io *io)
{
    if (io->type == VIRTIO_BLK_T_FLUSH)
        return io->nsegs == 0 ? 0 : -PV_EINVAL;
    if (io->type == VIRTIO_BLK_T_GET_ID)
        return io->nsegs == 1 && io->segs[0].len == VIRTIO_BLK_ID_BYTES ? 0 : -PV_EINVAL;
    if (io->type != VIRTIO_BLK_T_IN && io->type != VIRTIO_BLK_T_OUT)
        return -PV_EINVAL;
    if (!io->nsegs || io->nsegs > BLK_MAX_SEGS)
        return -PV_EINVAL;
    uint64_t bytes = 0;
    for (unsigned i = 0; i < io->nsegs; i++) {
        if (!io->segs[i].len || io->segs[i].len % vb->blk_size)
            return -PV_EINVAL;
        bytes += io->segs[i].len;
    }
    uint64_t sectors = bytes / VIRTIO_BLK_SECTOR;
    if ((io->sector * VIRTIO_BLK_SECTOR) % vb->blk_size || io->sector > vb->bd.sectors ||
        sectors > vb->bd.sectors - io->sector)
        return -PV_EINVAL;
    struct vring_buf bufs[VIRTIO_BLK_QUEUE_MAX];
    unsigned limit = vb->q.vr.size < vb->seg_max + CHAIN_EXTRA ? vb->q.vr.size
                                                               : vb->seg_max + CHAIN_EXTRA;
    if (limit > VIRTIO_BLK_QUEUE_MAX)
        limit = VIRTIO_BLK_QUEUE_MAX;
    return virtio_blk_chain(io, 0, 0, vb->size_max, bufs, limit) < 0 ? -PV_EINVAL : 0;
}

/* Queue a finished asynchronous request for poll. */
static void push_done(struct virtio_blk *vb, uint64_t tag, int result)
{
    unsigned at = (vb->done_head + vb->ndone) % VIRTIO_BLK_MAX_INFLIGHT;
    vb->done[at] = (struct blk_done){ tag, result };
    vb->ndone++; /* at most one per slot: never more than VIRTIO_BLK_MAX_INFLIGHT */
}

/* The device is lost: every asynchronous request still in flight is
 * answered with -PV_EIO (nothing submitted stays without an answer). */
static void mark_broken(struct virtio_blk *vb)
{
    vb->broken = true;
    vb->bd.failed = true;
    if (vb->vp.common)
        virtio_pci_fail(&vb->vp);
    for (unsigned s = 0; s < VIRTIO_BLK_MAX_INFLIGHT; s++) {
        if (vb->owner[s] != VIRTIO_BLK_OWNER_ASYNC)
            continue;
        push_done(vb, vb->async[s].tag, -PV_EIO);
        vb->owner[s] = VIRTIO_BLK_OWNER_FREE;
        vb->async_inflight--;
    }
}

/* Whether the device dropped out of the running state under us: a reset
 * (status 0, whoever wrote it), or DEVICE_NEEDS_RESET. Host tests that
 * play the device without a common configuration skip this. */
static bool device_lost(struct virtio_blk *vb, uint8_t *status)
{
    if (!vb->vp.common)
        return false;
    *status = virtio_pci_status(&vb->vp);
    return !(*status & VIRTIO_STATUS_DRIVER_OK) || (*status & VIRTIO_STATUS_NEEDS_RESET);
}

/* Wait for one completion. 1: got one in *s; -PV_EIO: the device is lost
 * (logged, marked failed). */
static int wait_used(struct virtio_blk *vb, uint16_t *s)
{
    uint64_t deadline = clock_deadline(vb->timeout_ms);
    uint32_t slow_ms = vb->timeout_ms / VIRTIO_BLK_SLOW_DIV;
    uint64_t slow = slow_ms ? clock_deadline(slow_ms) : 0;
    uint64_t next_status = clock_deadline(VIRTIO_BLK_STATUS_POLL_MS);
    uint32_t len;
    int got;
    while ((got = vring_pop_used(&vb->q.vr, s, &len)) == 0) {
        uint8_t st;
        if (clock_passed(next_status)) {
            next_status = clock_deadline(VIRTIO_BLK_STATUS_POLL_MS);
            if (device_lost(vb, &st)) {
                pv_err("%s: device %s under the hypervisor (status 0x%02x, %u requests in "
                       "flight); device marked failed", vb->bd.name,
                       st & VIRTIO_STATUS_NEEDS_RESET ? "needs a reset" : "was reset",
                       (unsigned)st, vring_outstanding(&vb->q.vr));
                mark_broken(vb);
                vb->bd.errors++;
                return -PV_EIO;
            }
        }
        if (slow && clock_passed(slow)) {
            slow = 0;
            pv_warn("%s: no completion after %u ms (%u requests in flight); giving up at "
                    "%u ms", vb->bd.name, slow_ms, vring_outstanding(&vb->q.vr),
                    vb->timeout_ms);
        }
        if (clock_passed(deadline)) {
            pv_err("%s: no completion within %u ms (%u requests in flight); "
                   "device marked failed", vb->bd.name, vb->timeout_ms,
                   vring_outstanding(&vb->q.vr));
            mark_broken(vb);
            vb->bd.errors++;
            return -PV_EIO;
        }
        pause();
    }
    if (got < 0 || *s >= VIRTIO_BLK_MAX_INFLIGHT) {
        pv_err("%s: the device returned a request that was not in flight; "
               "device marked failed", vb->bd.name);
        mark_broken(vb);
        vb->bd.errors++;
        return -PV_EIO;
    }
    return 1;
}

static void account(struct virtio_blk *vb, const struct virtio_blk_io *io)
{
    uint64_t sectors = 0;
    for (unsigned i = 0; i < io->nsegs; i++)
        sectors += io->segs[i].len / VIRTIO_BLK_SECTOR;
    if (io->type == VIRTIO_BLK_T_IN) {
        vb->bd.reads++;
        vb->bd.sectors_read += sectors;
    } else if (io->type == VIRTIO_BLK_T_OUT) {
        vb->bd.writes++;
        vb->bd.sectors_written += sectors;
    }
}

/* One finished request: its status becomes the io's result. */
static int complete(struct virtio_blk *vb, struct virtio_blk_io *io, uint8_t status)
{
    if (status == VIRTIO_BLK_S_OK) {
        io->result = 0;
        account(vb, io);
        return 0;
    }
    io->result = -PV_EIO;
    vb->bd.errors++;
    pv_err("%s: %s at sector %llu failed: %s (status %u)", vb->bd.name, type_name(io->type),
           (unsigned long long)io->sector, status_name(status), (unsigned)status);
    return -PV_EIO;
}

/* Slot s's asynchronous request finished: account it, queue it for poll. */
static void complete_async(struct virtio_blk *vb, uint16_t s)
{
    struct virtio_blk_async *a = &vb->async[s];
    uint8_t status = vb->slots[s].status;
    int result = 0;
    if (status == VIRTIO_BLK_S_OK) {
        if (a->type == VIRTIO_BLK_T_IN) {
            vb->bd.reads++;
            vb->bd.sectors_read += a->sectors;
        } else {
            vb->bd.writes++;
            vb->bd.sectors_written += a->sectors;
        }
    } else {
        result = -PV_EIO;
        vb->bd.errors++;
        pv_err("%s: %s at sector %llu failed: %s (status %u)", vb->bd.name,
               type_name(a->type), (unsigned long long)a->sector, status_name(status),
               (unsigned)status);
    }
    vb->owner[s] = VIRTIO_BLK_OWNER_FREE;
    vb->async_inflight--;
    push_done(vb, a->tag, result);
}

/* The device returned slot s, which nobody has in flight. */
static int bogus_completion(struct virtio_blk *vb)
{
    pv_err("%s: the device returned a request that was not in flight; "
           "device marked failed", vb->bd.name);
    mark_broken(vb);
    vb->bd.errors++;
    return -PV_EIO;
}

/* Put ios[i] on the ring in slot s; false when the ring is full. */
static bool add_io(struct virtio_blk *vb, struct virtio_blk_io *io, unsigned s)
{
    struct virtio_blk_slot *slot = &vb->slots[s];
    struct vring_buf bufs[VIRTIO_BLK_QUEUE_MAX];
    slot->hdr.type = io->type;
    slot->hdr.reserved = 0;
    slot->hdr.sector = io->type == VIRTIO_BLK_T_FLUSH ? 0 : io->sector;
    slot->status = VIRTIO_BLK_STATUS_UNSET;
    int n = virtio_blk_chain(io, va_hpa(&slot->hdr), va_hpa(&slot->status), vb->size_max, bufs,
                             VIRTIO_BLK_QUEUE_MAX);
    return n > 0 && vring_add(&vb->q.vr, bufs, (unsigned)n, (uint16_t)s) >= 0;
}

int virtio_blk_submit(struct virtio_blk *vb, struct virtio_blk_io *ios, unsigned n)
{
    if (vb->broken)
        return -PV_EIO;
    for (unsigned i = 0; i < n; i++)
        if (check_io(vb, &ios[i]) < 0)
            return -PV_EINVAL;
    unsigned next = 0, done = 0, free_slot = 0;
    int rc = 0;
    while (done < n) {
        bool added = false;
        while (next < n) {
            while (free_slot < VIRTIO_BLK_MAX_INFLIGHT &&
                   vb->owner[free_slot] != VIRTIO_BLK_OWNER_FREE)
                free_slot++;
            if (free_slot == VIRTIO_BLK_MAX_INFLIGHT || !add_io(vb, &ios[next], free_slot))
                break;
            vb->owner[free_slot] = (int16_t)next++;
            added = true;
        }
        if (added) {
            vring_publish(&vb->q.vr);
            vb->kick(vb);
        }
        uint16_t s;
        if (wait_used(vb, &s) < 0) {
            for (unsigned k = 0; k < VIRTIO_BLK_MAX_INFLIGHT; k++)
                if (vb->owner[k] >= 0)
                    vb->owner[k] = VIRTIO_BLK_OWNER_FREE;
            return -PV_EIO;
        }
        if (vb->owner[s] == VIRTIO_BLK_OWNER_ASYNC) {
            complete_async(vb, s); /* kept for poll; not one of ours */
            if (s < free_slot)
                free_slot = s;
            continue;
        }
        if (vb->owner[s] < 0) {
            for (unsigned k = 0; k < VIRTIO_BLK_MAX_INFLIGHT; k++)
                if (vb->owner[k] >= 0)
                    vb->owner[k] = VIRTIO_BLK_OWNER_FREE;
            return bogus_completion(vb);
        }
        if (complete(vb, &ios[vb->owner[s]], vb->slots[s].status) < 0)
            rc = -PV_EIO;
        vb->owner[s] = VIRTIO_BLK_OWNER_FREE;
        if (s < free_slot)
            free_slot = s;
        done++;
    }
    return rc;
}

int virtio_blk_submit_async(struct virtio_blk *vb, bool write, uint64_t sector,
                            const struct blk_seg *segs, unsigned nsegs, uint64_t tag)
{
    struct virtio_blk_io io = { write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector, segs, nsegs,
                                0 };
    if (check_io(vb, &io) < 0)
        return -PV_EINVAL;
    if (vb->broken)
        return -PV_EIO;
    unsigned s = 0;
    while (s < VIRTIO_BLK_MAX_INFLIGHT && vb->owner[s] != VIRTIO_BLK_OWNER_FREE)
        s++;
    if (s == VIRTIO_BLK_MAX_INFLIGHT || !add_io(vb, &io, s))
        return -PV_ENOMEM; /* room comes back as requests finish */
    uint64_t sectors = 0;
    for (unsigned i = 0; i < nsegs; i++)
        sectors += segs[i].len / VIRTIO_BLK_SECTOR;
    vb->async[s] = (struct virtio_blk_async){ tag, sector, sectors, io.type };
    vb->owner[s] = VIRTIO_BLK_OWNER_ASYNC;
    vb->async_inflight++;
    vring_publish(&vb->q.vr);
    vb->kick(vb);
    return 0;
}

/* Take whatever the device finished; waits for one when wait. */
static void reap(struct virtio_blk *vb, bool wait)
{
    for (;;) {
        uint16_t s;
        uint32_t len;
        int got = vring_pop_used(&vb->q.vr, &s, &len);
        if (got == 0 && wait && !vb->ndone && vb->async_inflight && !vb->broken)
            got = wait_used(vb, &s); /* -PV_EIO: lost, every request answered */
        if (got <= 0) {
            if (got < 0 && !vb->broken)
                bogus_completion(vb);
            return;
        }
        if (s >= VIRTIO_BLK_MAX_INFLIGHT || vb->owner[s] != VIRTIO_BLK_OWNER_ASYNC) {
            bogus_completion(vb);
            return;
        }
        complete_async(vb, s);
    }
}

unsigned virtio_blk_poll(struct virtio_blk *vb, struct blk_done *done, unsigned max, bool wait)
{
    uint8_t st;
    /* The status is an MMIO read: at most every VIRTIO_BLK_STATUS_POLL_MS
     * (poll runs on every fault that wants frames). */
    bool look = vb->async_inflight && !vb->broken && clock_passed(vb->next_status);
    if (look)
        vb->next_status = clock_deadline(VIRTIO_BLK_STATUS_POLL_MS);
    if (look && device_lost(vb, &st)) {
        pv_err("%s: device %s under the hypervisor (status 0x%02x, %u requests in flight); "
               "device marked failed", vb->bd.name,
               st & VIRTIO_STATUS_NEEDS_RESET ? "needs a reset" : "was reset", (unsigned)st,
               vb->async_inflight);
        mark_broken(vb);
        vb->bd.errors++;
    }
    reap(vb, wait);
    unsigned n = 0;
    while (n < max && vb->ndone) {
        done[n++] = vb->done[vb->done_head];
        vb->done_head = (vb->done_head + 1) % VIRTIO_BLK_MAX_INFLIGHT;
        vb->ndone--;
    }
    return n;
}

/* Data pieces per device request: seg_max, and what the queue can chain. */
static unsigned pieces_per_request(const struct virtio_blk *vb)
{
    unsigned m = vb->q.vr.size - CHAIN_EXTRA;
    if (vb->seg_max < m)
        m = vb->seg_max;
    return m < PIECES ? m : PIECES;
}

static int virtio_blk_rw(struct blkdev *d, bool write, uint64_t sector,
                         const struct blk_seg *segs, unsigned nsegs)
{
    struct virtio_blk *vb = d->priv;
    uint32_t type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
    if (!nsegs || nsegs > BLK_MAX_SEGS)
        return -PV_EINVAL;
    uint64_t bytes = 0;
    for (unsigned i = 0; i < nsegs; i++) {
        if (!segs[i].len || segs[i].len % vb->blk_size)
            return -PV_EINVAL;
        bytes += segs[i].len;
    }
    if (sector > d->sectors || bytes / VIRTIO_BLK_SECTOR > d->sectors - sector ||
        (sector * VIRTIO_BLK_SECTOR) % vb->blk_size)
        return -PV_EINVAL;
    if (vb->broken)
        return -PV_EIO;

    /* Cut segments into pieces (<= size_max, whole blocks), group them into
     * device requests of <= seg_max pieces, submit in batches. */
    uint32_t piece_max = vb->size_max ? vb->size_max - vb->size_max % vb->blk_size : 0;
    if (vb->size_max && !piece_max)
        piece_max = vb->blk_size;
    struct blk_seg pieces[PIECES];
    struct virtio_blk_io ios[VIRTIO_BLK_MAX_INFLIGHT];
    unsigned per = pieces_per_request(vb), seg = 0;
    uint32_t off = 0;
    uint64_t at = sector;
    int rc = 0;
    while (seg < nsegs) {
        unsigned np = 0, nio = 0;
        while (seg < nsegs && nio < VIRTIO_BLK_MAX_INFLIGHT && np + per <= PIECES) {
            struct virtio_blk_io *io = &ios[nio++];
            *io = (struct virtio_blk_io){ type, at, &pieces[np], 0, 0 };
            while (seg < nsegs && io->nsegs < per) {
                uint32_t len = segs[seg].len - off;
                if (piece_max && len > piece_max)
                    len = piece_max;
                pieces[np++] = (struct blk_seg){ (uint8_t *)segs[seg].buf + off, len };
                io->nsegs++;
                at += len / VIRTIO_BLK_SECTOR;
                off += len;
                if (off == segs[seg].len) {
                    seg++;
                    off = 0;
                }
            }
        }
        int r = virtio_blk_submit(vb, ios, nio);
        if (r < 0) {
            rc = r;
            if (vb->broken)
                break;
        }
    }
    return rc;
}

static int virtio_blk_flush(struct blkdev *d)
{
    struct virtio_blk *vb = d->priv;
    if (!(vb->features & VIRTIO_BLK_F_FLUSH))
        return vb->broken ? -PV_EIO : 0;   /* no volatile cache to flush */
    struct virtio_blk_io io = { VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 0 };
    return virtio_blk_submit(vb, &io, 1);
}

static int op_submit(struct blkdev *d, bool write, uint64_t sector, const struct blk_seg *segs,
                     unsigned nsegs, uint64_t tag)
{
    return virtio_blk_submit_async(d->priv, write, sector, segs, nsegs, tag);
}

static unsigned op_poll(struct blkdev *d, struct blk_done *done, unsigned max, bool wait)
{
    return virtio_blk_poll(d->priv, done, max, wait);
}

static const struct blkdev_ops virtio_blk_ops = { virtio_blk_rw, virtio_blk_flush, op_submit,
                                                  op_poll };

void virtio_blk_bind(struct virtio_blk *vb, uint64_t capacity)
{
    vb->bd.ops = &virtio_blk_ops;
    vb->bd.priv = vb;
    vb->bd.sectors = capacity;
    vb->bd.sector_size = VIRTIO_BLK_SECTOR;
    if (vb->blk_size < VIRTIO_BLK_SECTOR)
        vb->blk_size = VIRTIO_BLK_SECTOR;
    if (!vb->seg_max)
        vb->seg_max = 1;
    if (!vb->timeout_ms)
        vb->timeout_ms = VIRTIO_BLK_TIMEOUT_MS;
    for (unsigned s = 0; s < VIRTIO_BLK_MAX_INFLIGHT; s++)
        vb->owner[s] = VIRTIO_BLK_OWNER_FREE;
    vb->async_inflight = 0;
    vb->done_head = vb->ndone = 0;
}

static void kick_device(struct virtio_blk *vb) { virtio_queue_kick(&vb->q); }

/* Device limits from its configuration, for the features accepted. */
static int read_limits(struct virtio_blk *vb, char *err, size_t err_len)
{
    vb->seg_max = VIRTIO_BLK_QUEUE_MAX;
    if (vb->features & VIRTIO_BLK_F_SEG_MAX) {
        uint32_t m = virtio_pci_dev_read32(&vb->vp, VIRTIO_BLK_CFG_SEG_MAX);
        if (m && m < vb->seg_max)
            vb->seg_max = m;
    }
    vb->size_max = 0;
    if (vb->features & VIRTIO_BLK_F_SIZE_MAX)
        vb->size_max = virtio_pci_dev_read32(&vb->vp, VIRTIO_BLK_CFG_SIZE_MAX);
    vb->blk_size = VIRTIO_BLK_SECTOR;
    if (vb->features & VIRTIO_BLK_F_BLK_SIZE) {
        uint32_t b = virtio_pci_dev_read32(&vb->vp, VIRTIO_BLK_CFG_BLK_SIZE);
        if (b < VIRTIO_BLK_SECTOR || b > BLK_SIZE_MAX || (b & (b - 1))) {
            pv_snprintf(err, err_len, "%s: logical block size %u is not supported "
                        "(512..4096, a power of two)", vb->bd.name, b);
            return -PV_EINVAL;
        }
        vb->blk_size = b;
    }
    return 0;
}

int virtio_blk_init(struct virtio_blk *vb, struct pci_addr a, char *err, size_t err_len)
{
    memset(vb, 0, sizeof(*vb));
    char where[16];
    pci_addr_format(a, where, sizeof(where));
    pv_snprintf(vb->bd.name, sizeof(vb->bd.name), "virtio-blk %s", where);
    vb->vp.name = vb->bd.name;
    struct pci_func f;
    if (!pci_func_read(a, &f) || f.vendor != VIRTIO_PCI_VENDOR ||
        (f.device != VIRTIO_PCI_DEVICE_MODERN_BASE + VIRTIO_ID_BLOCK &&
         f.device != VIRTIO_PCI_DEVICE_TRANSITIONAL_BLK)) {
        pv_snprintf(err, err_len, "%s: not a virtio-blk function", where);
        return -PV_ENOENT;
    }
    struct virtio_pci_caps caps;
    if (virtio_pci_find_caps(a, &caps) < 0) {
        pv_snprintf(err, err_len, "%s: no VIRTIO_F_VERSION_1 (legacy device); "
                    "use disable-legacy=on", vb->bd.name);
        return -PV_EINVAL;
    }
    int rc = virtio_pci_map(&vb->vp, a, &caps, err, err_len);
    if (rc < 0)
        return rc;
    if (caps.device.length < VIRTIO_BLK_CFG_MIN_LEN) {
        pv_snprintf(err, err_len, "%s: device configuration is only %u bytes", vb->bd.name,
                    caps.device.length);
        return -PV_EINVAL;
    }
    uint64_t offered;
    rc = virtio_pci_start(&vb->vp, WANTED_FEATURES, &offered, &vb->features, err, err_len);
    if (rc < 0)
        return rc;
    if (vb->features & VIRTIO_BLK_F_RO) {
        virtio_pci_fail(&vb->vp);
        pv_snprintf(err, err_len, "%s: the disk is read-only; swap needs to write", vb->bd.name);
        return -PV_EINVAL;
    }
    if ((rc = read_limits(vb, err, err_len)) < 0 ||
        (rc = virtio_pci_setup_queue(&vb->vp, 0, VIRTIO_BLK_QUEUE_MAX, &vb->q, err,
                                     err_len)) < 0) {
        virtio_pci_fail(&vb->vp);
        return rc;
    }
    vb->slots = heap_alloc(VIRTIO_BLK_MAX_INFLIGHT * sizeof(struct virtio_blk_slot), 64,
                           "virtio-blk requests");
    if (!vb->slots) {
        virtio_pci_fail(&vb->vp);
        pv_snprintf(err, err_len, "%s: no memory for request headers", vb->bd.name);
        return -PV_ENOMEM;
    }
    vb->kick = kick_device;
    virtio_pci_driver_ok(&vb->vp);
    virtio_blk_bind(vb, virtio_pci_dev_read64(&vb->vp, VIRTIO_BLK_CFG_CAPACITY));
    pv_debug("%s: features 0x%llx (offered 0x%llx), queue %u, seg_max %u, size_max %u, "
             "block %u", vb->bd.name, (unsigned long long)vb->features,
             (unsigned long long)offered, (unsigned)vb->q.vr.size, vb->seg_max, vb->size_max,
             vb->blk_size);
    return 0;
}

int virtio_blk_get_id(struct virtio_blk *vb, char id[VIRTIO_BLK_ID_BYTES + 1])
{
    static char buf[VIRTIO_BLK_ID_BYTES]; /* identity-mapped: the device writes it */
    memset(buf, 0, sizeof(buf));
    struct blk_seg seg = { buf, VIRTIO_BLK_ID_BYTES };
    struct virtio_blk_io io = { VIRTIO_BLK_T_GET_ID, 0, &seg, 1, 0 };
    int rc = virtio_blk_submit(vb, &io, 1);
    memcpy(id, buf, VIRTIO_BLK_ID_BYTES);
    id[VIRTIO_BLK_ID_BYTES] = '\0';
    return rc;
}

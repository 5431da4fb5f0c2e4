/*
 * A fake virtio-blk device for host tests of vmm/drivers/virtio_blk.c: it
 * plays the device on the rings when the driver kicks it (memory disk,
 * error injection, reordering, silence, bogus completions, completions
 * held and released later). Include after <cmocka.h>; one per test
 * program (static state).
 */
#ifndef PV_TESTS_UNIT_VIRTIO_BLK_FAKE_H
#define PV_TESTS_UNIT_VIRTIO_BLK_FAKE_H

#include <stdlib.h>
#include <string.h>

#include "vmm/lib/types.h"
#include "vmm/drivers/virtio_blk.h"
#include "tests/unit/host_log.h"

#define DISK_SECTORS 2048u      /* 1 MiB */
#define SECTOR VIRTIO_BLK_SECTOR

enum fake_mode { FAKE_OK, FAKE_REVERSE, FAKE_SILENT, FAKE_BOGUS };

struct fake_dev {
    uint8_t *disk;
    enum fake_mode mode;
    uint16_t last_avail;
    unsigned kicks, requests, max_batch, max_data_descs;
    uint32_t max_desc_len;
    uint64_t fail_sector;       /* requests touching it get IOERR (UINT64_MAX: none) */
    unsigned flushes;
    bool protocol_error;        /* a chain broke the rules the device checks */
    /* Delayed completions: while hold is set, served chains are kept
     * (held[]) instead of being returned; fake_release returns them in the
     * order asked; release_at_kick returns them at the next kick, before
     * that kick's own chains. */
    bool hold, release_at_kick;
    unsigned nheld;
    uint16_t held[VRING_MAX_SIZE];
    uint32_t held_len[VRING_MAX_SIZE];
};

static struct fake_dev fake;
static struct virtio_blk vb;
static void *ring;

/* Serve one chain; returns the bytes written into device-writable buffers. */
static uint32_t serve(struct vring *vr, uint16_t head)
{
    volatile struct vring_desc *d = &vr->desc[head];
    if ((d->flags & VRING_DESC_F_WRITE) || d->len != sizeof(struct virtio_blk_hdr) ||
        !(d->flags & VRING_DESC_F_NEXT)) {
        fake.protocol_error = true;
        return 0;
    }
    struct virtio_blk_hdr *h = hpa_va(d->addr);
    uint64_t at = h->sector * SECTOR;
    bool fail = false;
    unsigned ndata = 0;
    uint32_t written = 0;
    uint16_t i = d->next;
    while (vr->desc[i].flags & VRING_DESC_F_NEXT) {
        d = &vr->desc[i];
        ndata++;
        if (d->len > fake.max_desc_len)
            fake.max_desc_len = d->len;
        bool dev_writes = d->flags & VRING_DESC_F_WRITE;
        if (dev_writes != (h->type == VIRTIO_BLK_T_IN) || at + d->len > DISK_SECTORS * SECTOR) {
            fake.protocol_error = true;
            return 0;
        }
        if (fake.fail_sector != UINT64_MAX && fake.fail_sector >= at / SECTOR &&
            fake.fail_sector < (at + d->len) / SECTOR)
            fail = true;
        if (h->type == VIRTIO_BLK_T_IN) {
            memcpy(hpa_va(d->addr), fake.disk + at, d->len);
            written += d->len;
        } else {
            memcpy(fake.disk + at, hpa_va(d->addr), d->len);
        }
        at += d->len;
        i = d->next;
    }
    d = &vr->desc[i];
    if (!(d->flags & VRING_DESC_F_WRITE) || d->len != 1) {
        fake.protocol_error = true;
        return 0;
    }
    if (ndata > fake.max_data_descs)
        fake.max_data_descs = ndata;
    if (h->type == VIRTIO_BLK_T_FLUSH)
        fake.flushes++;
    *(uint8_t *)hpa_va(d->addr) = fail ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
    fake.requests++;
    return written + 1;
}

static void push_used(struct vring *vr, uint32_t id, uint32_t len)
{
    uint16_t u = vr->used->idx;
    vr->used->ring[u & (vr->size - 1)].id = id;
    vr->used->ring[u & (vr->size - 1)].len = len;
    vr->used->idx = (uint16_t)(u + 1);
}

/* Return the held chains: in submission order, reversed, or (order !=
 * NULL) held[order[k]] k-th. */
static void fake_release(const unsigned *order, bool reverse)
{
    struct vring *vr = &vb.q.vr;
    for (unsigned k = 0; k < fake.nheld; k++) {
        unsigned j = order ? order[k] : reverse ? fake.nheld - 1 - k : k;
        push_used(vr, fake.held[j], fake.held_len[j]);
    }
    fake.nheld = 0;
}

static void fake_kick(struct virtio_blk *v)
{
    struct vring *vr = &v->q.vr;
    fake.kicks++;
    if (fake.mode == FAKE_SILENT)
        return;
    if (fake.release_at_kick) {
        fake.release_at_kick = false;
        fake_release(NULL, false);
    }
    uint16_t heads[VRING_MAX_SIZE];
    uint32_t lens[VRING_MAX_SIZE];
    unsigned n = 0;
    while (fake.last_avail != vr->avail->idx) {
        uint16_t head = vr->avail->ring[fake.last_avail & (vr->size - 1)];
        fake.last_avail++;
        heads[n] = head;
        lens[n++] = serve(vr, head);
    }
    if (n > fake.max_batch)
        fake.max_batch = n;
    if (fake.hold) {
        for (unsigned k = 0; k < n; k++) {
            fake.held[fake.nheld] = heads[k];
            fake.held_len[fake.nheld++] = lens[k];
        }
        return;
    }
    for (unsigned k = 0; k < n; k++) {
        unsigned j = fake.mode == FAKE_REVERSE ? n - 1 - k : k;
        push_used(vr, fake.mode == FAKE_BOGUS ? vr->size + 1u : heads[j], lens[j]);
    }
}

static void make_dev(uint16_t qsize, uint32_t seg_max, uint32_t size_max, uint64_t features)
{
    memset(&fake, 0, sizeof(fake));
    fake.fail_sector = UINT64_MAX;
    fake.disk = calloc(DISK_SECTORS, SECTOR);
    assert_non_null(fake.disk);
    for (unsigned i = 0; i < DISK_SECTORS * SECTOR; i++)
        fake.disk[i] = (uint8_t)(i * 7 + i / SECTOR);
    memset(&vb, 0, sizeof(vb));
    ring = aligned_alloc(4096, ALIGN_UP(vring_bytes(qsize), 4096));
    assert_non_null(ring);
    assert_int_equal(vring_init(&vb.q.vr, ring, qsize), 0);
    vb.slots = calloc(VIRTIO_BLK_MAX_INFLIGHT, sizeof(*vb.slots));
    vb.seg_max = seg_max;
    vb.size_max = size_max;
    vb.features = features;
    vb.kick = fake_kick;
    strcpy(vb.bd.name, "virtio-blk 00:04.0");
    virtio_blk_bind(&vb, DISK_SECTORS);
    host_log_clear();
}

static int teardown(void **state)
{
    (void)state;
    free(fake.disk);
    free(ring);
    free(vb.slots);
    return 0;
}

/* The device's common configuration, played in memory: only the status
 * byte is read by the request path. */
static uint8_t fake_common[VIRTIO_COMMON_LEN];

#endif

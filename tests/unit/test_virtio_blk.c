/* Unit tests for swap/virtio_blk.c: request chains, and the whole request
 * path against a fake device that plays virtio-blk on the rings when the
 * driver kicks it (memory disk, error injection, reordering, silence). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

static void test_chain(void **state)
{
    (void)state;
    uint8_t a[8192], b[1024];
    struct blk_seg segs[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
    struct virtio_blk_io io = { VIRTIO_BLK_T_IN, 8, segs, 2, 0 };
    struct vring_buf bufs[16];
    int n = virtio_blk_chain(&io, 0x1000, 0x2000, 0, bufs, 16);
    assert_int_equal(n, 4);
    assert_int_equal(bufs[0].addr, 0x1000);
    assert_int_equal(bufs[0].len, sizeof(struct virtio_blk_hdr));
    assert_false(bufs[0].device_writes);
    assert_int_equal(bufs[1].addr, va_hpa(a));
    assert_true(bufs[1].device_writes);   /* a read: the device writes the data */
    assert_int_equal(bufs[2].len, 1024);
    assert_int_equal(bufs[3].addr, 0x2000);
    assert_int_equal(bufs[3].len, 1);
    assert_true(bufs[3].device_writes);
    /* size_max cuts segments; a write's data is device-readable */
    io.type = VIRTIO_BLK_T_OUT;
    n = virtio_blk_chain(&io, 0x1000, 0x2000, 4096, bufs, 16);
    assert_int_equal(n, 5);
    assert_int_equal(bufs[1].len, 4096);
    assert_int_equal(bufs[2].addr, va_hpa(a) + 4096);
    assert_false(bufs[2].device_writes);
    assert_int_equal(bufs[3].len, 1024);
    /* too many pieces for the room given */
    assert_int_equal(virtio_blk_chain(&io, 0x1000, 0x2000, 512, bufs, 16), -PV_EINVAL);
    /* a flush: header and status only */
    struct virtio_blk_io fl = { VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 0 };
    assert_int_equal(virtio_blk_chain(&fl, 0x1000, 0x2000, 0, bufs, 16), 2);
}

static void test_read_write_roundtrip(void **state)
{
    (void)state;
    make_dev(128, 126, 0, VIRTIO_BLK_F_SEG_MAX);
    uint8_t *buf = malloc(3 * 4096);
    /* read 3 pages at sector 16 into three separate segments */
    struct blk_seg segs[3] = { { buf + 8192, 4096 }, { buf, 4096 }, { buf + 4096, 4096 } };
    assert_int_equal(vb.bd.ops->rw(&vb.bd, false, 16, segs, 3), 0);
    assert_memory_equal(buf + 8192, fake.disk + 16 * SECTOR, 4096);
    assert_memory_equal(buf, fake.disk + 16 * SECTOR + 4096, 4096);
    assert_memory_equal(buf + 4096, fake.disk + 16 * SECTOR + 8192, 4096);
    assert_int_equal(fake.requests, 1);
    assert_int_equal(vb.bd.reads, 1);
    assert_int_equal(vb.bd.sectors_read, 24);
    /* write one page at the last page of the disk */
    memset(buf, 0xA5, 4096);
    assert_int_equal(blk_write(&vb.bd, DISK_SECTORS - 8, buf, 4096), 0);
    for (unsigned i = 0; i < 4096; i++)
        assert_int_equal(fake.disk[(DISK_SECTORS - 8) * SECTOR + i], 0xA5);
    assert_int_equal(vb.bd.writes, 1);
    assert_int_equal(vb.bd.sectors_written, 8);
    assert_false(fake.protocol_error);
    free(buf);
}

static void test_invalid_requests(void **state)
{
    (void)state;
    make_dev(128, 126, 0, 0);
    uint8_t buf[4096];
    struct blk_seg s = { buf, 4096 };
    assert_int_equal(vb.bd.ops->rw(&vb.bd, false, DISK_SECTORS - 7, &s, 1), -PV_EINVAL);
    assert_int_equal(vb.bd.ops->rw(&vb.bd, false, UINT64_MAX - 2, &s, 1), -PV_EINVAL);
    struct blk_seg odd = { buf, 100 };
    assert_int_equal(vb.bd.ops->rw(&vb.bd, false, 0, &odd, 1), -PV_EINVAL);
    assert_int_equal(vb.bd.ops->rw(&vb.bd, false, 0, &s, 0), -PV_EINVAL);
    struct blk_seg many[BLK_MAX_SEGS + 1];
    for (unsigned i = 0; i < BLK_MAX_SEGS + 1; i++)
        many[i] = (struct blk_seg){ buf, 512 };
    assert_int_equal(vb.bd.ops->rw(&vb.bd, false, 0, many, BLK_MAX_SEGS + 1), -PV_EINVAL);
    assert_int_equal(fake.kicks, 0);
    /* a device with 4 KiB logical blocks refuses misaligned requests */
    teardown(NULL);
    make_dev(128, 126, 0, VIRTIO_BLK_F_BLK_SIZE);
    vb.blk_size = 4096;
    assert_int_equal(vb.bd.ops->rw(&vb.bd, false, 1, &s, 1), -PV_EINVAL);
    struct blk_seg half = { buf, 2048 };
    assert_int_equal(vb.bd.ops->rw(&vb.bd, false, 0, &half, 1), -PV_EINVAL);
    assert_int_equal(vb.bd.ops->rw(&vb.bd, false, 8, &s, 1), 0);
}

static void test_seg_max_splits_into_requests_in_flight(void **state)
{
    (void)state;
    /* seg_max 2, size_max 2048: 8 pages become 16 pieces, 8 requests. */
    make_dev(64, 2, 2048, VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_SIZE_MAX);
    uint8_t *pages = malloc(8 * 4096);
    struct blk_seg segs[8];
    for (unsigned i = 0; i < 8; i++)
        segs[i] = (struct blk_seg){ pages + (7 - i) * 4096, 4096 };
    assert_int_equal(vb.bd.ops->rw(&vb.bd, false, 40, segs, 8), 0);
    for (unsigned i = 0; i < 8; i++)
        assert_memory_equal(segs[i].buf, fake.disk + 40 * SECTOR + i * 4096, 4096);
    assert_int_equal(fake.requests, 8);
    assert_true(fake.max_data_descs <= 2);
    assert_true(fake.max_desc_len <= 2048);
    assert_int_equal(fake.max_batch, 8);     /* all submitted before one kick */
    assert_int_equal(fake.kicks, 1);
    assert_int_equal(vb.bd.sectors_read, 64);
    assert_false(fake.protocol_error);
    free(pages);
}

static void test_more_requests_than_the_ring_holds(void **state)
{
    (void)state;
    /* 8 descriptors: two 3-descriptor requests at a time. */
    make_dev(8, 1, 0, VIRTIO_BLK_F_SEG_MAX);
    fake.mode = FAKE_REVERSE;
    uint8_t *pages = malloc(6 * 4096);
    memset(pages, 0x3C, 6 * 4096);
    struct blk_seg segs[6];
    for (unsigned i = 0; i < 6; i++)
        segs[i] = (struct blk_seg){ pages + i * 4096, 4096 };
    assert_int_equal(vb.bd.ops->rw(&vb.bd, true, 0, segs, 6), 0);
    for (unsigned i = 0; i < 6 * 4096; i++)
        assert_int_equal(fake.disk[i], 0x3C);
    assert_int_equal(fake.requests, 6);
    assert_int_equal(fake.max_batch, 2);
    assert_int_equal(vring_outstanding(&vb.q.vr), 0);
    assert_int_equal(vb.q.vr.num_free, 8);
    free(pages);
}

static void test_device_error_is_eio_and_named(void **state)
{
    (void)state;
    make_dev(128, 126, 0, 0);
    fake.fail_sector = 100;
    uint8_t buf[4096];
    assert_int_equal(blk_read(&vb.bd, 96, buf, 4096), -PV_EIO);
    assert_int_equal(vb.bd.errors, 1);
    assert_true(host_log_contains("virtio-blk 00:04.0: read at sector 96 failed: I/O error"));
    /* the device is still usable for other sectors */
    assert_int_equal(blk_read(&vb.bd, 0, buf, 4096), 0);
    assert_false(vb.broken);
}

static void test_batch_results_per_request(void **state)
{
    (void)state;
    make_dev(128, 126, 0, 0);
    fake.fail_sector = 8;
    uint8_t a[4096], b[4096], c[4096];
    struct blk_seg sa = { a, 4096 }, sb = { b, 4096 }, sc = { c, 4096 };
    struct virtio_blk_io ios[3] = {
        { VIRTIO_BLK_T_IN, 0, &sa, 1, 1 },
        { VIRTIO_BLK_T_IN, 8, &sb, 1, 1 },
        { VIRTIO_BLK_T_IN, 16, &sc, 1, 1 },
    };
    assert_int_equal(virtio_blk_submit(&vb, ios, 3), -PV_EIO);
    assert_int_equal(ios[0].result, 0);
    assert_int_equal(ios[1].result, -PV_EIO);
    assert_int_equal(ios[2].result, 0);
    assert_memory_equal(c, fake.disk + 16 * SECTOR, 4096);
    assert_int_equal(fake.max_batch, 3);
}

static void test_timeout_marks_device_failed(void **state)
{
    (void)state;
    make_dev(128, 126, 0, 0);
    fake.mode = FAKE_SILENT;
    vb.timeout_ms = 5;
    uint8_t buf[4096];
    assert_int_equal(blk_read(&vb.bd, 0, buf, 4096), -PV_EIO);
    assert_true(vb.broken);
    assert_true(host_log_contains("virtio-blk 00:04.0: no completion within 5 ms"));
    /* later requests fail at once, without touching the device */
    unsigned kicks = fake.kicks;
    assert_int_equal(blk_read(&vb.bd, 0, buf, 4096), -PV_EIO);
    assert_int_equal(vb.bd.ops->flush(&vb.bd), -PV_EIO);
    assert_int_equal(fake.kicks, kicks);
}

static void test_slow_device_is_logged_before_it_fails(void **state)
{
    (void)state;
    make_dev(128, 126, 0, 0);
    fake.mode = FAKE_SILENT;
    vb.timeout_ms = 50;
    uint8_t buf[512];
    assert_int_equal(blk_read(&vb.bd, 0, buf, 512), -PV_EIO);
    assert_true(host_log_contains("virtio-blk 00:04.0: no completion after 10 ms "
                                  "(1 requests in flight); giving up at 50 ms"));
    assert_true(host_log_contains("no completion within 50 ms"));
    assert_true(vb.bd.failed);
}

/* The device's common configuration, played in memory: only the status
 * byte is read by the request path. */
static uint8_t fake_common[VIRTIO_COMMON_LEN];

static void lost_device(uint8_t status, const char *how)
{
    make_dev(128, 126, 0, 0);
    fake.mode = FAKE_SILENT;
    vb.timeout_ms = 60000;   /* the status check must end the wait, not this */
    memset(fake_common, 0, sizeof(fake_common));
    fake_common[VIRTIO_COMMON_STATUS] = status;
    vb.vp.common = fake_common;
    uint8_t buf[512];
    assert_int_equal(blk_read(&vb.bd, 0, buf, 512), -PV_EIO);
    assert_true(host_log_contains(how));
    assert_false(host_log_contains("no completion within"));
    assert_true(vb.broken);
    assert_true(vb.bd.failed);
    assert_true(fake_common[VIRTIO_COMMON_STATUS] & VIRTIO_STATUS_FAILED);
    unsigned kicks = fake.kicks;
    assert_int_equal(blk_write(&vb.bd, 0, buf, 512), -PV_EIO);
    assert_int_equal(fake.kicks, kicks);
}

static void test_reset_under_the_driver_fails_at_once(void **state)
{
    (void)state;
    lost_device(0, "virtio-blk 00:04.0: device was reset under the hypervisor (status 0x00");
}

static void test_needs_reset_fails_at_once(void **state)
{
    (void)state;
    lost_device(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
                    VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET,
                "virtio-blk 00:04.0: device needs a reset under the hypervisor (status 0x4f");
}

static void test_bogus_completion_marks_device_failed(void **state)
{
    (void)state;
    make_dev(128, 126, 0, 0);
    fake.mode = FAKE_BOGUS;
    uint8_t buf[512];
    assert_int_equal(blk_read(&vb.bd, 0, buf, 512), -PV_EIO);
    assert_true(vb.broken);
    assert_true(host_log_contains("not in flight"));
}

static void test_flush(void **state)
{
    (void)state;
    make_dev(128, 126, 0, 0);
    assert_int_equal(vb.bd.ops->flush(&vb.bd), 0);
    assert_int_equal(fake.flushes, 0);   /* no FLUSH feature: nothing sent */
    teardown(NULL);
    make_dev(128, 126, 0, VIRTIO_BLK_F_FLUSH);
    assert_int_equal(vb.bd.ops->flush(&vb.bd), 0);
    assert_int_equal(fake.flushes, 1);
    assert_false(fake.protocol_error);
}

/* ---- the asynchronous path (submit / poll) ------------------------------------ */

static int submit(bool write, uint64_t sector, void *buf, uint32_t len, uint64_t tag)
{
    struct blk_seg seg = { buf, len };
    return vb.bd.ops->submit(&vb.bd, write, sector, &seg, 1, tag);
}

static void test_async_completions_out_of_order_and_delayed(void **state)
{
    (void)state;
    make_dev(128, 126, 0, VIRTIO_BLK_F_SEG_MAX);
    fake.hold = true;
    uint8_t *pages = malloc(4 * 4096);
    for (unsigned i = 0; i < 4; i++) {
        memset(pages + i * 4096, 0x10 + i, 4096);
        assert_int_equal(submit(true, 8 * (i + 1), pages + i * 4096, 4096, 100 + i), 0);
    }
    assert_int_equal(vb.async_inflight, 4);
    struct blk_done done[8];
    /* nothing finished yet: poll without waiting returns nothing */
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 8, false), 0);
    unsigned order[4] = { 2, 0, 3, 1 };
    fake_release(order, false);
    /* two at a time: the rest stay for the next poll */
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 2, false), 2);
    assert_int_equal(done[0].tag, 102);
    assert_int_equal(done[1].tag, 100);
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 8, true), 2);
    assert_int_equal(done[0].tag, 103);
    assert_int_equal(done[1].tag, 101);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(done[i % 2].result, 0);
        assert_memory_equal(fake.disk + 8 * (i + 1) * SECTOR, pages + i * 4096, 4096);
    }
    assert_int_equal(vb.async_inflight, 0);
    assert_int_equal(vb.bd.writes, 4);
    assert_int_equal(vb.bd.sectors_written, 32);
    /* nothing in flight: a waiting poll returns at once */
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 8, true), 0);
    assert_false(fake.protocol_error);
    free(pages);
}

static void test_async_completion_met_by_a_synchronous_wait(void **state)
{
    (void)state;
    make_dev(128, 126, 0, VIRTIO_BLK_F_SEG_MAX);
    uint8_t *w = malloc(4096), *r = malloc(4096);
    memset(w, 0x5A, 4096);
    fake.hold = true;
    assert_int_equal(submit(true, 64, w, 4096, 7), 0);
    /* a read while the write is in flight: its wait meets the write's
     * completion first and keeps it */
    fake.hold = false;
    fake.release_at_kick = true;
    assert_int_equal(blk_read(&vb.bd, 128, r, 4096), 0);
    assert_memory_equal(r, fake.disk + 128 * SECTOR, 4096);
    assert_int_equal(vb.async_inflight, 0);
    struct blk_done done[4];
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 4, false), 1);
    assert_int_equal(done[0].tag, 7);
    assert_int_equal(done[0].result, 0);
    assert_memory_equal(fake.disk + 64 * SECTOR, w, 4096);
    /* and the other way round: the read completes while the write is held */
    fake.hold = true;
    assert_int_equal(submit(true, 72, w, 4096, 8), 0);
    fake.hold = false;
    assert_int_equal(blk_read(&vb.bd, 136, r, 4096), 0);
    assert_int_equal(vb.async_inflight, 1);
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 4, false), 0);
    fake_release(NULL, false);
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 4, false), 1);
    assert_int_equal(done[0].tag, 8);
    assert_false(fake.protocol_error);
    free(w);
    free(r);
}

static void test_async_bounded_by_the_ring(void **state)
{
    (void)state;
    /* 16 descriptors: five 3-descriptor requests at a time */
    make_dev(16, 1, 0, VIRTIO_BLK_F_SEG_MAX);
    fake.hold = true;
    uint8_t *buf = calloc(1, 4096);
    unsigned n = 0;
    while (submit(true, 8 * n, buf, 512, n) == 0)
        n++;
    assert_int_equal(n, 5);
    assert_int_equal(submit(true, 0, buf, 512, 99), -PV_ENOMEM);
    /* more data descriptors than seg_max: never fits one request */
    struct blk_seg two[2] = { { buf, 512 }, { buf + 512, 512 } };
    assert_int_equal(vb.bd.ops->submit(&vb.bd, true, 0, two, 2, 98), -PV_EINVAL);
    assert_int_equal(submit(true, DISK_SECTORS, buf, 512, 97), -PV_EINVAL);
    fake_release(NULL, true);
    struct blk_done done[8];
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 8, false), 5);
    assert_int_equal(done[0].tag, 4);
    assert_int_equal(submit(true, 0, buf, 512, 6), 0); /* room again */
    free(buf);
}

static void test_async_error_is_per_request(void **state)
{
    (void)state;
    make_dev(128, 126, 0, 0);
    fake.fail_sector = 40;
    uint8_t buf[4096];
    memset(buf, 1, sizeof(buf));
    assert_int_equal(submit(true, 32, buf, 4096, 1), 0);  /* sectors 32..39 */
    assert_int_equal(submit(true, 40, buf, 4096, 2), 0);  /* touches 40 */
    struct blk_done done[4];
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 4, true), 2);
    assert_int_equal(done[0].result, 0);
    assert_int_equal(done[1].tag, 2);
    assert_int_equal(done[1].result, -PV_EIO);
    assert_int_equal(vb.bd.errors, 1);
    assert_false(vb.broken);
    assert_true(host_log_contains("write at sector 40 failed: I/O error"));
}

static void test_async_device_lost_answers_every_request(void **state)
{
    (void)state;
    make_dev(128, 126, 0, 0);
    fake.mode = FAKE_SILENT;
    vb.timeout_ms = 5;
    uint8_t buf[4096];
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(submit(true, 8 * i, buf, 4096, 10 + i), 0);
    struct blk_done done[8];
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 8, true), 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(done[i].tag, 10 + i);
        assert_int_equal(done[i].result, -PV_EIO);
    }
    assert_true(vb.bd.failed);
    assert_int_equal(vb.async_inflight, 0);
    assert_int_equal(submit(true, 0, buf, 4096, 20), -PV_EIO);
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 8, true), 0);
}

static void test_async_requests_answered_when_a_sync_wait_loses_the_device(void **state)
{
    (void)state;
    make_dev(128, 126, 0, 0);
    fake.mode = FAKE_SILENT;
    vb.timeout_ms = 5;
    uint8_t buf[4096];
    assert_int_equal(submit(true, 0, buf, 4096, 1), 0);
    assert_int_equal(blk_read(&vb.bd, 8, buf, 4096), -PV_EIO);
    struct blk_done done[4];
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 4, false), 1);
    assert_int_equal(done[0].tag, 1);
    assert_int_equal(done[0].result, -PV_EIO);
}

static void test_async_reset_under_the_driver(void **state)
{
    (void)state;
    make_dev(128, 126, 0, 0);
    fake.hold = true;
    memset(fake_common, 0, sizeof(fake_common));
    fake_common[VIRTIO_COMMON_STATUS] = VIRTIO_STATUS_DRIVER_OK;
    vb.vp.common = fake_common;
    uint8_t buf[4096];
    assert_int_equal(submit(true, 0, buf, 4096, 5), 0);
    fake_common[VIRTIO_COMMON_STATUS] = 0; /* someone reset it */
    struct blk_done done[4];
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 4, false), 1);
    assert_int_equal(done[0].result, -PV_EIO);
    assert_true(vb.bd.failed);
    assert_true(host_log_contains("device was reset under the hypervisor"));
}

static void test_async_bogus_completion(void **state)
{
    (void)state;
    make_dev(128, 126, 0, 0);
    fake.mode = FAKE_BOGUS;
    uint8_t buf[4096];
    assert_int_equal(submit(true, 0, buf, 4096, 3), 0);
    struct blk_done done[4];
    assert_int_equal(vb.bd.ops->poll(&vb.bd, done, 4, false), 1);
    assert_int_equal(done[0].tag, 3);
    assert_int_equal(done[0].result, -PV_EIO);
    assert_true(vb.broken);
    assert_true(host_log_contains("not in flight"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain),
        cmocka_unit_test_teardown(test_read_write_roundtrip, teardown),
        cmocka_unit_test_teardown(test_invalid_requests, teardown),
        cmocka_unit_test_teardown(test_seg_max_splits_into_requests_in_flight, teardown),
        cmocka_unit_test_teardown(test_more_requests_than_the_ring_holds, teardown),
        cmocka_unit_test_teardown(test_device_error_is_eio_and_named, teardown),
        cmocka_unit_test_teardown(test_batch_results_per_request, teardown),
        cmocka_unit_test_teardown(test_timeout_marks_device_failed, teardown),
        cmocka_unit_test_teardown(test_slow_device_is_logged_before_it_fails, teardown),
        cmocka_unit_test_teardown(test_reset_under_the_driver_fails_at_once, teardown),
        cmocka_unit_test_teardown(test_needs_reset_fails_at_once, teardown),
        cmocka_unit_test_teardown(test_bogus_completion_marks_device_failed, teardown),
        cmocka_unit_test_teardown(test_flush, teardown),
        cmocka_unit_test_teardown(test_async_completions_out_of_order_and_delayed, teardown),
        cmocka_unit_test_teardown(test_async_completion_met_by_a_synchronous_wait, teardown),
        cmocka_unit_test_teardown(test_async_bounded_by_the_ring, teardown),
        cmocka_unit_test_teardown(test_async_error_is_per_request, teardown),
        cmocka_unit_test_teardown(test_async_device_lost_answers_every_request, teardown),
        cmocka_unit_test_teardown(test_async_requests_answered_when_a_sync_wait_loses_the_device,
                                  teardown),
        cmocka_unit_test_teardown(test_async_reset_under_the_driver, teardown),
        cmocka_unit_test_teardown(test_async_bogus_completion, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

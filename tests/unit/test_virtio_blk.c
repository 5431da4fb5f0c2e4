/* Unit tests for vmm/drivers/virtio_blk.c: request chains, and the whole
 * synchronous request path against the fake device of virtio_blk_fake.h
 * (the asynchronous path: test_virtio_blk_async.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/virtio_blk_fake.h"

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the asynchronous path of vmm/drivers/virtio_blk.c
 * (blkdev submit / poll) against the fake device of virtio_blk_fake.h:
 * completions late and out of order, met by a synchronous wait, the ring's
 * bound, per-request errors, and a lost device answering every request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/virtio_blk_fake.h"

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

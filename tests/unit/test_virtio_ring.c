/* Unit tests for the split virtqueue (swap/virtio_ring.c); the test plays
 * the device on the same memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/lib/types.h"
#include "vmm/drivers/virtio_ring.h"

static void *ring_mem(uint16_t size)
{
    void *p = aligned_alloc(4096, ALIGN_UP(vring_bytes(size), 4096));
    assert_non_null(p);
    return p;
}

/* Device side: complete the chain at head, claiming `written` bytes. */
static void device_complete(struct vring *vr, uint16_t head, uint32_t written)
{
    uint16_t u = vr->used->idx;
    vr->used->ring[u & (vr->size - 1)].id = head;
    vr->used->ring[u & (vr->size - 1)].len = written;
    vr->used->idx = (uint16_t)(u + 1);
}

static void test_layout(void **state)
{
    (void)state;
    /* virtio 1.0 2.4: desc 16*Q, avail 6+2*Q, used 6+8*Q (used aligned to 4). */
    assert_int_equal(vring_avail_offset(128), 2048);
    assert_int_equal(vring_used_offset(128), ALIGN_UP(2048 + 6 + 256, 4));
    assert_int_equal(vring_bytes(128), vring_used_offset(128) + 6 + 8 * 128);
    assert_int_equal(vring_used_offset(1) % VRING_USED_ALIGN, 0);
    assert_int_equal(vring_used_offset(2) % VRING_USED_ALIGN, 0);
}

static void test_init_rejects_bad_sizes(void **state)
{
    (void)state;
    struct vring vr;
    void *m = ring_mem(VRING_MAX_SIZE);
    assert_int_equal(vring_init(&vr, m, 0), -PV_EINVAL);
    assert_int_equal(vring_init(&vr, m, 96), -PV_EINVAL);
    assert_int_equal(vring_init(&vr, m, VRING_MAX_SIZE * 2), -PV_EINVAL);
    assert_int_equal(vring_init(&vr, (uint8_t *)m + 8, 8), -PV_EINVAL);
    assert_int_equal(vring_init(&vr, m, 8), 0);
    assert_int_equal(vr.num_free, 8);
    assert_int_equal(vr.avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
    free(m);
}

static void test_chain_building(void **state)
{
    (void)state;
    struct vring vr;
    void *m = ring_mem(8);
    assert_int_equal(vring_init(&vr, m, 8), 0);
    struct vring_buf bufs[3] = {
        { 0x1000, 16, false }, { 0x2000, 4096, true }, { 0x3000, 1, true },
    };
    int head = vring_add(&vr, bufs, 3, 7);
    assert_true(head >= 0);
    assert_int_equal(vr.num_free, 5);
    /* not visible before publish */
    assert_int_equal(vr.avail->idx, 0);
    vring_publish(&vr);
    assert_int_equal(vr.avail->idx, 1);
    assert_int_equal(vr.avail->ring[0], head);
    /* walk the chain as the device would */
    uint16_t i = (uint16_t)head;
    for (unsigned k = 0; k < 3; k++) {
        assert_int_equal(vr.desc[i].addr, bufs[k].addr);
        assert_int_equal(vr.desc[i].len, bufs[k].len);
        assert_int_equal(!!(vr.desc[i].flags & VRING_DESC_F_WRITE), bufs[k].device_writes);
        assert_int_equal(!!(vr.desc[i].flags & VRING_DESC_F_NEXT), k < 2);
        i = vr.desc[i].next;
    }
    uint16_t cookie = 0;
    uint32_t len = 0;
    assert_int_equal(vring_pop_used(&vr, &cookie, &len), 0);
    device_complete(&vr, (uint16_t)head, 4097);
    assert_int_equal(vring_pop_used(&vr, &cookie, &len), 1);
    assert_int_equal(cookie, 7);
    assert_int_equal(len, 4097);
    assert_int_equal(vr.num_free, 8);
    assert_int_equal(vring_outstanding(&vr), 0);
    assert_int_equal(vring_pop_used(&vr, &cookie, &len), 0);
    free(m);
}

static void test_full_ring_and_out_of_order(void **state)
{
    (void)state;
    struct vring vr;
    void *m = ring_mem(8);
    assert_int_equal(vring_init(&vr, m, 8), 0);
    struct vring_buf bufs[3] = { { 0x1000, 16, false }, { 0x2000, 512, true }, { 0x3000, 1, true } };
    int h0 = vring_add(&vr, bufs, 3, 100);
    int h1 = vring_add(&vr, bufs, 3, 101);
    assert_true(h0 >= 0 && h1 >= 0 && h0 != h1);
    assert_int_equal(vr.num_free, 2);
    assert_int_equal(vring_add(&vr, bufs, 3, 102), -PV_ENOMEM);
    assert_int_equal(vring_add(&vr, bufs, 0, 102), -PV_EINVAL);
    assert_int_equal(vring_outstanding(&vr), 2);
    vring_publish(&vr);
    assert_int_equal(vr.avail->idx, 2);
    /* the device finishes the second first */
    device_complete(&vr, (uint16_t)h1, 0);
    device_complete(&vr, (uint16_t)h0, 0);
    uint16_t c;
    uint32_t len;
    assert_int_equal(vring_pop_used(&vr, &c, &len), 1);
    assert_int_equal(c, 101);
    assert_int_equal(vr.num_free, 5);
    /* freed descriptors are reusable at once */
    int h2 = vring_add(&vr, bufs, 3, 102);
    assert_true(h2 >= 0);
    assert_int_equal(vring_pop_used(&vr, &c, &len), 1);
    assert_int_equal(c, 100);
    assert_int_equal(vr.num_free, 5);
    free(m);
}

static void test_bogus_used_entries(void **state)
{
    (void)state;
    struct vring vr;
    void *m = ring_mem(8);
    assert_int_equal(vring_init(&vr, m, 8), 0);
    struct vring_buf b[2] = { { 0x1000, 16, false }, { 0x3000, 1, true } };
    int h = vring_add(&vr, b, 2, 1);
    vring_publish(&vr);
    uint16_t c;
    uint32_t len;
    /* an id out of range */
    device_complete(&vr, 200, 0);
    assert_int_equal(vring_pop_used(&vr, &c, &len), -PV_EIO);
    /* an id that is not an outstanding head */
    vr.used->ring[0].id = (uint16_t)(h + 1);
    assert_int_equal(vring_pop_used(&vr, &c, &len), -PV_EIO);
    /* the index jumping past what was outstanding */
    vr.used->ring[0].id = (uint16_t)h;
    vr.used->idx = 5;
    assert_int_equal(vring_pop_used(&vr, &c, &len), -PV_EIO);
    vr.used->idx = 1;
    assert_int_equal(vring_pop_used(&vr, &c, &len), 1);
    /* the same head reported twice */
    device_complete(&vr, (uint16_t)h, 0);
    assert_int_equal(vring_pop_used(&vr, &c, &len), -PV_EIO);
    free(m);
}

static void test_index_wraparound(void **state)
{
    (void)state;
    struct vring vr;
    void *m = ring_mem(4);
    assert_int_equal(vring_init(&vr, m, 4), 0);
    struct vring_buf b[2] = { { 0x1000, 16, false }, { 0x3000, 1, true } };
    /* 70000 requests, two at a time: both 16-bit indices wrap. */
    for (unsigned r = 0; r < 35000; r++) {
        int h0 = vring_add(&vr, b, 2, (uint16_t)(2 * r));
        int h1 = vring_add(&vr, b, 2, (uint16_t)(2 * r + 1));
        assert_true(h0 >= 0 && h1 >= 0);
        vring_publish(&vr);
        assert_int_equal(vr.avail->ring[(uint16_t)(vr.avail->idx - 2) & 3], h0);
        device_complete(&vr, (uint16_t)h0, 0);
        device_complete(&vr, (uint16_t)h1, 0);
        uint16_t c;
        uint32_t len;
        assert_int_equal(vring_pop_used(&vr, &c, &len), 1);
        assert_int_equal(c, (uint16_t)(2 * r));
        assert_int_equal(vring_pop_used(&vr, &c, &len), 1);
        assert_int_equal(c, (uint16_t)(2 * r + 1));
        assert_int_equal(vr.num_free, 4);
    }
    assert_int_equal(vr.avail->idx, (uint16_t)70000);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_init_rejects_bad_sizes),
        cmocka_unit_test(test_chain_building),
        cmocka_unit_test(test_full_ring_and_out_of_order),
        cmocka_unit_test(test_bogus_used_entries),
        cmocka_unit_test(test_index_wraparound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

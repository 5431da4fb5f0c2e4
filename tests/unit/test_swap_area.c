/* Unit tests for the swap slot allocator, checksums and batched slot I/O
 * (swap/swap_area.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/blk_file.h"
#include "swap/swap_area.h"
#include "tests/unit/host_log.h"
#include "tests/unit/test_swap_mkswap.h"

struct area_env {
    uint64_t pages;
    uint8_t *disk;
    struct blk_file blk;
    struct swap_area a;
    void *meta;
    uint8_t hdr[PAGE_SIZE];
    uint8_t (*buf)[PAGE_SIZE]; /* page buffers for I/O */
};

static struct area_env *area_new(uint64_t pages, const uint32_t *bad, uint32_t nbad)
{
    struct area_env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->pages = pages;
    e->disk = calloc(pages, PAGE_SIZE);
    e->buf = calloc(128, PAGE_SIZE);
    assert_non_null(e->disk);
    assert_non_null(e->buf);
    swap_env_mkswap(e->disk, pages, bad, nbad);
    assert_int_equal(blk_file_init(&e->blk, e->disk, pages * PAGE_SIZE, BLK_FILE_SECTOR,
                                   "ramdisk"),
                     0);
    struct swap_header_info info;
    char err[128];
    assert_int_equal(swap_header_parse(&e->blk.dev, e->hdr, &info, err, sizeof(err)), 0);
    size_t len = swap_area_meta_size(pages);
    e->meta = aligned_alloc(8, ALIGN_UP(len, 8));
    memset(e->meta, 0xab, len); /* init must not rely on zeroed memory */
    assert_int_equal(swap_area_init(&e->a, &e->blk.dev, 0, &info, e->meta, len), 0);
    assert_true(swap_area_check(&e->a));
    return e;
}

static void area_free(struct area_env *e)
{
    assert_true(swap_area_check(&e->a));
    free(e->meta);
    free(e->disk);
    free(e->buf);
    free(e);
}

static uint64_t alloc_one(struct area_env *e)
{
    uint64_t s = 0;
    assert_int_equal(swap_area_alloc(&e->a, &s), 0);
    return s;
}

static void fill(uint8_t *p, uint64_t tag)
{
    for (size_t i = 0; i < PAGE_SIZE; i++)
        p[i] = (uint8_t)(tag * 31 + i * 7 + (i >> 8));
}

/* ---- allocation ------------------------------------------------------------ */

static void test_clusters(void **state)
{
    (void)state;
    struct area_env *e = area_new(300, NULL, 0); /* clusters of 64: 0..4 */
    assert_int_equal(e->a.nslots, 299);
    assert_int_equal(e->a.nclusters, 5);
    /* cluster 0 (slot 0 is the header) is handed out in order ... */
    for (uint64_t s = 1; s < SWAP_CLUSTER_SLOTS; s++)
        assert_int_equal(alloc_one(e), s);
    assert_int_equal(e->a.st.clusters_taken, 1);
    /* ... then a new, wholly free cluster */
    assert_int_equal(alloc_one(e), 64);
    assert_int_equal(e->a.st.clusters_taken, 2);
    /* freed slots behind the cursor are not reused while whole clusters
     * remain: neighbours stay neighbours */
    swap_area_set_cached(&e->a, 10, false);
    swap_area_set_cached(&e->a, 11, false);
    assert_false(swap_area_in_use(&e->a, 10));
    assert_int_equal(alloc_one(e), 65);
    for (uint64_t s = 66; s < 300; s++)
        assert_int_equal(alloc_one(e), s);
    assert_int_equal(e->a.st.clusters_taken, 5);
    /* only now the holes: a partly used cluster serves */
    assert_int_equal(alloc_one(e), 10);
    assert_int_equal(alloc_one(e), 11);
    uint64_t s;
    assert_int_equal(swap_area_alloc(&e->a, &s), -PV_ENOSPC);
    assert_int_equal(e->a.st.alloc_failed, 1);
    assert_int_equal(e->a.used, 299);
    area_free(e);
}

/* A cluster search skips clusters with no free slot and starts a wholly
 * free one before a partly used one. */
static void test_cluster_preference(void **state)
{
    (void)state;
    struct area_env *e = area_new(256, NULL, 0); /* clusters 0..3 */
    for (int i = 0; i < 63 + 64; i++)
        alloc_one(e); /* clusters 0 and 1 full */
    swap_area_set_cached(&e->a, 100, false); /* cluster 1: one hole */
    assert_int_equal(alloc_one(e), 128);    /* cluster 2 is wholly free */
    area_free(e);
}

static void test_bad_pages_never_allocated(void **state)
{
    (void)state;
    const uint32_t bad[] = { 2, 70, 71, 299 };
    struct area_env *e = area_new(300, bad, 4);
    assert_int_equal(e->a.bad, 4);
    assert_int_equal(e->a.nslots, 295);
    for (int i = 0; i < 295; i++) {
        uint64_t s = alloc_one(e);
        assert_true(s != 0 && s != 2 && s != 70 && s != 71 && s != 299);
    }
    uint64_t s;
    assert_int_equal(swap_area_alloc(&e->a, &s), -PV_ENOSPC);
    area_free(e);
}

static void test_use_counts(void **state)
{
    (void)state;
    struct area_env *e = area_new(100, NULL, 0);
    uint64_t s = alloc_one(e);
    const struct swap_slot *sl = &e->a.slot[s];
    assert_int_equal(sl->state, SLOT_USED);
    assert_int_equal(sl->flags, SLOT_CACHED);
    assert_int_equal(sl->count, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(swap_area_dup(&e->a, s), 0);
    swap_area_set_cached(&e->a, s, false); /* entries still hold it */
    assert_true(swap_area_in_use(&e->a, s));
    swap_area_put(&e->a, s);
    swap_area_put(&e->a, s);
    assert_true(swap_area_in_use(&e->a, s));
    swap_area_put(&e->a, s);
    assert_false(swap_area_in_use(&e->a, s));
    assert_int_equal(e->a.used, 0);
    /* a free slot cannot gain users; putting it is an error, logged */
    assert_int_equal(swap_area_dup(&e->a, s), -PV_EINVAL);
    host_log_clear();
    swap_area_put(&e->a, s);
    assert_true(host_log_contains("put of slot"));
    /* counts saturate instead of wrapping */
    s = alloc_one(e);
    e->a.slot[s].count = SWAP_SLOT_COUNT_MAX;
    assert_int_equal(swap_area_dup(&e->a, s), -PV_ENOSPC);
    e->a.slot[s].count = 0;
    swap_area_set_cached(&e->a, s, false);
    area_free(e);
}

static void test_mark_bad(void **state)
{
    (void)state;
    struct area_env *e = area_new(130, NULL, 0);
    uint64_t s = alloc_one(e); /* 1 */
    swap_area_mark_bad(&e->a, s);
    swap_area_mark_bad(&e->a, 2); /* a free slot too */
    assert_int_equal(e->a.bad, 2);
    assert_int_equal(e->a.used, 0);
    assert_int_equal(e->a.nslots, 127);
    assert_true(swap_area_check(&e->a));
    /* the cache letting go of a bad slot changes nothing */
    swap_area_set_cached(&e->a, s, false);
    assert_int_equal(e->a.slot[s].state, SLOT_BAD);
    for (int i = 0; i < 127; i++) {
        uint64_t t = alloc_one(e);
        assert_true(t != 1 && t != 2);
    }
    area_free(e);
}

/* ---- checksum ---------------------------------------------------------------- */

static void test_checksum(void **state)
{
    (void)state;
    uint8_t *p = malloc(PAGE_SIZE);
    fill(p, 3);
    uint32_t c = swap_csum(7, p);
    assert_int_equal(swap_csum(7, p), c);    /* deterministic */
    assert_int_not_equal(swap_csum(8, p), c); /* slot-seeded */
    assert_int_not_equal(swap_csum(7ull | (1ull << 32), p), c);
    /* any single-bit flip, anywhere, changes it */
    for (size_t i = 0; i < PAGE_SIZE; i += 37) {
        for (int b = 0; b < 8; b++) {
            p[i] ^= (uint8_t)(1u << b);
            assert_int_not_equal(swap_csum(7, p), c);
            p[i] ^= (uint8_t)(1u << b);
        }
    }
    /* a whole 32-bit word changed to anything else too */
    for (uint32_t v = 1; v < 5000; v += 7) {
        uint32_t w;
        memcpy(&w, p + 2048, 4);
        uint32_t x = w ^ v;
        memcpy(p + 2048, &x, 4);
        assert_int_not_equal(swap_csum(7, p), c);
        memcpy(p + 2048, &w, 4);
    }
    memset(p, 0, PAGE_SIZE);
    assert_int_not_equal(swap_csum(7, p), swap_csum(9, p));
    free(p);
}

/* ---- batched I/O ------------------------------------------------------------------ */

static unsigned prep(struct area_env *e, struct swap_io *io, const uint64_t *slots,
                     unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        io[i].slot = slots[i];
        io[i].buf = e->buf[i];
        io[i].result = 99;
        fill(e->buf[i], slots[i]);
    }
    return n;
}

static void test_write_merges_and_reads_verify(void **state)
{
    (void)state;
    struct area_env *e = area_new(200, NULL, 0);
    for (int i = 0; i < 12; i++)
        alloc_one(e); /* slots 1..12 */
    struct swap_io io[8];
    const uint64_t slots[] = { 9, 5, 6, 7, 10 }; /* unsorted: sorted in place */
    unsigned n = prep(e, io, slots, 5);
    assert_int_equal(swap_area_write(&e->a, io, n), 5);
    assert_int_equal(e->blk.write_reqs, 2); /* 5-7 and 9-10 */
    assert_int_equal(e->a.st.write_requests, 2);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(io[i].result, 0);
        if (i)
            assert_true(io[i].slot > io[i - 1].slot);
        assert_memory_equal(e->disk + io[i].slot * PAGE_SIZE, io[i].buf, PAGE_SIZE);
        assert_true(e->a.slot[io[i].slot].flags & SLOT_WRITTEN);
        assert_int_equal(e->a.slot[io[i].slot].csum, swap_csum(io[i].slot, io[i].buf));
    }
    /* read 5, 6, 7 back into fresh buffers: one request */
    struct swap_io rd[3];
    for (unsigned i = 0; i < 3; i++) {
        rd[i].slot = 5 + i;
        rd[i].buf = e->buf[64 + i];
        memset(rd[i].buf, 0, PAGE_SIZE);
    }
    assert_int_equal(swap_area_read(&e->a, rd, 3), 3);
    assert_int_equal(e->blk.read_reqs, 2); /* the header read, then this one */
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(rd[i].result, 0);
        uint8_t want[PAGE_SIZE];
        fill(want, 5 + i);
        assert_memory_equal(rd[i].buf, want, PAGE_SIZE);
    }
    assert_int_equal(e->a.st.pages_read, 3);
    area_free(e);
}

static void test_request_size_limit(void **state)
{
    (void)state;
    struct area_env *e = area_new(200, NULL, 0);
    struct swap_io io[70];
    uint64_t slots[70];
    for (unsigned i = 0; i < 70; i++)
        slots[i] = alloc_one(e);
    prep(e, io, slots, 64);
    for (unsigned i = 64; i < 70; i++) {
        io[i].slot = slots[i];
        io[i].buf = e->buf[i];
    }
    assert_int_equal(swap_area_write(&e->a, io, 70), 70);
    assert_int_equal(e->blk.write_reqs, 2); /* BLK_MAX_SEGS + 6 */
    area_free(e);
}

static void test_write_errors(void **state)
{
    (void)state;
    struct area_env *e = area_new(200, NULL, 0);
    for (int i = 0; i < 20; i++)
        alloc_one(e);
    struct swap_io io[8];
    /* a transient failure of the merged request: retried page by page */
    const uint64_t run[] = { 1, 2, 3 };
    prep(e, io, run, 3);
    blk_file_fail_write_in(&e->blk, 1);
    assert_int_equal(swap_area_write(&e->a, io, 3), 3);
    assert_int_equal(e->blk.write_reqs, 4);
    assert_int_equal(e->a.st.write_errors, 0);
    assert_int_equal(e->a.bad, 0);

    /* a persistent bad sector in slot 6: only slot 6 goes bad */
    const uint64_t run2[] = { 5, 6, 7 };
    prep(e, io, run2, 3);
    blk_file_set_bad(&e->blk, 6 * 8 + 3, 6 * 8 + 4, BLK_FAIL_WRITE);
    host_log_clear();
    assert_int_equal(swap_area_write(&e->a, io, 3), 2);
    assert_int_equal(io[0].result, 0);
    assert_int_equal(io[1].result, -PV_EIO);
    assert_int_equal(io[2].result, 0);
    assert_true(host_log_contains("write of slot 6 on ramdisk failed: slot marked bad"));
    assert_int_equal(e->a.slot[6].state, SLOT_BAD);
    assert_int_equal(e->a.bad, 1);
    assert_int_equal(e->a.st.write_errors, 1);
    assert_true(swap_area_check(&e->a));
    /* a single-page failing write is not retried */
    blk_file_set_bad(&e->blk, 0, 0, 0);
    const uint64_t one[] = { 9 };
    prep(e, io, one, 1);
    uint64_t reqs = e->blk.write_reqs;
    blk_file_fail_write_in(&e->blk, 1);
    assert_int_equal(swap_area_write(&e->a, io, 1), 0);
    assert_int_equal(e->blk.write_reqs, reqs + 1);
    assert_int_equal(e->a.slot[9].state, SLOT_BAD);
    area_free(e);
}

static void test_read_errors_and_corruption(void **state)
{
    (void)state;
    struct area_env *e = area_new(200, NULL, 0);
    for (int i = 0; i < 20; i++)
        alloc_one(e);
    struct swap_io io[8];
    const uint64_t slots[] = { 7, 8, 9, 10 };
    prep(e, io, slots, 4);
    assert_int_equal(swap_area_write(&e->a, io, 4), 4);

    /* one flipped bit in slot 8 on the device */
    blk_file_corrupt(&e->blk, 8 * PAGE_SIZE + 1234, 0x10);
    /* a read error on slot 10's sectors */
    blk_file_set_bad(&e->blk, 10 * 8, 10 * 8 + 1, BLK_FAIL_READ);
    for (unsigned i = 0; i < 4; i++)
        memset(io[i].buf, 0, PAGE_SIZE);
    assert_int_equal(swap_area_read(&e->a, io, 4), 2);
    assert_int_equal(io[0].result, 0);
    assert_int_equal(io[1].result, -PV_ECORRUPT);
    assert_int_equal(io[2].result, 0);
    assert_int_equal(io[3].result, -PV_EIO);
    assert_int_equal(e->a.st.csum_errors, 1);
    assert_int_equal(e->a.st.read_errors, 1);
    /* 1 merged request failed, then 4 singles */
    assert_int_equal(e->a.st.read_requests, 5);

    /* a slot never written reads as corrupt, whatever the device holds */
    struct swap_io x = { 15, e->buf[20], 0, 0 };
    assert_int_equal(swap_area_read(&e->a, &x, 1), 0);
    assert_int_equal(x.result, -PV_ECORRUPT);
    area_free(e);
}

static void test_no_device(void **state)
{
    (void)state;
    struct swap_area a;
    assert_int_equal(swap_area_init(&a, NULL, 0, NULL, NULL, 0), 0);
    uint64_t s;
    assert_int_equal(swap_area_alloc(&a, &s), -PV_ENOSPC);
    assert_false(swap_area_in_use(&a, 1));
    assert_true(swap_area_check(&a));
    /* too little metadata */
    struct area_env *e = area_new(100, NULL, 0);
    struct swap_header_info info;
    char err[64];
    assert_int_equal(swap_header_parse(&e->blk.dev, e->hdr, &info, err, sizeof(err)), 0);
    assert_int_equal(swap_area_init(&a, &e->blk.dev, 0, &info, e->meta,
                                    swap_area_meta_size(100) - 8),
                     -PV_EINVAL);
    area_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clusters),
        cmocka_unit_test(test_cluster_preference),
        cmocka_unit_test(test_bad_pages_never_allocated),
        cmocka_unit_test(test_use_counts),
        cmocka_unit_test(test_mark_bad),
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_write_merges_and_reads_verify),
        cmocka_unit_test(test_request_size_limit),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_read_errors_and_corruption),
        cmocka_unit_test(test_no_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

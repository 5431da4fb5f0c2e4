/* Unit tests for the frame pool (ept/frame.c, ept/frame_rmap.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ept/frame.h"

struct arena {
    void *mem;
    uint64_t size;
    struct frame_pool fp;
};

static void arena_init(struct arena *a, uint64_t size, uint64_t misalign)
{
    a->size = size;
    a->mem = aligned_alloc(HUGE_2M, ALIGN_UP(size + misalign, HUGE_2M));
    assert_non_null(a->mem);
    assert_int_equal(frame_pool_init(&a->fp, va_hpa(a->mem) + misalign, size),
                     PV_OK);
    assert_true(frame_pool_check(&a->fp));
}

static void arena_fini(struct arena *a) { free(a->mem); }

/* Whole free 2 MiB blocks, counted from the descriptors' point of view. */
static size_t whole_free_blocks(const struct frame_pool *fp)
{
    size_t n = 0;
    for (size_t b = 0; b < fp->nblocks; b++)
        n += fp->block_used[b] == 0;
    return n;
}

static void test_init_and_zero_frame(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 8 * HUGE_2M, 0);
    struct frame_pool *fp = &a.fp;
    assert_true(fp->nframes > 7 * PAGES_PER_2M);
    assert_true(fp->first >= fp->base && IS_ALIGNED(fp->first, PAGE_SIZE));
    assert_true(fp->first + fp->nframes * PAGE_SIZE <= fp->end);
    assert_int_equal(frame_used_count(fp), 1); /* the zero frame */
    struct frame *z = fp->zero;
    assert_non_null(z);
    assert_true(z->flags & FRAME_ZERO);
    assert_true(z->flags & FRAME_PINNED);
    const uint8_t *p = frame_va(fp, z);
    for (size_t i = 0; i < PAGE_SIZE; i++)
        assert_int_equal(p[i], 0);
    /* never freed, whatever the holders do */
    frame_get(z);
    assert_false(frame_put(fp, z));
    assert_false(frame_put(fp, z));
    assert_false(frame_put(fp, z));
    assert_true(z->refcount >= 1);
    assert_int_equal(frame_used_count(fp), 1);
    assert_true(frame_pool_check(fp));
    arena_fini(&a);
}

static void test_init_too_small(void **state)
{
    (void)state;
    struct frame_pool fp;
    void *mem = aligned_alloc(PAGE_SIZE, 4 * PAGE_SIZE);
    assert_int_equal(frame_pool_init(&fp, va_hpa(mem), PAGE_SIZE), -PV_EINVAL);
    assert_int_equal(frame_pool_init(&fp, va_hpa(mem), 0), -PV_EINVAL);
    assert_int_equal(frame_pool_init(&fp, va_hpa(mem), 4 * PAGE_SIZE), PV_OK);
    assert_true(fp.nframes >= 2);
    assert_true(frame_pool_check(&fp));
    free(mem);
}

static void test_alloc_free_refcount(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4 * HUGE_2M, 0);
    struct frame_pool *fp = &a.fp;
    size_t free0 = frame_free_count(fp);
    struct frame *f = frame_alloc(fp, FRAME_GUEST);
    assert_non_null(f);
    assert_int_equal(f->refcount, 1);
    assert_int_equal(f->flags, FRAME_GUEST);
    assert_int_equal(f->mapcount, 0);
    assert_true(f->swap_slot == SWAP_SLOT_NONE);
    assert_true(list_empty(&f->lru));
    assert_int_equal(frame_free_count(fp), free0 - 1);
    hpa_t h = frame_hpa(fp, f);
    assert_true(IS_ALIGNED(h, PAGE_SIZE));
    assert_ptr_equal(frame_of(fp, h), f);
    memset(frame_va(fp, f), 0xa5, PAGE_SIZE); /* really ours (ASan) */

    frame_get(f);
    assert_int_equal(f->refcount, 2);
    assert_false(frame_put(fp, f));
    assert_int_equal(frame_free_count(fp), free0 - 1);
    assert_true(frame_put(fp, f));
    assert_int_equal(frame_free_count(fp), free0);
    assert_int_equal(f->refcount, 0);
    assert_int_equal(f->flags, 0);

    struct frame *z = frame_alloc_zeroed(fp, FRAME_TABLE);
    assert_non_null(z);
    const uint8_t *p = frame_va(fp, z);
    for (size_t i = 0; i < PAGE_SIZE; i++)
        assert_int_equal(p[i], 0);
    assert_true(frame_put(fp, z));
    assert_true(frame_pool_check(fp));
    assert_true(fp->allocs >= 2 && fp->frees >= 2);
    arena_fini(&a);
}

static void test_exhaustion(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 3 * HUGE_2M, 0);
    struct frame_pool *fp = &a.fp;
    size_t n = frame_free_count(fp);
    struct frame **all = calloc(n, sizeof(*all));
    for (size_t i = 0; i < n; i++) {
        all[i] = frame_alloc(fp, FRAME_GUEST);
        assert_non_null(all[i]);
        for (size_t j = 0; j < i && j < 4; j++)
            assert_ptr_not_equal(all[i], all[j]);
    }
    assert_int_equal(frame_free_count(fp), 0);
    uint64_t failed = fp->failed;
    assert_null(frame_alloc(fp, FRAME_GUEST));
    assert_null(frame_alloc_2m(fp, FRAME_GUEST));
    assert_int_equal(fp->failed, failed + 2);
    assert_int_equal(fp->peak_used, fp->nframes);
    assert_true(frame_pool_check(fp));
    for (size_t i = 0; i < n; i++)
        assert_true(frame_put(fp, all[i]));
    assert_int_equal(frame_free_count(fp), n);
    assert_int_equal(fp->peak_used, fp->nframes); /* high-water mark stays */
    assert_true(frame_pool_check(fp));
    free(all);
    arena_fini(&a);
}

static void test_alloc_2m(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 6 * HUGE_2M, PAGE_SIZE * 3); /* unaligned range */
    struct frame_pool *fp = &a.fp;
    size_t free0 = frame_free_count(fp);
    size_t whole = whole_free_blocks(fp);
    assert_true(whole >= 3);
    struct frame *h = frame_alloc_2m(fp, FRAME_GUEST);
    assert_non_null(h);
    hpa_t hh = frame_hpa(fp, h);
    assert_true(IS_ALIGNED(hh, HUGE_2M));
    assert_int_equal(h->refcount, 1);
    assert_true(h->flags & FRAME_HUGE_HEAD);
    assert_true(h->flags & FRAME_GUEST);
    assert_int_equal(frame_free_count(fp), free0 - PAGES_PER_2M);
    for (size_t i = 1; i < PAGES_PER_2M; i++) {
        struct frame *t = frame_of(fp, hh + i * PAGE_SIZE);
        assert_ptr_equal(t, h + i);
        assert_true(t->flags & FRAME_HUGE_TAIL);
        assert_ptr_equal(frame_head(fp, t), h);
    }
    assert_ptr_equal(frame_head(fp, h), h);
    memset(frame_va(fp, h), 0x5a, HUGE_2M);
    assert_true(frame_pool_check(fp));
    /* putting through a tail frees the block */
    assert_true(frame_put(fp, h + 7));
    assert_int_equal(frame_free_count(fp), free0);
    assert_true(frame_pool_check(fp));

    /* take every whole block, then no more */
    struct frame *blocks[64];
    size_t nb = 0;
    while ((blocks[nb] = frame_alloc_2m(fp, FRAME_GUEST)) != NULL)
        nb++;
    assert_int_equal(nb, whole);
    assert_int_equal(fp->allocs_2m, whole + 1);
    assert_true(frame_pool_check(fp));
    for (size_t i = 0; i < nb; i++)
        assert_true(frame_put(fp, blocks[i]));
    assert_int_equal(frame_free_count(fp), free0);
    assert_true(frame_pool_check(fp));
    arena_fini(&a);
}

static void test_prefers_partly_used_blocks(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 6 * HUGE_2M, 0);
    struct frame_pool *fp = &a.fp;
    size_t whole = whole_free_blocks(fp);
    size_t in_partial = frame_free_count(fp) - whole * PAGES_PER_2M;
    assert_true(whole >= 2);
    assert_true(in_partial > 0);
    /* all frames of partly used blocks go before any block is broken */
    for (size_t i = 0; i < in_partial; i++) {
        assert_non_null(frame_alloc(fp, FRAME_GUEST));
        assert_int_equal(whole_free_blocks(fp), whole);
    }
    struct frame *f = frame_alloc(fp, FRAME_GUEST);
    assert_non_null(f);
    assert_int_equal(whole_free_blocks(fp), whole - 1);
    /* the broken block is now the partly used one: no second block goes */
    struct frame *more[100];
    for (size_t i = 0; i < 100; i++) {
        more[i] = frame_alloc(fp, FRAME_GUEST);
        assert_non_null(more[i]);
        assert_true(ALIGN_DOWN(frame_hpa(fp, more[i]), HUGE_2M) ==
                    ALIGN_DOWN(frame_hpa(fp, f), HUGE_2M));
    }
    assert_int_equal(whole_free_blocks(fp), whole - 1);
    /* a hole in a full block is preferred to an empty block */
    struct frame *g = frame_alloc_2m(fp, FRAME_GUEST);
    assert_non_null(g);
    frame_split_2m(fp, g);
    hpa_t hole = frame_hpa(fp, g + 9);
    assert_true(frame_put(fp, g + 9));
    size_t whole_now = whole_free_blocks(fp);
    for (size_t i = 0; i < 100; i++)
        assert_true(frame_put(fp, more[i]));
    /* every frame of the partly used blocks (f's and the hole) goes before
     * a whole block is broken, and the hole is among them */
    size_t partial_room = frame_free_count(fp) - whole_now * PAGES_PER_2M;
    bool found = false;
    for (size_t i = 0; i < partial_room; i++) {
        struct frame *h = frame_alloc(fp, FRAME_GUEST);
        assert_non_null(h);
        assert_int_equal(whole_free_blocks(fp), whole_now);
        found |= frame_hpa(fp, h) == hole;
    }
    assert_true(found);
    assert_non_null(frame_alloc(fp, FRAME_GUEST));
    assert_int_equal(whole_free_blocks(fp), whole_now - 1);
    assert_true(frame_pool_check(fp));
    arena_fini(&a);
}

static void test_split_2m(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4 * HUGE_2M, 0);
    struct frame_pool *fp = &a.fp;
    size_t free0 = frame_free_count(fp);
    struct frame *h = frame_alloc_2m(fp, FRAME_GUEST | FRAME_DIRTY);
    assert_non_null(h);
    const gpa_t g = 0x40200000;
    assert_int_equal(frame_rmap_add(fp, h, g), PV_OK);
    frame_split_2m(fp, h);
    for (size_t i = 0; i < PAGES_PER_2M; i++) {
        struct frame *f = h + i;
        assert_int_equal(f->refcount, 1);
        assert_false(f->flags & (FRAME_HUGE_HEAD | FRAME_HUGE_TAIL));
        assert_true(f->flags & FRAME_GUEST);
        assert_true(f->flags & FRAME_DIRTY);
        assert_ptr_equal(frame_head(fp, f), f);
        gpa_t got[2];
        assert_int_equal(frame_rmap_get(f, got, 2), 1);
        assert_true(got[0] == g + i * PAGE_SIZE);
    }
    assert_true(frame_pool_check(fp));
    /* independent now: freeing one frees only that one */
    assert_true(frame_put(fp, h + 3));
    assert_int_equal(frame_free_count(fp), free0 - PAGES_PER_2M + 1);
    assert_true(frame_pool_check(fp));
    for (size_t i = 0; i < PAGES_PER_2M; i++)
        if (i != 3)
            assert_true(frame_put(fp, h + i));
    assert_int_equal(frame_free_count(fp), free0);
    assert_true(frame_pool_check(fp));
    arena_fini(&a);
}

static bool contains(const gpa_t *v, size_t n, gpa_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

static void test_rmap(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4 * HUGE_2M, 0);
    struct frame_pool *fp = &a.fp;
    struct frame *f = frame_alloc(fp, FRAME_GUEST);
    enum { N = 200 };
    gpa_t got[N + 8];
    assert_int_equal(frame_rmap_get(f, got, N), 0);
    assert_int_equal(frame_rmap_del(fp, f, 0x1000), -PV_ENOENT);
    for (gpa_t i = 0; i < N; i++)
        assert_int_equal(frame_rmap_add(fp, f, (i + 1) * PAGE_SIZE), PV_OK);
    assert_int_equal(f->mapcount, N);
    assert_int_equal(frame_rmap_get(f, got, N + 8), N);
    for (gpa_t i = 0; i < N; i++)
        assert_true(contains(got, N, (i + 1) * PAGE_SIZE));
    /* truncated copy still reports the full count */
    assert_int_equal(frame_rmap_get(f, got, 3), N);
    assert_true(frame_pool_check(fp));

    /* delete the inline one, one in the chain, and a missing one */
    assert_int_equal(frame_rmap_del(fp, f, 1 * PAGE_SIZE), PV_OK);
    assert_int_equal(frame_rmap_del(fp, f, 100 * PAGE_SIZE), PV_OK);
    assert_int_equal(frame_rmap_del(fp, f, 100 * PAGE_SIZE), -PV_ENOENT);
    assert_int_equal(frame_rmap_del(fp, f, (N + 5) * PAGE_SIZE), -PV_ENOENT);
    assert_int_equal(frame_rmap_get(f, got, N), N - 2);
    assert_false(contains(got, N - 2, 1 * PAGE_SIZE));
    assert_false(contains(got, N - 2, 100 * PAGE_SIZE));
    assert_true(contains(got, N - 2, N * PAGE_SIZE));
    assert_true(contains(got, N - 2, 2 * PAGE_SIZE));
    assert_true(frame_pool_check(fp));

    /* items run out: -PV_ENOMEM, nothing corrupted */
    struct frame *g = frame_alloc(fp, FRAME_GUEST);
    size_t added = 0;
    while (frame_rmap_add(fp, g, added * PAGE_SIZE) == PV_OK)
        added++;
    assert_int_equal(fp->rmap_used, fp->rmap_cap);
    assert_int_equal(g->mapcount, added);
    assert_true(frame_pool_check(fp));
    /* freeing the frames returns every item */
    assert_true(frame_put(fp, f));
    assert_true(frame_put(fp, g));
    assert_int_equal(fp->rmap_used, 0);
    assert_true(frame_pool_check(fp));

    /* delete everything one by one */
    struct frame *h = frame_alloc(fp, FRAME_GUEST);
    for (gpa_t i = 0; i < 10; i++)
        assert_int_equal(frame_rmap_add(fp, h, i << 21), PV_OK);
    for (gpa_t i = 0; i < 10; i++)
        assert_int_equal(frame_rmap_del(fp, h, (9 - i) << 21), PV_OK);
    assert_int_equal(h->mapcount, 0);
    assert_int_equal(fp->rmap_used, 0);
    assert_true(frame_pool_check(fp));
    arena_fini(&a);
}

static void test_frame_of(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4 * HUGE_2M, 0);
    struct frame_pool *fp = &a.fp;
    hpa_t last = fp->first + (fp->nframes - 1) * PAGE_SIZE;
    assert_null(frame_of(fp, fp->base));           /* metadata */
    assert_null(frame_of(fp, fp->first - 1));
    assert_null(frame_of(fp, 0));
    assert_null(frame_of(fp, last + PAGE_SIZE));
    assert_null(frame_of(fp, UINT64_MAX));
    assert_ptr_equal(frame_of(fp, fp->first), &fp->desc[0]);
    assert_ptr_equal(frame_of(fp, last), &fp->desc[fp->nframes - 1]);
    assert_ptr_equal(frame_of(fp, last + 123), &fp->desc[fp->nframes - 1]);
    assert_true(frame_hpa(fp, frame_of(fp, fp->first + 5 * PAGE_SIZE + 7)) ==
                fp->first + 5 * PAGE_SIZE);
    assert_ptr_equal(frame_of(fp, frame_hpa(fp, fp->zero)), fp->zero);
    assert_true(frame_pool_check(fp));
    arena_fini(&a);
}

static void test_check_detects_corruption(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4 * HUGE_2M, 0);
    struct frame_pool *fp = &a.fp;
    struct frame *f = frame_alloc(fp, FRAME_GUEST);
    f->refcount = 0; /* allocated but unreferenced */
    assert_false(frame_pool_check(fp));
    f->refcount = 1;
    assert_true(frame_pool_check(fp));
    fp->nfree++;
    assert_false(frame_pool_check(fp));
    fp->nfree--;
    fp->block_used[fp->nblocks - 1]++;
    assert_false(frame_pool_check(fp));
    fp->block_used[fp->nblocks - 1]--;
    assert_true(frame_pool_check(fp));
    arena_fini(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_zero_frame),
        cmocka_unit_test(test_init_too_small),
        cmocka_unit_test(test_alloc_free_refcount),
        cmocka_unit_test(test_exhaustion),
        cmocka_unit_test(test_alloc_2m),
        cmocka_unit_test(test_prefers_partly_used_blocks),
        cmocka_unit_test(test_split_2m),
        cmocka_unit_test(test_rmap),
        cmocka_unit_test(test_frame_of),
        cmocka_unit_test(test_check_detects_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

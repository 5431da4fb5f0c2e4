/*
 * Unit tests for a frame pool built from several host ranges
 * (frame_pool_init_ranges): fragmented maps, ranges that are not 2 MiB
 * aligned or not page aligned, ranges given out of order, adjacent ones,
 * ranges above 4 GiB, and the exact frame count the boot path relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "ept/frame.h"

#define ARENA (64ull << 20)
#define GIB4 (4ull << 30)

struct env {
    uint8_t *arena;           /* 2 MiB aligned, ARENA bytes */
    void *map;
    uint8_t *meta;
    size_t meta_len;
    struct frame_pool fp;
};

static struct env *env_new(void)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    /* mmap: on x86-64 Linux user mappings lie far above 4 GiB, so every hpa
     * here is a 64-bit one (checked below) */
    e->map = mmap(NULL, ARENA + HUGE_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                  -1, 0);
    assert_true(e->map != MAP_FAILED);
    e->arena = hpa_va(ALIGN_UP(va_hpa(e->map), HUGE_2M));
    e->meta_len = frame_pool_meta_size(ARENA / PAGE_SIZE, FRAME_RANGES_MAX);
    e->meta = aligned_alloc(64, ALIGN_UP(e->meta_len, 64));
    assert_non_null(e->meta);
    return e;
}

static void env_free(struct env *e)
{
    munmap(e->map, ARENA + HUGE_2M);
    free(e->meta);
    free(e);
}

static hpa_t at(const struct env *e, uint64_t off) { return va_hpa(e->arena) + off; }

static int build(struct env *e, const struct hpa_range *r, size_t n, size_t max)
{
    return frame_pool_init_ranges(&e->fp, va_hpa(e->meta), e->meta_len, r, n, max);
}

static bool in_ranges(const struct hpa_range *r, size_t n, hpa_t a)
{
    for (size_t i = 0; i < n; i++)
        if (a >= r[i].base && a + PAGE_SIZE <= r[i].base + r[i].size)
            return true;
    return false;
}

/* Every descriptor maps to a distinct page inside the given ranges and back. */
static void check_mapping(const struct frame_pool *fp, const struct hpa_range *r, size_t n)
{
    hpa_t prev = 0;
    for (size_t i = 0; i < fp->nframes; i++) {
        hpa_t a = frame_hpa(fp, &fp->desc[i]);
        assert_true(IS_ALIGNED(a, PAGE_SIZE));
        assert_true(in_ranges(r, n, a));
        assert_true(i == 0 || a > prev); /* address order, hence distinct */
        prev = a;
        assert_ptr_equal(frame_of(fp, a), &fp->desc[i]);
        assert_ptr_equal(frame_of(fp, a + PAGE_SIZE - 1), &fp->desc[i]);
    }
}

/* Fragmented, out of order, unaligned: three pieces with gaps. */
static void test_fragmented_unaligned_ranges(void **state)
{
    (void)state;
    struct env *e = env_new();
    struct hpa_range r[] = {
        { at(e, 20 * HUGE_2M + 3 * PAGE_SIZE), 5 * HUGE_2M },    /* not 2M aligned */
        { at(e, 0), 3 * HUGE_2M + 17 * PAGE_SIZE },             /* aligned start */
        { at(e, 10 * HUGE_2M - 5 * PAGE_SIZE), 2 * HUGE_2M },    /* crosses blocks */
    };
    size_t total = (5 * HUGE_2M + 3 * HUGE_2M + 17 * PAGE_SIZE + 2 * HUGE_2M) / PAGE_SIZE;
    assert_int_equal(build(e, r, 3, SIZE_MAX), PV_OK);
    struct frame_pool *fp = &e->fp;
    assert_int_equal(fp->nframes, total);
    assert_int_equal(fp->nseg, 3);
    assert_true(fp->seg[0].first == at(e, 0)); /* sorted by address */
    assert_true(frame_pool_check(fp));
    check_mapping(fp, r, 3);
    /* the gaps and the bytes just outside are no frames */
    assert_null(frame_of(fp, at(e, 3 * HUGE_2M + 17 * PAGE_SIZE)));
    assert_null(frame_of(fp, at(e, 10 * HUGE_2M - 6 * PAGE_SIZE)));
    assert_null(frame_of(fp, at(e, 12 * HUGE_2M - 5 * PAGE_SIZE)));
    assert_null(frame_of(fp, at(e, 20 * HUGE_2M)));
    assert_null(frame_of(fp, at(e, 25 * HUGE_2M + 3 * PAGE_SIZE)));
    assert_null(frame_of(fp, at(e, 0) - PAGE_SIZE));
    env_free(e);
}

/* Every frame can be allocated once, each in its ranges, then all freed. */
static void test_allocate_everything_across_ranges(void **state)
{
    (void)state;
    struct env *e = env_new();
    struct hpa_range r[] = {
        { at(e, 7 * PAGE_SIZE), HUGE_2M + 9 * PAGE_SIZE },
        { at(e, 4 * HUGE_2M + 100 * PAGE_SIZE), 3 * HUGE_2M },
        { at(e, 9 * HUGE_2M), 2 * HUGE_2M },
    };
    assert_int_equal(build(e, r, 3, SIZE_MAX), PV_OK);
    struct frame_pool *fp = &e->fp;
    size_t n = fp->nframes - 1; /* the zero frame is taken */
    struct frame **got = calloc(n, sizeof(*got));
    assert_non_null(got);
    for (size_t i = 0; i < n; i++) {
        got[i] = frame_alloc(fp, FRAME_GUEST);
        assert_non_null(got[i]);
        assert_true(in_ranges(r, 3, frame_hpa(fp, got[i])));
        memset(frame_va(fp, got[i]), 0x5A, PAGE_SIZE); /* the page is ours */
    }
    assert_null(frame_alloc(fp, FRAME_GUEST));
    assert_int_equal(frame_free_count(fp), 0);
    assert_true(frame_pool_check(fp));
    for (size_t i = 0; i < n; i++)
        assert_true(frame_put(fp, got[i]));
    assert_int_equal(frame_free_count(fp), n);
    assert_true(frame_pool_check(fp));
    free(got);
    env_free(e);
}

/* 2 MiB blocks only where a range covers a whole aligned block. */
static void test_huge_blocks_only_inside_one_range(void **state)
{
    (void)state;
    struct env *e = env_new();
    struct hpa_range r[] = {
        { at(e, PAGE_SIZE), 3 * HUGE_2M },          /* whole blocks 1 and 2 */
        { at(e, 8 * HUGE_2M), HUGE_2M },            /* whole block 8 */
        { at(e, 12 * HUGE_2M + PAGE_SIZE), HUGE_2M }, /* none */
    };
    assert_int_equal(build(e, r, 3, SIZE_MAX), PV_OK);
    struct frame_pool *fp = &e->fp;
    size_t blocks = 0;
    struct frame *h;
    while ((h = frame_alloc_2m(fp, FRAME_GUEST)) != NULL) {
        hpa_t a = frame_hpa(fp, h);
        assert_true(IS_ALIGNED(a, HUGE_2M));
        assert_true(in_ranges(r, 3, a) && in_ranges(r, 3, a + HUGE_2M - PAGE_SIZE));
        assert_ptr_equal(frame_head(fp, frame_of(fp, a + HUGE_2M - PAGE_SIZE)), h);
        blocks++;
    }
    assert_int_equal(blocks, 3);
    assert_true(frame_pool_check(fp));
    /* a split block in the second range: its tails map to their own pages */
    h = frame_of(fp, at(e, 8 * HUGE_2M));
    assert_true(h->flags & FRAME_HUGE_HEAD);
    frame_split_2m(fp, h);
    assert_true(frame_hpa(fp, h + 511) == at(e, 8 * HUGE_2M) + 511 * PAGE_SIZE);
    for (size_t i = 0; i < PAGES_PER_2M; i++)
        frame_put(fp, h + i);
    assert_true(frame_pool_check(fp));
    env_free(e);
}

/* The count is exact: max_frames cuts the last range, whatever the ranges
 * hold; adjacent ranges merge into one segment; ragged ends are dropped. */
static void test_exact_count_merge_and_trim(void **state)
{
    (void)state;
    struct env *e = env_new();
    struct hpa_range r[] = {
        { at(e, 6 * HUGE_2M), HUGE_2M },
        { at(e, 5 * HUGE_2M), HUGE_2M },              /* adjacent: merged */
        { at(e, 2 * HUGE_2M + 100), 10 * PAGE_SIZE }, /* ragged: 9 pages */
    };
    assert_int_equal(build(e, r, 3, SIZE_MAX), PV_OK);
    assert_int_equal(e->fp.nseg, 2);
    assert_int_equal(e->fp.nframes, 9 + 2 * PAGES_PER_2M);
    size_t want = 9 + PAGES_PER_2M + 3;
    assert_int_equal(build(e, r, 3, want), PV_OK);
    assert_int_equal(e->fp.nframes, want);
    assert_true(frame_hpa(&e->fp, &e->fp.desc[want - 1]) ==
                at(e, 5 * HUGE_2M) + (PAGES_PER_2M + 2) * PAGE_SIZE);
    assert_null(frame_of(&e->fp, at(e, 5 * HUGE_2M) + (PAGES_PER_2M + 3) * PAGE_SIZE));
    assert_true(frame_pool_check(&e->fp));
    env_free(e);
}

static void test_ranges_above_4g(void **state)
{
    (void)state;
    struct env *e = env_new();
    assert_true(va_hpa(e->arena) >= GIB4); /* the host's mappings */
    struct hpa_range r[] = { { at(e, 0), 4 * HUGE_2M }, { at(e, 6 * HUGE_2M), HUGE_2M } };
    assert_int_equal(build(e, r, 2, SIZE_MAX), PV_OK);
    struct frame *f = frame_of(&e->fp, at(e, 6 * HUGE_2M + 5 * PAGE_SIZE));
    assert_non_null(f);
    assert_int_equal(f - e->fp.desc, 4 * PAGES_PER_2M + 5);
    assert_true(frame_hpa(&e->fp, f) > GIB4);
    check_mapping(&e->fp, r, 2);
    env_free(e);
}

static void test_bad_ranges_refused(void **state)
{
    (void)state;
    struct env *e = env_new();
    struct hpa_range overlap[] = { { at(e, 0), 2 * HUGE_2M }, { at(e, HUGE_2M), HUGE_2M } };
    assert_int_equal(build(e, overlap, 2, SIZE_MAX), -PV_EINVAL);
    struct hpa_range one_page[] = { { at(e, 0), PAGE_SIZE } };
    assert_int_equal(build(e, one_page, 1, SIZE_MAX), -PV_EINVAL); /* no room past zero */
    struct hpa_range wrap[] = { { UINT64_MAX - PAGE_SIZE, 2 * PAGE_SIZE } };
    assert_int_equal(build(e, wrap, 1, SIZE_MAX), -PV_EINVAL);
    struct hpa_range many[FRAME_RANGES_MAX + 1];
    for (size_t i = 0; i < FRAME_RANGES_MAX + 1; i++)
        many[i] = (struct hpa_range){ at(e, 2 * i * PAGE_SIZE), PAGE_SIZE };
    assert_int_equal(build(e, many, FRAME_RANGES_MAX + 1, SIZE_MAX), -PV_EINVAL);
    assert_int_equal(build(e, many, FRAME_RANGES_MAX, SIZE_MAX), PV_OK);
    assert_int_equal(e->fp.nseg, FRAME_RANGES_MAX);
    assert_true(frame_pool_check(&e->fp));
    /* too little metadata for the frames asked for */
    struct hpa_range big[] = { { at(e, 0), 8 * HUGE_2M } };
    size_t need = frame_pool_meta_size(8 * PAGES_PER_2M, 1);
    assert_int_equal(frame_pool_init_ranges(&e->fp, va_hpa(e->meta), need - 1, big, 1, SIZE_MAX),
                     -PV_EINVAL);
    assert_int_equal(frame_pool_init_ranges(&e->fp, va_hpa(e->meta), need, big, 1, SIZE_MAX),
                     PV_OK);
    /* misaligned metadata */
    assert_int_equal(frame_pool_init_ranges(&e->fp, va_hpa(e->meta) + 8, need, big, 1, SIZE_MAX),
                     -PV_EINVAL);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragmented_unaligned_ranges),
        cmocka_unit_test(test_allocate_everything_across_ranges),
        cmocka_unit_test(test_huge_blocks_only_inside_one_range),
        cmocka_unit_test(test_exact_count_merge_and_trim),
        cmocka_unit_test(test_ranges_above_4g),
        cmocka_unit_test(test_bad_ranges_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

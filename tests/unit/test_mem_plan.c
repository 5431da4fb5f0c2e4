/*
 * Unit tests for the boot-time memory plan (swap/mem_plan.c): what the UEFI
 * side allocates must hold what the core then builds, at and around every
 * power-of-two frame count (2^k - 1, 2^k, 2^k + 1 pages), with and without
 * a swap disk. The core adds the zero frame to `frames`: a plan that sized
 * the swap cache for frames / 4K left the core short by half of it at
 * every power of two (`memory 512M` / `frames 512M` stopped with "heap: no
 * room for swap metadata").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ept/frame.h"
#include "swap/mem_plan.h"
#include "swap/swap.h"
#include "swap/swap_cache.h"
#include "vmm/lib/heap.h"

#define GUARD 4096u
#define GUARD_BYTE 0xA5
#define KMIN 4u   /* smallest power of two tried: 16 pages */
#define KMAX 28u  /* 1 TiB of frames, the config's largest */
#define KBUILD 14 /* up to here a real pool is built */
#define KHEAP 20  /* up to here the heap is exercised for real */

static uint64_t around(unsigned k, int d) { return ((uint64_t)1 << k) + (uint64_t)(int64_t)d; }

/* A block device of `pages` 4 KiB pages: swap_meta_size() reads only its size. */
static struct blkdev disk_of(uint64_t pages)
{
    struct blkdev d;
    memset(&d, 0, sizeof(d));
    d.sector_size = 512;
    d.sectors = pages * (PAGE_SIZE / 512);
    return d;
}

static void test_pieces_at_power_of_two_boundaries(void **state)
{
    (void)state;
    for (unsigned k = KMIN; k <= KMAX; k++) {
        for (int d = -1; d <= 1; d++) {
            uint64_t pages = around(k, d);
            for (int sw = 0; sw <= 1; sw++) {
                struct mem_plan p;
                assert_int_equal(mem_plan_for(pages * PAGE_SIZE, sw, &p), PV_OK);
                /* exact: `frames` plus the zero frame */
                assert_int_equal(p.pool_frames, pages + 1);
                /* what the core's swap_init asks for, for this pool and the
                 * largest disk planned for (none without swap) */
                size_t need = swap_meta_size_for(p.pool_frames, sw, MEM_PLAN_SWAP_MAX_PAGES);
                assert_true(need <= p.swap_meta);
                assert_true(p.swap_cache >= swap_cache_meta_size(p.pool_frames));
                assert_true(p.swap_cache + p.swap_area <= p.swap_meta);
                assert_true(sw ? p.swap_area > 0 : p.swap_area == 0);
                /* the heap: the fixed part, then swap_meta page aligned */
                assert_true(p.heap >= MEM_PLAN_HEAP_FIXED + ALIGN_UP(need, PAGE_SIZE) +
                                          PAGE_SIZE - 1);
                assert_true(p.frame_meta >=
                            frame_pool_meta_size(p.pool_frames, FRAME_RANGES_MAX));
            }
        }
    }
}

/* The disagreement the plan removes: at 2^k pages the table for 2^k + 1
 * frames is twice the one for 2^k. */
static void test_zero_frame_crosses_the_power_of_two(void **state)
{
    (void)state;
    for (unsigned k = KMIN; k <= KMAX; k++) {
        size_t n = (size_t)1 << k;
        assert_int_equal(swap_cache_meta_size(n + 1), 2 * swap_cache_meta_size(n));
        struct mem_plan p;
        assert_int_equal(mem_plan_for((uint64_t)n * PAGE_SIZE, false, &p), PV_OK);
        assert_int_equal(p.swap_cache, swap_cache_meta_size(n + 1));
    }
}

/* Simulate the core's heap: the fixed part used up entirely, then the swap
 * metadata swap_init() takes for the real pool. */
static void test_heap_holds_the_swap_metadata(void **state)
{
    (void)state;
    for (unsigned k = KMIN; k <= KHEAP; k++) {
        for (int d = -1; d <= 1; d++) {
            for (int sw = 0; sw <= 1; sw++) {
                struct mem_plan p;
                assert_int_equal(mem_plan_for(around(k, d) * PAGE_SIZE, sw, &p), PV_OK);
                void *mem = aligned_alloc(PAGE_SIZE, ALIGN_UP(p.heap, PAGE_SIZE));
                assert_non_null(mem);
                heap_init(va_hpa(mem), p.heap);
                /* an odd-sized first allocation puts the swap metadata at
                 * the worst page alignment */
                assert_non_null(heap_alloc(MEM_PLAN_HEAP_FIXED - 8, 8, "fixed"));
                size_t need = swap_meta_size_for(p.pool_frames, sw, MEM_PLAN_SWAP_MAX_PAGES);
                assert_non_null(heap_alloc(need, PAGE_SIZE, "swap metadata"));
                free(mem);
            }
        }
    }
}

/* Metadata of p.frame_meta bytes with a guard after it. */
static uint8_t *meta_with_guard(size_t len)
{
    uint8_t *m = aligned_alloc(64, ALIGN_UP(len + GUARD, 64));
    assert_non_null(m);
    memset(m + len, GUARD_BYTE, GUARD);
    return m;
}

static void guard_intact(const uint8_t *m, size_t len)
{
    for (size_t i = 0; i < GUARD; i++)
        assert_int_equal(m[len + i], GUARD_BYTE);
}

/* Build the planned pool for real from FRAME_RANGES_MAX misaligned pieces
 * (the worst case for the per-block counters): it has pool_frames frames
 * exactly, its metadata stays inside the plan, and the swap metadata for it
 * fits. */
static void test_planned_pool_builds_from_the_most_ranges(void **state)
{
    (void)state;
    for (unsigned k = KMIN; k <= KBUILD; k++) {
        for (int d = -1; d <= 1; d++) {
            for (int sw = 0; sw <= 1; sw++) {
                struct mem_plan p;
                assert_int_equal(mem_plan_for(around(k, d) * PAGE_SIZE, sw, &p), PV_OK);
                size_t per = p.pool_frames / FRAME_RANGES_MAX + 1;
                /* each piece 4K past a 2 MiB boundary, gaps between them */
                size_t stride = ALIGN_UP(per * PAGE_SIZE + PAGE_SIZE, HUGE_2M) + HUGE_2M;
                uint8_t *arena = aligned_alloc(HUGE_2M, stride * FRAME_RANGES_MAX);
                assert_non_null(arena);
                struct hpa_range r[FRAME_RANGES_MAX];
                for (size_t i = 0; i < FRAME_RANGES_MAX; i++)
                    r[i] = (struct hpa_range){ va_hpa(arena + i * stride + PAGE_SIZE),
                                               per * PAGE_SIZE };
                uint8_t *meta = meta_with_guard(p.frame_meta);
                struct frame_pool fp;
                assert_int_equal(frame_pool_init_ranges(&fp, va_hpa(meta), p.frame_meta, r,
                                                        FRAME_RANGES_MAX, p.pool_frames),
                                 PV_OK);
                assert_int_equal(fp.nframes, p.pool_frames);
                assert_true(frame_pool_check(&fp));
                guard_intact(meta, p.frame_meta);
                struct blkdev disk = disk_of(MEM_PLAN_SWAP_MAX_PAGES);
                assert_true(swap_meta_size(&fp, sw ? &disk : NULL) <= p.swap_meta);
                free(meta);
                free(arena);
            }
        }
    }
}

/* A disk past the planned maximum needs more than was planned: the core
 * compares and refuses it by name rather than overrun the heap. */
static void test_larger_disk_exceeds_the_plan(void **state)
{
    (void)state;
    struct mem_plan p;
    assert_int_equal(mem_plan_for(256ull << 20, true, &p), PV_OK);
    size_t n = p.pool_frames;
    assert_true(swap_meta_size_for(n, true, MEM_PLAN_SWAP_MAX_PAGES) <= p.swap_meta);
    assert_true(swap_meta_size_for(n, true, 2 * MEM_PLAN_SWAP_MAX_PAGES) > p.swap_meta);
}

static void test_bad_sizes_refused(void **state)
{
    (void)state;
    struct mem_plan p;
    assert_int_equal(mem_plan_for(0, false, &p), -PV_EINVAL);
    assert_int_equal(mem_plan_for(PAGE_SIZE + 1, true, &p), -PV_EINVAL);
    assert_int_equal(mem_plan_for(PAGE_SIZE, false, &p), PV_OK);
    assert_int_equal(p.pool_frames, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_at_power_of_two_boundaries),
        cmocka_unit_test(test_zero_frame_crosses_the_power_of_two),
        cmocka_unit_test(test_heap_holds_the_swap_metadata),
        cmocka_unit_test(test_planned_pool_builds_from_the_most_ranges),
        cmocka_unit_test(test_larger_disk_exceeds_the_plan),
        cmocka_unit_test(test_bad_sizes_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

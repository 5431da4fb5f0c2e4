/*
 * Unit tests for readahead's stage-2 operation (ept/map_swapped.c):
 * mm_map_swapped puts a cached frame back at the gpa whose swap entry
 * names its data — read-only, accessed bit clear, one reference and one
 * rmap entry — and refuses, changing nothing, when the gpa holds another
 * entry, no entry, lies in no swappable region, or the frame is not
 * cached or still locked for I/O. Both EPT and NPT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "tests/unit/mm_env.h"

#define MiB (1ull << 20)
#define RAM (1 * MiB)
#define RAM_END (2 * MiB)
#define MMIO (4 * MiB)

static gpa_t pg(unsigned i) { return RAM + (gpa_t)i * PAGE_SIZE; }

static struct mm_env *env_new(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, RAM, RAM_END, "ram"), 0);
    assert_int_equal(mm_add_mmio(&env->mm, MMIO, MMIO + PAGE_SIZE, 1, NULL, "dev"), 0);
    env->mm.huge_anon = false;
    return env;
}

/* Page i written with fill, then swapped out as swap/ would: the frame
 * stays with one reference (the "cache's"), flagged cached, and pg(i)
 * holds the entry se. */
static struct frame *swapped_frame(struct mm_env *env, unsigned i, uint8_t fill,
                                   swp_entry_t se)
{
    mm_env_expect(env, pg(i), ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    memset(mm_env_page(env, pg(i)), fill, PAGE_SIZE);
    struct s2_info e = mm_env_lookup(env, pg(i));
    struct frame *f = frame_of(&env->fp, e.leaf_hpa);
    assert_non_null(f);
    frame_get(f);
    f->flags |= FRAME_SWAPCACHE;
    size_t done;
    assert_int_equal(mm_unmap_frame(&env->mm, f, MM_UNMAP_SWAP, se, &done), 0);
    assert_int_equal(done, 1);
    assert_int_equal(f->refcount, 1);
    assert_int_equal(f->mapcount, 0);
    return f;
}

/* Undo the "cache": unmap pg(i) and put the cache's reference. */
static void uncache(struct mm_env *env, struct frame *f, unsigned i)
{
    assert_int_equal(mm_unmap_range(&env->mm, pg(i), pg(i + 1)), 0);
    f->flags &= ~FRAME_SWAPCACHE;
    assert_true(frame_put(&env->fp, f));
}

static void maps_read_only_unaccessed(const struct s2pt_format *fmt)
{
    struct mm_env *env = env_new(fmt);
    swp_entry_t se = swp_entry(0, 42);
    struct frame *f = swapped_frame(env, 3, 0x5a, se);
    uint64_t inv0 = env->inv;
    size_t free0 = frame_free_count(&env->fp);

    assert_true(mm_tracks_accessed(&env->mm));
    assert_int_equal(mm_map_swapped(&env->mm, pg(3), se, f), 0);
    struct s2_info e = mm_env_lookup(env, pg(3));
    assert_int_equal(e.state, S2_PRESENT);
    assert_int_equal(e.size, PAGE_SIZE);
    assert_int_equal(e.leaf_hpa, frame_hpa(&env->fp, f));
    assert_int_equal(e.rights, ACC_RX); /* the region's RWX minus W */
    assert_false(e.accessed);
    assert_int_equal(f->refcount, 2);
    assert_int_equal(f->mapcount, 1);
    assert_int_equal(f->rmap, pg(3));
    assert_int_equal(env->inv, inv0); /* non-present -> present */
    assert_int_equal(frame_free_count(&env->fp), free0); /* no frame taken */
    assert_int_equal(mm_env_page(env, pg(3))[100], 0x5a);
    assert_true(mm_check(&env->mm));
    /* a read now needs no fault; the guest's use shows in the A bit */
    assert_false(mm_frame_referenced(&env->mm, f));
    /* mapping it twice: the entry is gone */
    assert_int_equal(mm_map_swapped(&env->mm, pg(3), se, f), -PV_ENOENT);
    assert_int_equal(f->refcount, 2);
    uncache(env, f, 3);
    mm_env_free(env);
}
MM_BOTH_FORMATS(maps_read_only_unaccessed)

static void refusals_change_nothing(const struct s2pt_format *fmt)
{
    struct mm_env *env = env_new(fmt);
    swp_entry_t se = swp_entry(0, 7);
    struct frame *f = swapped_frame(env, 5, 0x11, se);
    uint64_t maps0 = f->refcount;

    /* another slot's entry there */
    assert_int_equal(mm_map_swapped(&env->mm, pg(5), swp_entry(0, 8), f), -PV_ENOENT);
    /* no entry at all (never touched) */
    assert_int_equal(mm_map_swapped(&env->mm, pg(6), se, f), -PV_ENOENT);
    /* outside RAM: an emulated device, and nothing */
    assert_int_equal(mm_map_swapped(&env->mm, MMIO, se, f), -PV_ENOENT);
    assert_int_equal(mm_map_swapped(&env->mm, 64 * MiB, se, f), -PV_ENOENT);
    /* misaligned */
    assert_int_equal(mm_map_swapped(&env->mm, pg(5) + 8, se, f), -PV_EINVAL);
    /* still under I/O: its data is not verified yet */
    f->flags |= FRAME_LOCKED;
    assert_int_equal(mm_map_swapped(&env->mm, pg(5), se, f), -PV_EINVAL);
    f->flags &= ~FRAME_LOCKED;
    /* not a cached frame */
    f->flags &= ~FRAME_SWAPCACHE;
    assert_int_equal(mm_map_swapped(&env->mm, pg(5), se, f), -PV_EINVAL);
    f->flags |= FRAME_SWAPCACHE;

    assert_int_equal(f->refcount, maps0);
    assert_int_equal(f->mapcount, 0);
    struct s2_info e = mm_env_lookup(env, pg(5));
    assert_int_equal(e.state, S2_SWAP);
    assert_true(e.swap == se);
    uncache(env, f, 5);
    mm_env_free(env);
}
MM_BOTH_FORMATS(refusals_change_nothing)

/* A batch maps what it can and says why not for the rest. */
static void batch(const struct s2pt_format *fmt)
{
    struct mm_env *env = env_new(fmt);
    struct frame *a = swapped_frame(env, 1, 0xa1, swp_entry(0, 1));
    struct frame *b = swapped_frame(env, 2, 0xb2, swp_entry(0, 2));
    struct frame *c = swapped_frame(env, 4, 0xc4, swp_entry(0, 4));
    struct mm_swapped_map v[] = {
        { pg(1), swp_entry(0, 1), a, 99 },
        { pg(2), swp_entry(0, 3), b, 99 }, /* stale: pg(2) holds slot 2 */
        { pg(4), swp_entry(0, 4), c, 99 },
    };

    assert_int_equal(mm_map_swapped_batch(&env->mm, v, 3), 2);
    assert_int_equal(v[0].result, 0);
    assert_int_equal(v[1].result, -PV_ENOENT);
    assert_int_equal(v[2].result, 0);
    assert_int_equal(mm_env_lookup(env, pg(2)).state, S2_SWAP);
    assert_int_equal(mm_env_page(env, pg(4))[0], 0xc4);
    assert_true(mm_check(&env->mm));
    uncache(env, a, 1);
    uncache(env, b, 2);
    uncache(env, c, 4);
    mm_env_free(env);
}
MM_BOTH_FORMATS(batch)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(maps_read_only_unaccessed_both),
        cmocka_unit_test(refusals_change_nothing_both),
        cmocka_unit_test(batch_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

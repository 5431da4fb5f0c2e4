/*
 * Unit tests for mapped readahead (swap/ra_map.c with ept/map_swapped.c):
 * the pages a major swap-in reads ahead are mapped at once (no minor
 * fault), read-only and verified; the guest's use of them is read from the
 * stage-2 accessed bit (hits at the next major fault, misses when reclaim
 * drops them unused); the adaptive policy grows exactly as it did with
 * minor faults; a page that failed its read or checksum is never mapped;
 * a stale slot->gpa hint or a table without accessed bits leaves pages in
 * the cache for a minor fault; the frame count is the parked path's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "tests/unit/test_swap_env.h"

#define MiB (1ull << 20)
#define RAM (1 * MiB)
#define RAM_END (9 * MiB)
#define DISK_PAGES 512u

static gpa_t pg(unsigned i) { return RAM + (gpa_t)i * PAGE_SIZE; }

static struct swap_env *env_with(const struct s2pt_format *fmt, bool use_ad,
                                 enum ra_policy pol, uint32_t pages)
{
    struct swap_env *env = swap_env_new(fmt, use_ad, MM_ENV_ARENA, DISK_PAGES, NULL, 0, pol,
                                        pages);
    assert_int_equal(mm_add_anon(&env->m->mm, RAM, RAM_END, "ram"), 0);
    env->m->mm.huge_anon = false;
    return env;
}

/* Fill pages [0, n) and swap them all out, in page order (slots 1..n). */
static void swap_out_pages(struct swap_env *env, unsigned n, uint64_t tag0)
{
    swap_env_swap_out_run(env, pg(0), n, tag0);
}

/* The guest reads gpa as the hardware would: a usable leaf gets its
 * accessed bit and no exit; anything else faults. Returns the fault's
 * resolution, or RES_COUNT for none. */
static enum fault_res touch(struct swap_env *env, gpa_t gpa)
{
    struct s2_info e;
    struct s2_slot sl;
    s2pt_lookup_slot(&env->m->mm.s2, gpa, &e, &sl);
    if (e.state == S2_PRESENT && (e.rights & ACC_R)) {
        if (env->m->mm.s2.use_ad)
            ((uint64_t *)hpa_va(sl.table))[sl.idx] |= env->m->fmt->accessed_bit;
        return RES_COUNT;
    }
    struct fault_outcome o = mm_env_fault(env->m, gpa, ACC_R);
    assert_int_equal(o.kind, FAULT_MAPPED);
    return o.res;
}

static uint64_t minors(const struct swap_env *env)
{
    return env->m->mm.stats.count[RES_SWAP_MINOR];
}

/* cluster:8: the slots around the faulting one come in mapped at the gpas
 * they were written from; touching them takes no fault. */
static void cluster_mapped(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, true, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 20, 100);
    size_t free0 = frame_free_count(&env->m->fp);

    assert_true(sw->map_ahead);
    /* page 10 = slot 11: slots 8..15 = pages 7..14 */
    mm_env_expect(env->m, pg(10), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    assert_int_equal(sw->st.ra_mapped, 7);
    assert_int_equal(sw->cache.n, 8);
    assert_int_equal(frame_free_count(&env->m->fp), free0 - 8); /* as when parked */
    for (unsigned i = 7; i <= 14; i++) {
        struct s2_info e = mm_env_lookup(env->m, pg(i));
        assert_int_equal(e.state, S2_PRESENT);
        assert_int_equal(e.rights, ACC_RWX); /* each its slot's only user */
        assert_false(e.dirty);
        assert_false(e.accessed);
        struct frame *f = frame_of(&env->m->fp, e.leaf_hpa);
        assert_true(f->flags & FRAME_SWAPCACHE);
        assert_int_equal(f->refcount, 2); /* the cache's and the leaf's */
        assert_int_equal(sw->area.slot[i + 1].count, 0); /* no entry names it */
        assert_int_equal(!!(f->flags & FRAME_READAHEAD), i != 10);
    }
    swap_env_check(env);
    /* the guest reads pages 7 and 8 only */
    assert_int_equal(touch(env, pg(7)), RES_COUNT);
    assert_int_equal(touch(env, pg(8)), RES_COUNT);
    assert_int_equal(sw->ra.st.hits, 0); /* seen at the next major fault */
    /* page 15 = slot 16: the next cluster (slots 16..20 = pages 15..19) */
    assert_int_equal(touch(env, pg(15)), RES_SWAP_IN);
    assert_int_equal(sw->ra.st.hits, 2);
    assert_int_equal(sw->st.ra_mapped, 11);
    assert_int_equal(minors(env), 0);
    for (unsigned i = 0; i < 20; i++)
        assert_true(swap_env_has(env, pg(i), 100 + i));
    /* everything reclaimed: the 9 read-ahead pages never touched are
     * misses (mm_read does not set accessed bits; page 0..6's cluster was
     * faulted by mm_read above, its pages 1..6 untouched as well) */
    uint64_t hits = sw->ra.st.hits;
    sw->recent = NULL;
    swap_reclaim(sw, 1000);
    assert_int_equal(sw->ra.st.hits, hits);
    assert_int_equal(sw->ra.st.hits + sw->ra.st.misses, sw->ra.st.pages);
    assert_int_equal(sw->cache.n, 0);
    for (unsigned i = 0; i < 20; i++)
        assert_true(swap_env_has(env, pg(i), 100 + i));
    swap_env_check(env);
    swap_env_free(env);
}
MM_BOTH_FORMATS(cluster_mapped)

/* auto: a sequential walk grows the window from the accessed bits exactly
 * as it did from minor faults (test_swap_swapin's auto_readahead): 7
 * major faults for 64 pages, 57 hits, and not one minor fault. */
static void auto_mapped(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, true, RA_AUTO, 4);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 64, 7);
    unsigned majors = 0;
    for (unsigned i = 0; i < 64; i++)
        majors += touch(env, pg(i)) == RES_SWAP_IN;
    /* the last window's hits are seen by the next major fault or reclaim */
    sw->recent = NULL;
    swap_reclaim(sw, 1000);
    assert_int_equal(majors, 7);
    assert_int_equal(sw->ra.st.hits, 57);
    assert_int_equal(sw->ra.st.misses, 0);
    assert_int_equal(sw->ra.win, 64);
    assert_int_equal(minors(env), 0);
    assert_int_equal(sw->st.ra_mapped, 57);
    for (unsigned i = 0; i < 64; i++)
        assert_true(swap_env_has(env, pg(i), 7 + i));
    swap_env_check(env);
    swap_env_free(env);
}
MM_BOTH_FORMATS(auto_mapped)

/* Walking down: the window lies below the fault; hits are taken nearest
 * the fault first, so the stride stays 1 and the window grows. */
static void auto_mapped_down(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, true, RA_AUTO, 4);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 64, 3);
    unsigned majors = 0;
    touch(env, pg(63)); /* first fault: the page only */
    for (unsigned i = 63; i-- > 0;)
        majors += touch(env, pg(i)) == RES_SWAP_IN;
    assert_true(majors <= 6); /* 62, 61 (the walk shows: 4), 57, 49, 33, 1 */
    assert_true(sw->ra.win >= 32);
    assert_int_equal(minors(env), 0);
    for (unsigned i = 0; i < 64; i++)
        assert_true(swap_env_has(env, pg(i), 3 + i));
    swap_env_check(env);
    swap_env_free(env);
}
MM_BOTH_FORMATS(auto_mapped_down)

/* Only verified pages are mapped: slot 3 cannot be read, slot 6 rotted on
 * the device. Both stay swap entries and their faults report the error;
 * the good pages are mapped. */
static void verified_only(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, true, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 8, 1);
    blk_file_set_bad(&env->blk, 3 * 8, 3 * 8 + 1, BLK_FAIL_READ);
    blk_file_corrupt(&env->blk, 6 * PAGE_SIZE + 9, 0x40);
    mm_env_expect(env->m, pg(0), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    assert_int_equal(sw->st.ra_mapped, 4); /* slots 2, 4, 5, 7 = pages 1, 3, 4, 6 */
    assert_int_equal(swap_env_state(env, pg(2)), S2_SWAP);
    assert_int_equal(swap_env_state(env, pg(5)), S2_SWAP);
    for (unsigned i = 1; i <= 6; i++)
        if (i != 2 && i != 5)
            assert_int_equal(swap_env_state(env, pg(i)), S2_PRESENT);
    host_log_clear();
    struct fault_outcome o = mm_env_fault(env->m, pg(5), ACC_R);
    assert_int_equal(o.kind, FAULT_ERROR);
    assert_int_equal(o.err, -PV_ECORRUPT);
    o = mm_env_fault(env->m, pg(2), ACC_R);
    assert_int_equal(o.kind, FAULT_ERROR);
    assert_int_equal(o.err, -PV_EIO);
    swap_env_check(env);
    /* repaired, both read fine, the others kept their data */
    blk_file_set_bad(&env->blk, 0, 0, 0);
    blk_file_corrupt(&env->blk, 6 * PAGE_SIZE + 9, 0x40);
    for (unsigned i = 0; i < 8; i++)
        assert_true(swap_env_has(env, pg(i), 1 + i));
    swap_env_free(env);
}
MM_BOTH_FORMATS(verified_only)

/* A hint that no longer holds: slot 3's recorded gpa now names another
 * page. The page is not mapped there (the table says no); it waits in the
 * cache and its own fault is a minor one, a readahead hit. */
static void stale_hint_parks(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, true, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 8, 1);
    swap_note_slot_page(sw, 3, pg(40)); /* wrong: slot 3 is page 2's */
    mm_env_expect(env->m, pg(0), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    assert_int_equal(sw->st.ra_mapped, 5); /* slots 2..7 but 3 */
    assert_int_equal(swap_env_state(env, pg(2)), S2_SWAP);
    assert_int_equal(swap_env_state(env, pg(40)), S2_NONE);
    assert_non_null(swap_cache_peek(&sw->cache, 3));
    swap_env_check(env);
    mm_env_expect(env->m, pg(2), ACC_R, FAULT_MAPPED, RES_SWAP_MINOR);
    assert_int_equal(sw->ra.st.hits, 1);
    assert_true(swap_env_has(env, pg(2), 3));
    swap_env_free(env);
}
MM_BOTH_FORMATS(stale_hint_parks)

/* The guest writes a mapped readahead page, as the hardware does it: no
 * fault, the leaf's accessed and dirty bits set. The next major fault
 * counts the hit; reclaim then finds the dirty bit, releases the stale slot
 * copy and writes the page again instead of dropping it. */
static void write_is_hit(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, true, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 16, 1);
    mm_env_expect(env->m, pg(0), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    swap_env_hw_write64(env, pg(4), 0x1234);
    uint64_t faults = env->m->mm.stats.total;
    mm_env_expect(env->m, pg(8), ACC_R, FAULT_MAPPED, RES_SWAP_IN); /* next cluster */
    assert_int_equal(env->m->mm.stats.total, faults + 1);
    assert_int_equal(sw->ra.st.hits, 1);
    assert_true(swap_area_in_use(&sw->area, 5)); /* still the cached copy's */
    sw->recent = NULL;
    uint64_t w0 = sw->area.st.write_requests;
    swap_reclaim(sw, 1000);
    assert_int_equal(sw->st.released, 1);
    assert_true(sw->area.st.write_requests > w0);
    assert_int_equal(swap_env_read64(env, pg(4)), 0x1234);
    for (unsigned i = 0; i < 16; i++)
        if (i != 4)
            assert_true(swap_env_has(env, pg(i), 1 + i));
    swap_env_check(env);
    swap_env_free(env);
}
MM_BOTH_FORMATS(write_is_hit)

/* Without accessed bits there is no way to see a mapped page's use:
 * readahead pages wait in the cache for a minor fault, as before. */
static void no_accessed_bits_parks(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, false, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    assert_false(sw->map_ahead);
    swap_out_pages(env, 8, 1);
    mm_env_expect(env->m, pg(0), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    assert_int_equal(sw->st.ra_mapped, 0);
    for (unsigned i = 1; i < 7; i++)
        mm_env_expect(env->m, pg(i), ACC_R, FAULT_MAPPED, RES_SWAP_MINOR);
    assert_int_equal(sw->ra.st.hits, 6);
    swap_env_free(env);
}
MM_BOTH_FORMATS(no_accessed_bits_parks)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cluster_mapped_both),
        cmocka_unit_test(auto_mapped_both),
        cmocka_unit_test(auto_mapped_down_both),
        cmocka_unit_test(verified_only_both),
        cmocka_unit_test(stale_hint_parks_both),
        cmocka_unit_test(write_is_hit_both),
        cmocka_unit_test(no_accessed_bits_parks_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

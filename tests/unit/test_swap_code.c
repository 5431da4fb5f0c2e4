/*
 * Unit tests for guest code under swap (guest_mm.learn_exec): a frame the
 * guest fetched from (FRAME_EXEC) is kept by reclaim while other victims
 * exist (swap/reclaim.c, keep_code), yet reclaimed when code is all there
 * is; a code page that leaves memory marks its slot (SLOT_EXEC), and its
 * swap-in maps it executable again without a fetch fault. Both stage-2
 * formats, every data page verified, swap_check and mm_check at the end.
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

static struct swap_env *env_new(const struct s2pt_format *fmt)
{
    struct swap_env *env = swap_env_new(fmt, true, MM_ENV_ARENA, DISK_PAGES, NULL, 0,
                                        RA_OFF, 0);
    assert_int_equal(mm_add_anon(&env->m->mm, RAM, RAM_END, "ram"), 0);
    env->m->mm.huge_anon = false;
    env->m->mm.learn_exec = true;
    return env;
}

static gpa_t pg(unsigned i) { return RAM + (gpa_t)i * PAGE_SIZE; }

/* The guest runs code from gpa: its first fetch makes the frame code. */
static void fetch(struct swap_env *env, gpa_t gpa)
{
    mm_env_expect(env->m, gpa, ACC_X, FAULT_MAPPED, RES_EXEC);
}



/* Eight pages, one of them code: reclaiming seven takes the seven data
 * pages and keeps the code page resident. */
static void code_reclaimed_last(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_new(fmt);
    for (unsigned i = 0; i < 8; i++)
        swap_env_fill(env, pg(i), 10 + i);
    fetch(env, pg(3));
    env->sw.recent = NULL;
    assert_int_equal(swap_reclaim(&env->sw, 7), 7);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(swap_env_state(env, pg(i)), i == 3 ? S2_PRESENT : S2_SWAP);
    assert_true(env->sw.st.code_kept >= 1);
    for (unsigned i = 0; i < 8; i++)
        assert_true(swap_env_has(env, pg(i), 10 + i));
    swap_env_free(env);
}
MM_BOTH_FORMATS(code_reclaimed_last)

/* Only code left: reclaim keeps code for half its scan budget, then takes
 * it like any page. */
static void code_only_still_reclaimed(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_new(fmt);
    for (unsigned i = 0; i < 4; i++) {
        swap_env_fill(env, pg(i), 20 + i);
        fetch(env, pg(i));
    }
    env->sw.recent = NULL;
    assert_int_equal(swap_reclaim(&env->sw, 4), 4);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(swap_env_state(env, pg(i)), S2_SWAP);
    assert_true(env->sw.st.code_kept >= 1);
    assert_true(env->sw.st.code_kept < env->sw.st.scanned);
    for (unsigned i = 0; i < 4; i++)
        assert_true(swap_env_has(env, pg(i), 20 + i));
    swap_env_free(env);
}
MM_BOTH_FORMATS(code_only_still_reclaimed)

/* A code page written to swap marks its slot; a read brings it back as
 * code (executable leaf, FRAME_EXEC) with no fetch fault, while a data
 * page comes back without execute. */
static void code_survives_swap(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_new(fmt);
    swap_env_fill(env, pg(0), 30); /* data */
    swap_env_fill(env, pg(1), 31);
    fetch(env, pg(1));             /* code */
    env->sw.recent = NULL;
    assert_int_equal(swap_reclaim(&env->sw, 2), 2);
    assert_false(swap_area_exec(&env->sw.area, swap_env_slot(env, pg(0))));
    assert_true(swap_area_exec(&env->sw.area, swap_env_slot(env, pg(1))));

    assert_true(swap_env_has(env, pg(1), 31)); /* a read: major swap-in */
    struct s2_info e = mm_env_lookup(env->m, pg(1));
    assert_true(e.rights & ACC_X);
    assert_true(mm_env_frame(env->m, pg(1))->flags & FRAME_EXEC);
    assert_true(swap_env_has(env, pg(0), 30));
    assert_false(mm_env_lookup(env->m, pg(0)).rights & ACC_X);
    assert_false(mm_env_frame(env->m, pg(0))->flags & FRAME_EXEC);
    uint64_t execs = env->m->mm.stats.count[RES_EXEC];
    mm_env_expect(env->m, pg(1), ACC_X, FAULT_RETRY, RES_SPURIOUS);
    assert_int_equal(env->m->mm.stats.count[RES_EXEC], execs);
    swap_env_free(env);
}
MM_BOTH_FORMATS(code_survives_swap)

/* A page swapped in as data and fetched from afterwards (it stays clean
 * in the swap cache) is dropped without I/O by reclaim, and its slot now
 * says code. */
static void code_learned_while_cached(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_new(fmt);
    swap_env_fill(env, pg(0), 40);
    env->sw.recent = NULL;
    assert_int_equal(swap_reclaim(&env->sw, 1), 1);
    uint64_t slot = swap_env_slot(env, pg(0));
    assert_false(swap_area_exec(&env->sw.area, slot));
    assert_true(swap_env_has(env, pg(0), 40)); /* back, clean, cached */
    fetch(env, pg(0));
    env->sw.recent = NULL;
    uint64_t w0 = env->sw.area.st.write_requests;
    size_t keep = env->sw.st.code_kept;
    assert_int_equal(swap_reclaim(&env->sw, 1), 1);
    assert_true(env->sw.st.code_kept > keep);       /* kept first, then taken */
    assert_int_equal(env->sw.area.st.write_requests, w0); /* clean: no I/O */
    assert_int_equal(swap_env_slot(env, pg(0)), slot);
    assert_true(swap_area_exec(&env->sw.area, slot));
    assert_true(swap_env_has(env, pg(0), 40));
    assert_true(mm_env_lookup(env->m, pg(0)).rights & ACC_X);
    swap_env_free(env);
}
MM_BOTH_FORMATS(code_learned_while_cached)

/* The mark goes with the slot: once a write released the slot copy, the
 * slot is free and says nothing; the frame is still code. */
static void mark_goes_with_the_slot(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_new(fmt);
    swap_env_fill(env, pg(0), 50);
    fetch(env, pg(0));
    env->sw.recent = NULL;
    assert_int_equal(swap_reclaim(&env->sw, 1), 1);
    uint64_t slot = swap_env_slot(env, pg(0));
    assert_true(swap_area_exec(&env->sw.area, slot));
    swap_env_write64(env, pg(0), 7); /* write fault: the slot copy is released */
    assert_false(swap_area_in_use(&env->sw.area, slot));
    assert_false(swap_area_exec(&env->sw.area, slot));
    assert_true(mm_env_frame(env->m, pg(0))->flags & FRAME_EXEC);
    swap_env_free(env);
}
MM_BOTH_FORMATS(mark_goes_with_the_slot)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(code_reclaimed_last_both),
        cmocka_unit_test(code_only_still_reclaimed_both),
        cmocka_unit_test(code_survives_swap_both),
        cmocka_unit_test(code_learned_while_cached_both),
        cmocka_unit_test(mark_goes_with_the_slot_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

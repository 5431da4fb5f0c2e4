/*
 * Unit tests for code tracking in the fault path (guest_mm.learn_exec,
 * ept/fault.c): a pool frame is mapped without execute until the guest
 * fetches from it; that fetch's fault (RES_EXEC) grants execute and marks
 * the frame FRAME_EXEC, after which every leaf of it may execute. Both
 * stage-2 formats; every environment ends with mm_check (mm_env_free),
 * which holds "an executable 4 KiB leaf maps a code frame".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mm_env.h"
#include "ept/mm_internal.h"

#define MiB (1ull << 20)

static struct mm_env *ram(const struct s2pt_format *fmt, bool learn)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 8 * MiB, "ram"), 0);
    env->mm.huge_anon = false;
    env->mm.learn_exec = learn;
    return env;
}


/* A written page is data: mapped RW; its first fetch grants execute in
 * place (same frame, no copy) and makes it code; a second fetch finds it
 * executable (no fault to take). */
static void write_then_fetch(const struct s2pt_format *fmt)
{
    struct mm_env *env = ram(fmt, true);
    mm_env_expect(env, 1 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    struct s2_info e = mm_env_lookup(env, 1 * MiB);
    assert_int_equal(e.rights, ACC_RW);
    assert_false(mm_env_frame(env, 1 * MiB)->flags & FRAME_EXEC);

    mm_env_expect(env, 1 * MiB + 0x10, ACC_X, FAULT_MAPPED, RES_EXEC);
    struct s2_info x = mm_env_lookup(env, 1 * MiB);
    assert_int_equal(x.rights, ACC_RWX);
    assert_int_equal(x.hpa, e.hpa);
    assert_true(mm_env_frame(env, 1 * MiB)->flags & FRAME_EXEC);
    mm_env_expect(env, 1 * MiB, ACC_X, FAULT_RETRY, RES_SPURIOUS);
    mm_env_expect_stats(env, "anon-new=1 exec=1 spurious=1");
    assert_true(mm_check(&env->mm));
    mm_env_free(env);
}
MM_BOTH_FORMATS(write_then_fetch)

/* A fetch that finds the page untouched reads it as zero (zero-map, the
 * shared frame, not a pool frame); the write after it gets a frame of its
 * own without execute (cow-zero), and the next fetch marks that frame. */
static void fetch_untouched(const struct s2pt_format *fmt)
{
    struct mm_env *env = ram(fmt, true);
    mm_env_expect(env, 2 * MiB, ACC_X, FAULT_MAPPED, RES_ZERO_MAP);
    assert_int_equal(mm_env_lookup(env, 2 * MiB).hpa, mm_env_zero_hpa(env));
    mm_env_expect(env, 2 * MiB, ACC_W, FAULT_MAPPED, RES_COW_ZERO);
    assert_int_equal(mm_env_lookup(env, 2 * MiB).rights, ACC_RW);
    mm_env_expect(env, 2 * MiB, ACC_X, FAULT_MAPPED, RES_EXEC);
    assert_true(mm_env_frame(env, 2 * MiB)->flags & FRAME_EXEC);
    mm_env_expect_stats(env, "zero-map=1 cow-zero=1 exec=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(fetch_untouched)

/* learn_exec off (the default): every leaf gets the region's rights, no
 * fetch faults, no frame is marked. */
static void off_keeps_region_rights(const struct s2pt_format *fmt)
{
    struct mm_env *env = ram(fmt, false);
    mm_env_expect(env, 1 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_int_equal(mm_env_lookup(env, 1 * MiB).rights, ACC_RWX);
    mm_env_expect(env, 1 * MiB, ACC_X, FAULT_RETRY, RES_SPURIOUS);
    assert_false(mm_env_frame(env, 1 * MiB)->flags & FRAME_EXEC);
    mm_env_free(env);
}
MM_BOTH_FORMATS(off_keeps_region_rights)

/* Fault-around's pages were touched by nobody: data until fetched. */
static void around_pages_not_executable(const struct s2pt_format *fmt)
{
    struct mm_env *env = ram(fmt, true);
    env->mm.fault_around = 16;
    mm_env_expect(env, 1 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_true(env->mm.stats.around > 0);
    for (gpa_t g = 1 * MiB; g < 1 * MiB + 16 * PAGE_SIZE; g += PAGE_SIZE) {
        struct s2_info e = mm_env_lookup(env, g);
        assert_int_equal(e.state, S2_PRESENT);
        assert_int_equal(e.rights, ACC_RW);
    }
    mm_env_expect(env, 1 * MiB + 5 * PAGE_SIZE, ACC_X, FAULT_MAPPED, RES_EXEC);
    assert_int_equal(mm_env_lookup(env, 1 * MiB + 5 * PAGE_SIZE).rights, ACC_RWX);
    assert_int_equal(mm_env_lookup(env, 1 * MiB + 6 * PAGE_SIZE).rights, ACC_RW);
    mm_env_free(env);
}
MM_BOTH_FORMATS(around_pages_not_executable)

/* A right restored after aging (rights taken away, no A/D bits) brings
 * execute back only to code. */
static void reprotect_keeps_data_non_executable(const struct s2pt_format *fmt)
{
    struct mm_env *env = ram(fmt, true);
    mm_env_expect(env, 1 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    mm_env_expect(env, 2 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    mm_env_expect(env, 2 * MiB, ACC_X, FAULT_MAPPED, RES_EXEC);
    assert_int_equal(s2pt_protect(&env->mm.s2, 1 * MiB, PAGE_SIZE, 0), 0);
    assert_int_equal(s2pt_protect(&env->mm.s2, 2 * MiB, PAGE_SIZE, 0), 0);
    mm_env_expect(env, 1 * MiB, ACC_R, FAULT_MAPPED, RES_REPROTECT);
    assert_int_equal(mm_env_lookup(env, 1 * MiB).rights, ACC_R);
    mm_env_expect(env, 2 * MiB, ACC_R, FAULT_MAPPED, RES_REPROTECT);
    assert_int_equal(mm_env_lookup(env, 2 * MiB).rights, ACC_R | ACC_X);
    /* a fetch that finds a code page aged is a restore, not a new code page */
    assert_int_equal(s2pt_protect(&env->mm.s2, 2 * MiB, PAGE_SIZE, 0), 0);
    mm_env_expect(env, 2 * MiB, ACC_X, FAULT_MAPPED, RES_REPROTECT);
    assert_int_equal(mm_env_lookup(env, 2 * MiB).rights, ACC_R | ACC_X);
    mm_env_expect_stats(env, "anon-new=2 exec=1 reprotect=3");
    mm_env_free(env);
}
MM_BOTH_FORMATS(reprotect_keeps_data_non_executable)

/* Merging: the second gpa maps the first's frame; it keeps execute only
 * if that frame is code. */
static void merge_follows_the_kept_frame(const struct s2pt_format *fmt)
{
    struct mm_env *env = ram(fmt, true);
    mm_env_expect(env, 1 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW); /* data */
    mm_env_expect(env, 2 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    mm_env_expect(env, 2 * MiB, ACC_X, FAULT_MAPPED, RES_EXEC);       /* code */
    assert_int_equal(mm_merge_pages(&env->mm, 1 * MiB, 2 * MiB), 0);   /* both zero */
    assert_int_equal(mm_env_lookup(env, 2 * MiB).hpa, mm_env_lookup(env, 1 * MiB).hpa);
    assert_int_equal(mm_env_lookup(env, 2 * MiB).rights, ACC_R);
    assert_true(mm_check(&env->mm));
    mm_env_expect(env, 2 * MiB, ACC_X, FAULT_MAPPED, RES_EXEC);
    assert_true(mm_env_frame(env, 1 * MiB)->flags & FRAME_EXEC); /* the shared frame */
    mm_env_free(env);
}
MM_BOTH_FORMATS(merge_follows_the_kept_frame)

/* A 2 MiB anon leaf starts without execute too; a fetch marks the block's
 * head, and a split hands the mark to every 4 KiB frame (all executable). */
static void huge_leaf(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 0, 8 * MiB, "ram"), 0);
    env->mm.learn_exec = true;
    mm_env_expect(env, 2 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_HUGE);
    assert_int_equal(mm_env_lookup(env, 2 * MiB).rights, ACC_RW);
    mm_env_expect(env, 3 * MiB, ACC_X, FAULT_MAPPED, RES_EXEC);
    struct s2_info e = mm_env_lookup(env, 3 * MiB);
    assert_int_equal(e.size, HUGE_2M);
    assert_int_equal(e.rights, ACC_RWX);
    assert_int_equal(s2pt_protect(&env->mm.s2, 2 * MiB, HUGE_2M, ACC_R | ACC_X), 0);
    mm_env_expect(env, 3 * MiB, ACC_W, FAULT_MAPPED, RES_COW_REUSE); /* split */
    assert_int_equal(mm_env_lookup(env, 3 * MiB).size, PAGE_SIZE);
    assert_true(mm_env_frame(env, 3 * MiB)->flags & FRAME_EXEC);
    assert_true(mm_env_frame(env, 2 * MiB + 8 * PAGE_SIZE)->flags & FRAME_EXEC);
    assert_true(mm_check(&env->mm));
    mm_env_free(env);
}
MM_BOTH_FORMATS(huge_leaf)

/* mm_check catches an executable leaf of a frame nobody fetched from. */
static void check_catches_unmarked_exec(const struct s2pt_format *fmt)
{
    struct mm_env *env = ram(fmt, true);
    mm_env_expect(env, 1 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_int_equal(s2pt_protect(&env->mm.s2, 1 * MiB, PAGE_SIZE, ACC_RWX), 0);
    assert_false(mm_check(&env->mm));
    mm_env_frame(env, 1 * MiB)->flags |= FRAME_EXEC;
    assert_true(mm_check(&env->mm));
    mm_env_free(env);
}
MM_BOTH_FORMATS(check_catches_unmarked_exec)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_then_fetch_both),
        cmocka_unit_test(fetch_untouched_both),
        cmocka_unit_test(off_keeps_region_rights_both),
        cmocka_unit_test(around_pages_not_executable_both),
        cmocka_unit_test(reprotect_keeps_data_non_executable_both),
        cmocka_unit_test(merge_follows_the_kept_frame_both),
        cmocka_unit_test(huge_leaf_both),
        cmocka_unit_test(check_catches_unmarked_exec_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for scan resistance (swap/swapin.c, note_walk): a major
 * swap-in one page above or below the previous one continues a sequential
 * walk; its frame is marked FRAME_ONCE and goes to the inactive tail, and
 * the walk's access to the page it left is forgotten. Reclaim then takes
 * the walk's pages, most recently walked first, before older unused pages;
 * a walked page the guest uses again gets its second chance like any page.
 * With readahead the walk's majors come a window apart: a major just past
 * the previous window continues the walk, and the window's used pages are
 * reclaimed first too (swap/ra_map.c, swap_ra_collect).
 * Both stage-2 formats, every page verified at the end.
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
#define OLD 8u          /* pages 0..7: resident, unused since they were written */
#define WALK0 16u       /* pages 16..23: swapped out, then walked */
#define NWALK 8u
#define OLD_TAG 10u
#define WALK_TAG 100u

static gpa_t pg(unsigned i) { return RAM + (gpa_t)i * PAGE_SIZE; }

static struct frame *frame(struct swap_env *env, unsigned i) { return mm_env_frame(env->m, pg(i)); }

/* The guest uses a mapped page: the hardware sets its accessed bit. */
static void touch(struct swap_env *env, unsigned i)
{
    swap_env_mark(env, pg(i), env->m->fmt->accessed_bit);
}

/* Read a swapped-out page back (a major fault with readahead off) and use it. */
static void walk_to(struct swap_env *env, unsigned i)
{
    uint64_t ins = env->sw.st.ins;
    assert_true(swap_env_has(env, pg(i), WALK_TAG + i - WALK0));
    assert_int_equal(env->sw.st.ins, ins + 1);
    touch(env, i);
}

/* nwalk pages from WALK0 swapped out (slots in page order), then OLD
 * resident pages nobody used since they were written; readahead as given. */
static struct swap_env *env_with(const struct s2pt_format *fmt, enum ra_policy pol,
                                 uint32_t ra_pages, unsigned nwalk)
{
    struct swap_env *env = swap_env_new(fmt, true, MM_ENV_ARENA, DISK_PAGES, NULL, 0,
                                        pol, ra_pages);
    assert_int_equal(mm_add_anon(&env->m->mm, RAM, RAM_END, "ram"), 0);
    env->m->mm.huge_anon = false;
    swap_env_swap_out_run(env, pg(WALK0), nwalk, WALK_TAG);
    for (unsigned i = 0; i < OLD; i++)
        swap_env_fill(env, pg(i), OLD_TAG + i);
    for (unsigned i = 0; i < OLD; i++)
        (void)mm_frame_referenced(&env->m->mm, frame(env, i));
    return env;
}

static struct swap_env *env_new(const struct s2pt_format *fmt)
{
    return env_with(fmt, RA_OFF, 0, NWALK);
}

/* Every page still reads back what was written, the checks hold. */
static void all_there_n(struct swap_env *env, unsigned nwalk)
{
    for (unsigned i = 0; i < OLD; i++)
        assert_true(swap_env_has(env, pg(i), OLD_TAG + i));
    for (unsigned i = WALK0; i < WALK0 + nwalk; i++)
        assert_true(swap_env_has(env, pg(i), WALK_TAG + i - WALK0));
    swap_env_check(env);
    swap_env_free(env);
}

static void all_there(struct swap_env *env)
{
    all_there_n(env, NWALK);
}

/* An ascending walk: every page after the first is marked and queued at the
 * inactive tail, the latest last; reclaiming four takes the four walked
 * before the latest (the latest is the fault's own, kept), none of the
 * older pages. */
static void walk_reclaimed_first(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_new(fmt);
    for (unsigned i = WALK0; i < WALK0 + NWALK; i++)
        walk_to(env, i);
    assert_int_equal(env->sw.st.walk_ins, NWALK - 1);
    assert_false(frame(env, WALK0)->flags & FRAME_ONCE);
    for (unsigned i = WALK0 + 1; i < WALK0 + NWALK; i++)
        assert_true(frame(env, i)->flags & FRAME_ONCE);
    assert_ptr_equal(lru_tail(&env->sw.lru, LRU_INACTIVE), frame(env, WALK0 + NWALK - 1));

    assert_int_equal(swap_reclaim(&env->sw, 4), 4);
    for (unsigned i = 0; i < OLD; i++)
        assert_int_equal(swap_env_state(env, pg(i)), S2_PRESENT);
    for (unsigned i = WALK0; i < WALK0 + NWALK; i++) {
        bool gone = i >= WALK0 + 3 && i <= WALK0 + 6;
        assert_int_equal(swap_env_state(env, pg(i)), gone ? S2_SWAP : S2_PRESENT);
    }
    assert_int_equal(env->sw.st.clean_dropped, 4); /* clean copies: no write */
    all_there(env);
}
MM_BOTH_FORMATS(walk_reclaimed_first)

/* A walked page the guest uses again after the walk left it is kept (it
 * moves to the active list and is no longer "once"); reclaim takes the
 * next walked page instead. */
static void walked_page_used_again_is_kept(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_new(fmt);
    for (unsigned i = WALK0; i < WALK0 + NWALK; i++)
        walk_to(env, i);
    touch(env, WALK0 + 4);
    assert_int_equal(swap_reclaim(&env->sw, 4), 4);
    struct frame *kept = frame(env, WALK0 + 4);
    assert_true(kept->flags & FRAME_ACTIVE);
    assert_false(kept->flags & FRAME_ONCE);
    for (unsigned i = 0; i < OLD; i++)
        assert_int_equal(swap_env_state(env, pg(i)), S2_PRESENT);
    for (unsigned i = WALK0; i < WALK0 + NWALK; i++) {
        bool gone = i >= WALK0 + 2 && i <= WALK0 + 6 && i != WALK0 + 4;
        assert_int_equal(swap_env_state(env, pg(i)), gone ? S2_SWAP : S2_PRESENT);
    }
    all_there(env);
}
MM_BOTH_FORMATS(walked_page_used_again_is_kept)

/* Swap-ins two pages apart are no walk: nothing marked, nothing moved,
 * and reclaim takes the older unused pages first, as before. */
static void strided_faults_are_no_walk(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_new(fmt);
    for (unsigned i = WALK0; i < WALK0 + NWALK; i += 2)
        walk_to(env, i);
    assert_int_equal(env->sw.st.walk_ins, 0);
    for (unsigned i = WALK0; i < WALK0 + NWALK; i += 2)
        assert_false(frame(env, i)->flags & FRAME_ONCE);
    assert_int_equal(swap_reclaim(&env->sw, 4), 4);
    for (unsigned i = WALK0; i < WALK0 + NWALK; i += 2)
        assert_int_equal(swap_env_state(env, pg(i)), S2_PRESENT);
    all_there(env);
}
MM_BOTH_FORMATS(strided_faults_are_no_walk)

/* A walk downwards is a walk too. */
static void descending_walk(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_new(fmt);
    for (unsigned i = WALK0 + NWALK; i-- > WALK0 + 4;)
        walk_to(env, i);
    assert_int_equal(env->sw.st.walk_ins, 3);
    for (unsigned i = WALK0 + 4; i < WALK0 + NWALK - 1; i++)
        assert_true(frame(env, i)->flags & FRAME_ONCE);
    assert_ptr_equal(lru_tail(&env->sw.lru, LRU_INACTIVE), frame(env, WALK0 + 4));
    all_there(env);
}
MM_BOTH_FORMATS(descending_walk)

/* The page the walk left was reclaimed before the walk went on: its frame
 * is forgotten when freed, and the next step still counts as a walk. */
static void left_page_already_gone(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_new(fmt);
    walk_to(env, WALK0);
    walk_to(env, WALK0 + 1);
    assert_ptr_equal(env->sw.walk_prev, frame(env, WALK0 + 1));
    (void)mm_frame_referenced(&env->m->mm, frame(env, WALK0 + 1)); /* not used since */
    env->sw.recent = NULL;
    assert_int_equal(swap_reclaim(&env->sw, 1), 1);
    assert_int_equal(swap_env_state(env, pg(WALK0 + 1)), S2_SWAP);
    assert_null(env->sw.walk_prev);
    walk_to(env, WALK0 + 2);
    assert_int_equal(env->sw.st.walk_ins, 2);
    assert_true(frame(env, WALK0 + 2)->flags & FRAME_ONCE);
    all_there(env);
}
MM_BOTH_FORMATS(left_page_already_gone)

/* ---- walks through readahead windows (swap/ra_map.c, swap_ra_collect) ---- */

#define RA_N 4u /* auto's window once a walk shows */

#define NWALK_AUTO (3 * NWALK)

/* The same layout with auto readahead, which maps its window at once. */
static struct swap_env *env_auto(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, RA_AUTO, RA_N, NWALK_AUTO);
    assert_true(env->sw.map_ahead);
    return env;
}

/* A page the window mapped ahead (no fault), used by the guest. */
static void use_ahead(struct swap_env *env, unsigned i)
{
    uint64_t ins = env->sw.st.ins, minor = env->sw.st.ins_minor;
    assert_int_equal(swap_env_state(env, pg(i)), S2_PRESENT);
    assert_true(swap_env_has(env, pg(i), WALK_TAG + i - WALK0));
    assert_int_equal(env->sw.st.ins, ins);
    assert_int_equal(env->sw.st.ins_minor, minor);
    touch(env, i);
}

static bool accessed_bit(struct swap_env *env, unsigned i)
{
    return mm_env_lookup(env->m, pg(i)).accessed;
}

/* Three single steps up from WALK0 open a window of RA_N at the third,
 * [WALK0 + 2, WALK0 + 6); the guest uses its three pages ahead. */
static void walk_into_window(struct swap_env *env)
{
    walk_to(env, WALK0);
    walk_to(env, WALK0 + 1);
    walk_to(env, WALK0 + 2);
    for (unsigned i = WALK0 + 3; i < WALK0 + 6; i++)
        use_ahead(env, i);
}

/* An ascending walk with auto readahead: three single steps open a window
 * of RA_N at the third (its three pages ahead mapped at once); the guest
 * uses them and faults just past the window. That fault continues the
 * walk, and the window's pages it went through go to the inactive tail as
 * FRAME_ONCE with their accesses forgotten: reclaiming four takes the
 * walk's pages, not one of the older unused pages, which LRU order alone
 * would have taken (the window's pages were used more recently). */
static void walk_through_window_reclaimed_first(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_auto(fmt);
    walk_into_window(env);
    assert_int_equal(env->sw.st.walk_passed, 0);
    walk_to(env, WALK0 + 6);
    assert_int_equal(env->sw.st.walk_passed, 3);
    assert_int_equal(env->sw.st.walk_ins, 3); /* WALK0 + 1, + 2, + 6 */
    for (unsigned i = WALK0 + 3; i < WALK0 + 6; i++) {
        assert_true(frame(env, i)->flags & FRAME_ONCE);
        assert_false(accessed_bit(env, i));
    }
    assert_ptr_equal(lru_tail(&env->sw.lru, LRU_INACTIVE), frame(env, WALK0 + 6));

    assert_int_equal(swap_reclaim(&env->sw, 4), 4);
    for (unsigned i = 0; i < OLD; i++)
        assert_int_equal(swap_env_state(env, pg(i)), S2_PRESENT);
    for (unsigned i = WALK0 + 2; i < WALK0 + 6; i++)
        assert_int_equal(swap_env_state(env, pg(i)), S2_SWAP);
    assert_int_equal(swap_env_state(env, pg(WALK0 + 6)), S2_PRESENT);
    all_there_n(env, NWALK_AUTO);
}
MM_BOTH_FORMATS(walk_through_window_reclaimed_first)

/* A major fault far from the window is no walk through it: its used pages
 * keep their accesses and stay where readahead put them, and reclaim takes
 * the older unused pages first. */
static void jump_past_window_is_no_walk(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_auto(fmt);
    walk_into_window(env);
    walk_to(env, WALK0 + 6 + RA_AUTO_STRIDE_MAX); /* one page too far */
    assert_int_equal(env->sw.st.walk_passed, 0);
    assert_int_equal(env->sw.st.walk_ins, 2);
    for (unsigned i = WALK0 + 3; i < WALK0 + 6; i++) {
        assert_false(frame(env, i)->flags & FRAME_ONCE);
        assert_true(accessed_bit(env, i));
    }
    env->sw.recent = NULL;
    assert_int_equal(swap_reclaim(&env->sw, 4), 4);
    for (unsigned i = WALK0 + 3; i < WALK0 + 6; i++)
        assert_int_equal(swap_env_state(env, pg(i)), S2_PRESENT);
    all_there_n(env, NWALK_AUTO);
}
MM_BOTH_FORMATS(jump_past_window_is_no_walk)

/* A descending walk through a window below the fault; a window page the
 * guest did not use is no part of the walk (it stays a readahead page, to
 * be judged a miss when dropped). */
static void descending_walk_through_window(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_auto(fmt);
    unsigned top = WALK0 + 2 * NWALK;
    walk_to(env, top);
    walk_to(env, top - 1);
    walk_to(env, top - 2); /* opens [top - 5, top - 1) */
    use_ahead(env, top - 3);
    use_ahead(env, top - 5);
    assert_int_equal(swap_env_state(env, pg(top - 4)), S2_PRESENT); /* mapped, unused */
    walk_to(env, top - 6);
    assert_int_equal(env->sw.st.walk_passed, 2);
    assert_true(frame(env, top - 3)->flags & FRAME_ONCE);
    assert_true(frame(env, top - 5)->flags & FRAME_ONCE);
    assert_false(frame(env, top - 4)->flags & FRAME_ONCE);
    assert_true(frame(env, top - 4)->flags & FRAME_READAHEAD);
    assert_false(accessed_bit(env, top - 3));
    assert_false(accessed_bit(env, top - 5));
    all_there_n(env, NWALK_AUTO);
}
MM_BOTH_FORMATS(descending_walk_through_window)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(walk_reclaimed_first_both),
        cmocka_unit_test(walked_page_used_again_is_kept_both),
        cmocka_unit_test(strided_faults_are_no_walk_both),
        cmocka_unit_test(descending_walk_both),
        cmocka_unit_test(left_page_already_gone_both),
        cmocka_unit_test(walk_through_window_reclaimed_first_both),
        cmocka_unit_test(jump_past_window_is_no_walk_both),
        cmocka_unit_test(descending_walk_through_window_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

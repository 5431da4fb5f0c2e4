/* Unit tests for the readahead policy (swap/readahead.c): exact windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "swap/readahead.h"

static void expect_win(struct ra_state *ra, uint64_t key, uint64_t lo, uint64_t hi,
                       uint64_t start, uint64_t end)
{
    struct ra_window w = ra_plan(ra, key, lo, hi);
    if (w.start != start || w.end != end)
        fail_msg("key %llu in [%llu, %llu): window [%llu, %llu), want [%llu, %llu)",
                 (unsigned long long)key, (unsigned long long)lo, (unsigned long long)hi,
                 (unsigned long long)w.start, (unsigned long long)w.end,
                 (unsigned long long)start, (unsigned long long)end);
    assert_true(w.start <= key && key < w.end);
    assert_int_equal(w.by_gpa, ra->policy == RA_AUTO);
}

/* Readahead hits at pages [lo, hi). */
static void hits(struct ra_state *ra, uint64_t lo, uint64_t hi)
{
    for (uint64_t p = lo; p < hi; p++)
        ra_note_hit(ra, p);
}

static void test_off(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_OFF, 64), 0); /* pages ignored */
    assert_int_equal(ra.pages, 1);
    expect_win(&ra, 37, 1, 100, 37, 38);
    expect_win(&ra, 1, 1, 100, 1, 2);
    expect_win(&ra, 99, 1, 100, 99, 100);
    assert_false(ra_by_gpa(&ra));
    assert_int_equal(ra.st.faults, 3);
}

static void test_cluster(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_CLUSTER, 0), 0); /* 0: the default, 8 */
    assert_int_equal(ra.pages, 8);
    expect_win(&ra, 37, 1, 100, 32, 40);
    expect_win(&ra, 32, 1, 100, 32, 40);
    expect_win(&ra, 39, 1, 100, 32, 40);
    expect_win(&ra, 3, 1, 100, 1, 8);   /* slot 0 is the header */
    expect_win(&ra, 97, 1, 100, 96, 100); /* clipped at the area's end */
    /* no history: the same slot gives the same window */
    expect_win(&ra, 37, 1, 100, 32, 40);
    assert_int_equal(ra_set_policy(&ra, RA_CLUSTER, 1), 0);
    expect_win(&ra, 37, 1, 100, 37, 38);
    assert_int_equal(ra_set_policy(&ra, RA_CLUSTER, 256), 0);
    expect_win(&ra, 300, 1, 1000, 256, 512);
    expect_win(&ra, 5, 1, 1000, 1, 256);
    assert_int_equal(ra_set_policy(&ra, RA_CLUSTER, 32), 0);
    expect_win(&ra, 100, 1, 1000, 96, 128);
}

static void test_bad_settings(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_CLUSTER, 16), 0);
    assert_int_equal(ra_set_policy(&ra, RA_CLUSTER, 3), -PV_EINVAL);
    assert_int_equal(ra_set_policy(&ra, RA_CLUSTER, 512), -PV_EINVAL);
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 12), -PV_EINVAL);
    assert_int_equal(ra_set_policy(&ra, (enum ra_policy)7, 8), -PV_EINVAL);
    /* a refused switch changes nothing */
    assert_int_equal(ra.policy, RA_CLUSTER);
    assert_int_equal(ra.pages, 16);
    assert_int_equal(ra_init(&ra, RA_AUTO, 9), -PV_EINVAL);
}

/* A sequential walk upwards: nothing read ahead until the walk shows
 * (two short steps in a row), then the window doubles while every page is
 * used. */
static void test_auto_grows(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_AUTO, 8), 0);
    assert_true(ra_by_gpa(&ra));
    assert_int_equal(ra.win, 1);
    expect_win(&ra, 100, 0, 1000, 100, 101); /* first: the page only */
    expect_win(&ra, 101, 0, 1000, 101, 102); /* one step: not yet a walk */
    expect_win(&ra, 102, 0, 1000, 102, 110); /* a second step: N, upwards */
    hits(&ra, 103, 110);                     /* h 7, stride 1 */
    expect_win(&ra, 110, 0, 1000, 110, 126); /* roundup(8 + 1) = 16 */
    hits(&ra, 111, 126);
    expect_win(&ra, 126, 0, 1000, 126, 158); /* 32 */
    hits(&ra, 127, 158);
    expect_win(&ra, 158, 0, 1000, 158, 222); /* 64 */
    hits(&ra, 159, 222);
    expect_win(&ra, 222, 0, 1000, 222, 286); /* capped at 64 */
    assert_int_equal(ra.win, RA_AUTO_MAX_PAGES);
    hits(&ra, 223, 286);
    /* a jump after a used window: h 63 keeps it large; clipped to the region */
    expect_win(&ra, 980, 0, 1000, 980, 1000);
}

/* Random faults read the faulting page only (as off does); an unused
 * window halves once per fault down to 1. */
static void test_auto_shrinks(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_AUTO, 32), 0);
    expect_win(&ra, 500, 0, 1000, 500, 501);
    expect_win(&ra, 700, 0, 1000, 700, 701);
    expect_win(&ra, 300, 0, 1000, 300, 301);
    expect_win(&ra, 301, 0, 1000, 301, 302); /* one short step: no window */
    expect_win(&ra, 900, 0, 1000, 900, 901);
    assert_int_equal(ra.win, 1);
    assert_int_equal(ra.st.faults, 5);
    /* a walk down: 200, 199, 198 opens N below the fault */
    expect_win(&ra, 200, 0, 1000, 200, 201);
    expect_win(&ra, 199, 0, 1000, 199, 200);
    expect_win(&ra, 198, 0, 1000, 167, 199);
    /* its window unused: halves once per fault */
    expect_win(&ra, 600, 0, 1000, 600, 616); /* 16, upwards */
    expect_win(&ra, 100, 0, 1000, 93, 101);  /* 8, downwards */
    expect_win(&ra, 900, 0, 1000, 900, 904); /* 4 */
    expect_win(&ra, 50, 0, 1000, 49, 51);    /* 2 */
    expect_win(&ra, 400, 0, 1000, 400, 401); /* 1 */
    /* a stride-2 walk using 3 pages of an 8-page window: roundup(4 * 2 + 1) */
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 8), 0);
    expect_win(&ra, 16, 0, 1000, 16, 17);
    expect_win(&ra, 18, 0, 1000, 18, 19);
    expect_win(&ra, 20, 0, 1000, 20, 28);
    ra_note_hit(&ra, 22);
    ra_note_hit(&ra, 24);
    ra_note_hit(&ra, 26);
    expect_win(&ra, 28, 0, 1000, 28, 44);
    assert_int_equal(ra.win, 16);
}

/* Strides: two steps in a row of at most RA_AUTO_STRIDE_MAX pages are a
 * walk, the window reaches the next step and grows with the hits; longer
 * steps are random. */
static void test_auto_stride(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_AUTO, 1), 0);
    expect_win(&ra, 0, 0, 1000, 0, 1);
    expect_win(&ra, 3, 0, 1000, 3, 4);
    expect_win(&ra, 6, 0, 1000, 6, 10);  /* step 3 twice: roundup(3 + 1), N 1 */
    ra_note_hit(&ra, 9);
    expect_win(&ra, 12, 0, 1000, 12, 20); /* roundup(2 * 3 + 1) */
    ra_note_hit(&ra, 15);
    ra_note_hit(&ra, 18);
    expect_win(&ra, 21, 0, 1000, 21, 37); /* roundup(3 * 3 + 1) */
    /* a far jump with no hit: stays at least half */
    expect_win(&ra, 500, 0, 1000, 500, 508);
    /* steps above RA_AUTO_STRIDE_MAX never open a window */
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 8), 0);
    for (uint64_t p = 0; p < 50; p += RA_AUTO_STRIDE_MAX + 1)
        expect_win(&ra, p, 0, 1000, p, p + 1);
    /* an irregular walk (steps 2, then 3: both short) is a walk too */
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 8), 0);
    expect_win(&ra, 100, 0, 1000, 100, 101);
    expect_win(&ra, 102, 0, 1000, 102, 103);
    expect_win(&ra, 105, 0, 1000, 105, 113); /* max(roundup(3 + 1), N 8) */
    /* a short step after a jump is not */
    expect_win(&ra, 700, 0, 1000, 700, 704); /* no hit: half of 8 */
    expect_win(&ra, 702, 0, 1000, 702, 704); /* half again; the jump reset the step */
    expect_win(&ra, 703, 0, 1000, 703, 711); /* steps 2, 1: a walk, N */
}

static void test_auto_edges(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_AUTO, 8), 0);
    expect_win(&ra, 106, 100, 110, 106, 107);
    expect_win(&ra, 107, 100, 110, 107, 108);
    expect_win(&ra, 108, 100, 110, 108, 110); /* N upwards, clipped at the end */
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 8), 0);
    expect_win(&ra, 3, 0, 10, 3, 4);
    expect_win(&ra, 2, 0, 10, 2, 3);
    expect_win(&ra, 1, 0, 10, 0, 2); /* N downwards, clipped at 0 */
    /* the same page twice (a fault after the page was dropped again) */
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 4), 0);
    expect_win(&ra, 10, 0, 100, 10, 11);
    expect_win(&ra, 10, 0, 100, 10, 11); /* no step: aligned, 1 */
    /* N above the cap: the walk's window is capped */
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 256), 0);
    assert_int_equal(ra.win, 1);
    expect_win(&ra, 100, 0, 1000, 100, 101);
    expect_win(&ra, 101, 0, 1000, 101, 102);
    expect_win(&ra, 102, 0, 1000, 102, 102 + RA_AUTO_MAX_PAGES);
    assert_int_equal(ra.win, RA_AUTO_MAX_PAGES);
}

static void test_stats_and_switching(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_AUTO, 8), 0);
    expect_win(&ra, 100, 0, 1000, 100, 101);
    hits(&ra, 101, 103);
    ra_note_miss(&ra);
    ra_note_io(&ra, 7, 2);
    assert_int_equal(ra.st.faults, 1);
    assert_int_equal(ra.st.hits, 2);
    assert_int_equal(ra.st.misses, 1);
    assert_int_equal(ra.st.pages, 7);
    assert_int_equal(ra.st.requests, 2);
    char buf[64];
    ra_describe(&ra, buf, sizeof(buf));
    assert_string_equal(buf, "auto (start 8, window now 1)");
    /* h 2, stride 1: roundup(3 * 1 + 1) */
    expect_win(&ra, 103, 0, 1000, 103, 107);
    ra_describe(&ra, buf, sizeof(buf));
    assert_string_equal(buf, "auto (start 8, window now 4)");
    /* switching keeps the counters, forgets auto's history */
    assert_int_equal(ra_set_policy(&ra, RA_CLUSTER, 16), 0);
    ra_describe(&ra, buf, sizeof(buf));
    assert_string_equal(buf, "cluster:16");
    assert_int_equal(ra.st.hits, 2);
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 8), 0);
    expect_win(&ra, 101, 0, 1000, 101, 102); /* a first fault again */
    assert_int_equal(ra_set_policy(&ra, RA_OFF, 0), 0);
    ra_describe(&ra, buf, sizeof(buf));
    assert_string_equal(buf, "off");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off),
        cmocka_unit_test(test_cluster),
        cmocka_unit_test(test_bad_settings),
        cmocka_unit_test(test_auto_grows),
        cmocka_unit_test(test_auto_shrinks),
        cmocka_unit_test(test_auto_stride),
        cmocka_unit_test(test_auto_edges),
        cmocka_unit_test(test_stats_and_switching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

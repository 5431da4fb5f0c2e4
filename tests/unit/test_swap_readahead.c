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

/* A sequential walk upwards: the window doubles while every page is used. */
static void test_auto_grows(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_AUTO, 8), 0);
    assert_true(ra_by_gpa(&ra));
    expect_win(&ra, 100, 0, 1000, 96, 104);  /* first: aligned, start size */
    hits(&ra, 101, 104);                     /* h 3, stride 1 */
    expect_win(&ra, 104, 0, 1000, 104, 112); /* roundup(4 + 1) = 8, upwards */
    hits(&ra, 105, 112);
    expect_win(&ra, 112, 0, 1000, 112, 128); /* h 7 -> 16 */
    hits(&ra, 113, 128);
    expect_win(&ra, 128, 0, 1000, 128, 160); /* 32 */
    hits(&ra, 129, 160);
    expect_win(&ra, 160, 0, 1000, 160, 224); /* 64 */
    hits(&ra, 161, 224);
    expect_win(&ra, 224, 0, 1000, 224, 288); /* capped at 64 */
    assert_int_equal(ra.win, RA_AUTO_MAX_PAGES);
    hits(&ra, 225, 288);
    expect_win(&ra, 980, 0, 1000, 980, 1000); /* clipped to the region */
}

/* Random faults: no hits, the window halves once per fault down to 1. */
static void test_auto_shrinks(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_AUTO, 32), 0);
    expect_win(&ra, 500, 0, 1000, 480, 512);
    expect_win(&ra, 700, 0, 1000, 700, 716);  /* 16, upwards */
    expect_win(&ra, 300, 0, 1000, 293, 301);  /* 8, downwards */
    expect_win(&ra, 900, 0, 1000, 900, 904);  /* 4 */
    expect_win(&ra, 100, 0, 1000, 99, 101);   /* 2 */
    expect_win(&ra, 600, 0, 1000, 600, 601);  /* 1 */
    expect_win(&ra, 200, 0, 1000, 200, 201);  /* stays 1 */
    /* a neighbour of the last fault with no hit: 2, to catch a walk */
    expect_win(&ra, 201, 0, 1000, 201, 203);
    /* ... walking down too */
    expect_win(&ra, 200, 0, 1000, 199, 201);
    /* one hit, stride 1: roundup(2 + 1) = 4 */
    hits(&ra, 199, 200);
    expect_win(&ra, 50, 0, 1000, 47, 51);
    /* a stride-2 walk using 3 pages of an 8-page window: roundup(4 * 2 + 1) */
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 8), 0);
    expect_win(&ra, 16, 0, 1000, 16, 24);
    ra_note_hit(&ra, 18);
    ra_note_hit(&ra, 20);
    ra_note_hit(&ra, 22);
    expect_win(&ra, 24, 0, 1000, 24, 40);
    assert_int_equal(ra.win, 16);
}

/* A stride-3 walk grows the window again from 1. */
static void test_auto_stride(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_AUTO, 1), 0);
    expect_win(&ra, 0, 0, 1000, 0, 1);
    expect_win(&ra, 3, 0, 1000, 3, 7);   /* no hit, near: roundup(3 + 1) */
    ra_note_hit(&ra, 6);
    expect_win(&ra, 9, 0, 1000, 9, 17);  /* roundup(2 * 3 + 1) */
    ra_note_hit(&ra, 12);
    ra_note_hit(&ra, 15);
    expect_win(&ra, 18, 0, 1000, 18, 34); /* roundup(3 * 3 + 1) */
    /* a far jump with no hit: stays at least half */
    expect_win(&ra, 500, 0, 1000, 500, 508);
}

static void test_auto_edges(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_AUTO, 8), 0);
    expect_win(&ra, 108, 100, 110, 104, 110); /* aligned, clipped both ways */
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 8), 0);
    expect_win(&ra, 2, 0, 10, 0, 8);
    hits(&ra, 3, 8); /* h 5; then 1 is 6 pages back: stride 6, capped at 64 */
    expect_win(&ra, 1, 0, 10, 0, 2); /* downwards, clipped at 0 */
    assert_int_equal(ra.win, RA_AUTO_MAX_PAGES);
    /* the same page twice (a fault after the page was dropped again) */
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 4), 0);
    expect_win(&ra, 10, 0, 100, 8, 12);
    expect_win(&ra, 10, 0, 100, 10, 12); /* halved to 2, aligned */
    /* a starting window above the cap is capped */
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 256), 0);
    assert_int_equal(ra.win, RA_AUTO_MAX_PAGES);
    expect_win(&ra, 100, 0, 1000, 64, 128);
}

static void test_stats_and_switching(void **state)
{
    (void)state;
    struct ra_state ra;
    assert_int_equal(ra_init(&ra, RA_AUTO, 8), 0);
    expect_win(&ra, 100, 0, 1000, 96, 104);
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
    assert_string_equal(buf, "auto (start 8, window now 8)");
    /* switching keeps the counters, forgets auto's history */
    assert_int_equal(ra_set_policy(&ra, RA_CLUSTER, 16), 0);
    ra_describe(&ra, buf, sizeof(buf));
    assert_string_equal(buf, "cluster:16");
    assert_int_equal(ra.st.hits, 2);
    assert_int_equal(ra_set_policy(&ra, RA_AUTO, 8), 0);
    expect_win(&ra, 101, 0, 1000, 96, 104); /* a first fault again */
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

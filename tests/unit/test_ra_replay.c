/*
 * Unit tests for the readahead replay (tests/bench/ra_replay.c) and the
 * policies it replays (swap/readahead.c): a small recorded trace and a tiny
 * hand-made one whose figures were computed by hand for every policy (the
 * working is in the comments), and issue 14's goal on the synthetic traces
 * as a property.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/bench/ra_goal.h"
#include "tests/bench/ra_replay.h"
#include "tests/bench/ra_synth.h"

/*
 * 24 swap-ins cut from tests/traces/seq.trace (entries 3192..3215, counting
 * from 0, in the workload's read phase): a sequential walk 4e18..4e2c
 * interleaved with a second one, 4f12..4f14 (every 10th fault).
 */
static const char recorded[] =
    "# an excerpt of tests/traces/seq.trace\n"
    "4e18+2\n4f12\n4e1b+8\n4f13\n4e24+7\n4f14\n4e2c\n";

/* Two interleaved walks (100, 101; 108, 109) over 16 swapped-out pages, 4
 * resident: steps 8, 7, 8 look like a short-stride walk to auto. */
static const char tiny[] =
    "capacity 4\n"
    "swapped 100 110\n"
    "100\n108 m\n101\n109\n";

struct want {
    uint64_t majors, hits, ra_pages, read, requests, dropped;
};

static void load(struct rr_trace *t, const char *text)
{
    char err[160] = "";
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    rr_trace_init(t, "test");
    int rc = rr_trace_parse(t, f, err, sizeof(err));
    fclose(f);
    if (rc < 0)
        fail_msg("parse: %s", err);
}

static void expect(const struct rr_trace *t, int pol, uint32_t capacity, struct want w)
{
    struct rr_result r;
    assert_int_equal(rr_replay(t, &rg_policies[pol], capacity, &r), 0);
    if (r.majors != w.majors || r.ra_hits != w.hits || r.ra_pages != w.ra_pages ||
        r.pages_read != w.read || r.requests != w.requests || r.ra_dropped != w.dropped)
        fail_msg("%s: majors %llu hits %llu ra %llu read %llu req %llu dropped %llu, "
                 "want %llu %llu %llu %llu %llu %llu", rg_policies[pol].name,
                 (unsigned long long)r.majors, (unsigned long long)r.ra_hits,
                 (unsigned long long)r.ra_pages, (unsigned long long)r.pages_read,
                 (unsigned long long)r.requests, (unsigned long long)r.ra_dropped,
                 (unsigned long long)w.majors, (unsigned long long)w.hits,
                 (unsigned long long)w.ra_pages, (unsigned long long)w.read,
                 (unsigned long long)w.requests, (unsigned long long)w.dropped);
    /* every entry is a swap-in (no resident hits at these capacities) */
    assert_int_equal(r.accesses, t->n);
    assert_int_equal(r.majors + r.ra_hits, t->n);
    /* readahead.c's own counters agree with the model's */
    assert_int_equal(r.st.faults, r.majors);
    assert_int_equal(r.st.hits, r.ra_hits);
    assert_int_equal(r.st.misses, r.ra_dropped);
    assert_int_equal(r.st.pages, r.ra_pages);
    assert_int_equal(r.st.requests, r.requests);
}

static void expect_ratio(const struct rr_trace *t, int pol, uint32_t capacity,
                         double accuracy, double coverage)
{
    struct rr_result r;
    assert_int_equal(rr_replay(t, &rg_policies[pol], capacity, &r), 0);
    assert_float_equal(rr_accuracy(&r), accuracy, 1e-12);
    assert_float_equal(rr_coverage(&r), coverage, 1e-12);
}

/*
 * The recorded excerpt, 64 resident pages (nothing is evicted). The 24
 * distinct pages get slots in gpa order: 4e18..4e2c -> 1..21,
 * 4f12..4f14 -> 22..24.
 *
 * off: 24 majors, 24 reads, 24 requests.
 *
 * cluster:8 (slot blocks [1,8) [8,16) [16,24) [24,25)):
 *   4e18 (slot 1) reads 4e18..4e1e: 6 ahead; 4e19, 4e1a hit;
 *   4f12 (22) reads slots 16..23 = 4e27..4e2c, 4f12, 4f13: 7 ahead;
 *   4e1b..4e1e hit; 4e1f (8) reads 4e1f..4e26: 7 ahead; the rest hit but
 *   4f14 (24: block [24,25), nothing ahead).
 *   4 majors, 20 hits, 20 ahead (all used), 24 read, 4 requests.
 * cluster:16 ([1,16) [16,25)): 4e18 reads 4e18..4e26 (14 ahead), 4f12
 *   reads slots 16..24 (8 ahead); everything else hits.
 *   2 majors, 22 hits, 22 ahead, 24 read, 2 requests.
 * auto (N 8, region [4e18, 4f15)):
 *   4e18 first fault: the page only; 4e19 one step: the page only;
 *   4e1a the step again: w 8 up, reads 4e1a..4e21 (7 ahead);
 *   4f12 a jump, no hit: w = max(1, 8/2) = 4 up, [4f12, 4f15): 2 ahead;
 *   4e1b..4e21 hit (h 7, stride 1);
 *   4e22: t = roundup(8 + 1) = 16, placed below (4e22 < the last major
 *     4f12): [4e18, 4e23), all in already: nothing ahead;
 *   4e23: no hit, step 1 twice: w 8 up, 4e24..4e2a (7 ahead);
 *   4f13, 4e24..4e2a hit (h 8); 4e2b: t = roundup(9 + 1) = 16 up: 4e2c
 *   (1 ahead); 4f14, 4e2c hit.
 *   7 majors, 17 hits, 17 ahead, 24 read, 7 requests (each window's slots
 *   are contiguous).
 */
static void test_recorded_excerpt(void **state)
{
    (void)state;
    struct rr_trace t;
    load(&t, recorded);
    assert_int_equal(t.n, 24);
    assert_int_equal(t.capacity, 0);
    assert_int_equal(rr_calibrate(&t), RR_MIN_CAPACITY); /* 24 distinct pages */
    expect(&t, RG_OFF, 64, (struct want){ 24, 0, 0, 24, 24, 0 });
    expect(&t, RG_CLUSTER8, 64, (struct want){ 4, 20, 20, 24, 4, 0 });
    expect(&t, RG_CLUSTER16, 64, (struct want){ 2, 22, 22, 24, 2, 0 });
    expect(&t, RG_AUTO, 64, (struct want){ 7, 17, 17, 24, 7, 0 });
    expect_ratio(&t, RG_OFF, 64, 0.0, 0.0);
    expect_ratio(&t, RG_CLUSTER8, 64, 20.0 / 20.0, 20.0 / 24.0);
    expect_ratio(&t, RG_CLUSTER16, 64, 22.0 / 22.0, 22.0 / 24.0);
    expect_ratio(&t, RG_AUTO, 64, 17.0 / 17.0, 17.0 / 24.0);
    rr_trace_free(&t);
}

/*
 * The tiny trace: pages 100..10f swapped out in slots 1..16, 4 resident.
 * off: 4 majors, nothing ahead, no eviction (4 pages).
 * auto (N 8, region [100, 110)): 100 first fault, the page only; 108 one
 *   short step (8), the page only; 101 a second short step (7): a walk,
 *   t = max(roundup(7 + 1), 8) = 8 placed below (101 < the last major 108):
 *   [100, 102), 100 already in: nothing ahead; 109 steps 8 after 7, still
 *   no hit: t = max(roundup(8 + 1), 8) = 16 upwards, [109, 110) clipped to
 *   the region: 10a..10f (6 ahead, slots 11..16 with 109's 10: 1 request).
 *   Bringing them in evicts 100, 108, 101 (used) and then 10a, 10b, 10c of
 *   its own (dropped unused).
 *   4 majors, 0 hits, 6 ahead, 10 read, 4 requests, 3 dropped.
 * cluster:8 thrashes (the LRU evicts its tail; an evicted page takes the
 * next slot up, 17, 18, ...):
 *   100 (slot 1) reads 101..106 (6 ahead): 104, 105 and 100 push 101, 102,
 *     103 out unused (3 dropped; slots 17, 18, 19);
 *   108 (slot 9) reads slots 8..15 = 107, 109..10e (7 ahead), evicting 104,
 *     105, 106 (dropped), 100 (used; slot 23), 107, 109, 10a, 10b (dropped):
 *     7 dropped;
 *   101 (slot 17) reads slots 16..23 = 10f, 102..106, 100 (7 ahead),
 *     evicting 10c, 10d, 10e (dropped), 108 (used), 10f, 102, 103, 104
 *     (dropped): 7 dropped;
 *   109 (slot 25) reads slots 24..31 = 107, 10a..10e, 108 (7 ahead),
 *     evicting 105, 106, 100 (dropped), 101 (used), 107, 10a, 10b, 10c
 *     (dropped): 7 dropped.
 * 4 majors, 0 hits, 27 ahead, 31 read, 4 requests, 24 dropped.
 */
static void test_tiny_thrash(void **state)
{
    (void)state;
    struct rr_trace t;
    load(&t, tiny);
    assert_int_equal(t.capacity, 4);
    assert_int_equal(t.swapped_lo, 0x100);
    assert_int_equal(t.swapped_hi, 0x110);
    expect(&t, RG_OFF, 0, (struct want){ 4, 0, 0, 4, 4, 0 });
    expect(&t, RG_AUTO, 0, (struct want){ 4, 0, 6, 10, 4, 3 });
    expect(&t, RG_CLUSTER8, 0, (struct want){ 4, 0, 27, 31, 4, 24 });
    expect_ratio(&t, RG_CLUSTER8, 0, 0.0, 0.0);
    rr_trace_free(&t);
}

/* Bad trace text: a message naming the line. */
static void expect_bad(const char *text, const char *msg)
{
    struct rr_trace t;
    char err[160] = "";
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    rr_trace_init(&t, "bad");
    assert_int_equal(rr_trace_parse(&t, f, err, sizeof(err)), -1);
    fclose(f);
    if (!strstr(err, msg))
        fail_msg("'%s' gave '%s', want '%s'", text, err, msg);
    rr_trace_free(&t);
}

static void test_bad_traces(void **state)
{
    (void)state;
    expect_bad("10\nzz\n", "line 2: expected a hex page number");
    expect_bad("10 x\n", "line 1: expected a hex page number");
    expect_bad("10+\n", "line 1: expected a hex page number");
    expect_bad("10+2000000\n", "line 1: expected a hex page number");
    expect_bad("capacity 0\n10\n", "line 1: capacity");
    expect_bad("swapped 20 10\n10\n", "line 1: swapped");
    expect_bad("# nothing\n\n", "no trace entries");
}

/* Issue 14's goal holds on every synthetic trace. */
static void test_goal_on_synthetic(void **state)
{
    (void)state;
    assert_true(rs_ntraces <= RS_MAX_TRACES);
    for (size_t i = 0; i < rs_ntraces; i++) {
        struct rr_trace t;
        struct rr_result res[RG_NPOLICIES];
        char why[160];
        rr_trace_init(&t, rs_traces[i].name);
        assert_int_equal(rs_make(&t, rs_traces[i].kind, rs_traces[i].stride), 0);
        assert_true(t.n > 0);
        for (int p = 0; p < RG_NPOLICIES; p++)
            assert_int_equal(rr_replay(&t, &rg_policies[p], 0, &res[p]), 0);
        if (!rg_goal_met(&rs_traces[i], res, why, sizeof(why)))
            fail_msg("%s: goal missed: %s", rs_traces[i].name, why);
        rr_trace_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_excerpt),
        cmocka_unit_test(test_tiny_thrash),
        cmocka_unit_test(test_bad_traces),
        cmocka_unit_test(test_goal_on_synthetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

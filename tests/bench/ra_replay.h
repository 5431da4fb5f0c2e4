/*
 * Readahead replay: a swap-in trace played against swap/readahead.c's
 * policies (the real ra_plan / ra_note_*, linked in, not a copy) over a
 * small model of guest memory. Host only (tests/bench/replay_ra.c,
 * tests/unit/test_ra_replay.c).
 *
 * A trace is the sequence of gpa page numbers the guest touched while they
 * were swapped out (recorded with readahead off, so each is a fault of its
 * own: scripts/ra-record.py), or a synthetic one (ra_synth.c).
 *
 * What is modelled:
 *  - The swapped-out set at the start: every page of the trace, plus every
 *    page of the trace's `swapped` range (synthetic traces: the whole
 *    footprint, as after a guest wrote its area and reclaim pushed it out).
 *    Pages outside both never take part: a window reaching them reads
 *    nothing there (auto reads only gpas holding swap entries).
 *  - Swap slots: the initial set holds slots 1, 2, ... in ascending gpa
 *    order (reclaim wrote the area out in the order it was filled); a page
 *    evicted later gets the next slot above all slots handed out so far
 *    (swap_area.c allocates upwards from its cursor); a page swapped in
 *    frees its slot. cluster:N windows are slots [1, highest slot + 1).
 *  - Resident set: at most `capacity` pages, LRU; a trace entry touches
 *    its page. A page brought in by readahead is resident but unused until
 *    the trace touches it (a readahead hit: ra_note_hit) or the LRU evicts
 *    it first (ra_note_miss). Evicted pages are swapped out again.
 *  - A trace entry whose page is swapped out is a major fault: ra_plan gives
 *    the window (key: the slot for off/cluster, the gpa page for auto;
 *    auto's region is [lowest, highest + 1) of the swapped-out set), the
 *    faulting page and the window's swapped-out pages are read; runs of
 *    consecutive slots are one device request each (ra_note_io).
 *  - An entry whose page is resident and already used is a resident hit:
 *    neither a fault nor a swap-in (a larger resident set than the recorded
 *    run had; capacity calibration keeps these rare).
 * Not modelled: time, I/O cost, the swap cache's minor faults (readahead
 * pages are mapped at once, as swap/ra_map.c does), reclaim's aging.
 *
 * Figures (per trace and policy): majors, readahead hits, pages read
 * (majors + readahead pages), readahead pages, requests; accuracy =
 * hits / readahead pages, coverage = hits / (hits + majors) (the
 * experiment contract's ra_accuracy / ra_coverage).
 */
#ifndef PV_TESTS_RA_REPLAY_H
#define PV_TESTS_RA_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "swap/readahead.h"

struct rr_trace {
    char name[48];
    uint64_t *pages;          /* gpa page numbers, trace order (malloc'd) */
    size_t n, cap;
    uint32_t capacity;        /* resident pages; 0: rr_calibrate decides */
    uint64_t swapped_lo, swapped_hi; /* extra swapped-out range [lo, hi), or 0, 0 */
};

struct rr_result {
    uint64_t accesses;        /* trace entries */
    uint64_t majors;          /* entries that found their page swapped out */
    uint64_t ra_hits;         /* entries served by a readahead page */
    uint64_t resident;        /* entries that found their page resident, used */
    uint64_t ra_pages;        /* pages read ahead (faulting pages excluded) */
    uint64_t pages_read;      /* majors + ra_pages */
    uint64_t requests;        /* device requests */
    uint64_t ra_dropped;      /* readahead pages evicted unused */
    uint32_t capacity;        /* the resident set used */
    struct ra_stats st;       /* readahead.c's own counters, for cross-checks */
};

/* A policy to replay: readahead.c's policy and N ("cluster:8" = RA_CLUSTER, 8). */
struct rr_policy {
    const char *name;
    enum ra_policy policy;
    uint32_t pages;
};

void rr_trace_init(struct rr_trace *t, const char *name);
void rr_trace_free(struct rr_trace *t);
/* Append one page; -1 when out of memory. */
int rr_trace_add(struct rr_trace *t, uint64_t page);

/*
 * Read the text format (tests/traces/README.md): '#' comments, blank lines,
 * `capacity N`, `swapped LO HI` (hex pages, LO < HI), and per line one hex
 * gpa page number, or PAGE+N for PAGE and the N (decimal, at most
 * RR_MAX_RUN) pages after it in ascending order, optionally followed by
 * ` m` (minor swap-ins; replayed like the others). Returns 0, or -1 with a
 * message naming the line in err.
 */
#define RR_MAX_RUN 1000000u
int rr_trace_parse(struct rr_trace *t, FILE *f, char *err, size_t errlen);

/*
 * Replay t against policy p with `capacity` resident pages (0: t->capacity,
 * or when that is 0 too, rr_calibrate(t)). Returns 0, -1 when out of memory
 * or p is not a valid readahead.c setting.
 */
int rr_replay(const struct rr_trace *t, const struct rr_policy *p, uint32_t capacity,
              struct rr_result *out);

/*
 * The resident set a recorded trace implies: the largest capacity (at most
 * the number of distinct pages, at least RR_MIN_CAPACITY) with which replay
 * under `off` finds at least 99 % of the entries swapped out, as the
 * recording (made with readahead off) did.
 */
#define RR_MIN_CAPACITY (2u * RA_AUTO_MAX_PAGES)
uint32_t rr_calibrate(const struct rr_trace *t);

/* hits / pages and hits / (hits + majors), 0 when the denominator is 0. */
double rr_accuracy(const struct rr_result *r);
double rr_coverage(const struct rr_result *r);

#endif

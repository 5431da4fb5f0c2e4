/*
 * Swap-in readahead policy: a pure function of its own state and the fault
 * (no I/O, no tables), so every window can be tested exactly. The swap-in
 * path asks for a window, reads the slots in it that hold swapped-out data
 * and are not cached yet, and reports back what happened.
 *
 * Policies (selectable at any time with ra_set_policy):
 *
 *  off        read the faulting slot only.
 *
 *  cluster:N  Linux's swap_cluster_readahead: the N-slot aligned block of
 *             swap slots holding the faulting slot, [slot & ~(N-1), +N),
 *             clipped to the area. N is a power of two, 1..RA_MAX_PAGES;
 *             cluster:8 is the baseline. Works because slots are allocated
 *             in clusters: pages reclaimed together sit together on disk.
 *
 *  auto       an adaptive guest-physical window around the faulting gpa
 *             (in the spirit of Linux's swap_vma_readahead): the gpas in
 *             the window whose stage-2 entries are swap entries are read,
 *             wherever their slots are (contiguous slots still merge into
 *             one request). It follows the swap faults' gpa pages: majors
 *             (ra_plan) and readahead hits (ra_note_hit; a hit is a fault
 *             served by a page readahead brought in). State: the window w
 *             (pages, a power of two, 1 at the start), h = hits since the
 *             last major fault, k = page of the last swap fault of either
 *             kind, m = page of the last major fault, and the stride s:
 *             d = |page - k| at each swap fault, s = d when
 *             1 <= d <= RA_AUTO_STRIDE_MAX, else 0 (a jump: no stride).
 *             At a major fault at page p (d = |p - k|; s' = the stride
 *             before this fault, s updated from d first):
 *               t = 1                                the first fault
 *                   roundup_pow2((h + 1) * max(s, 1) + 1)   if h > 0
 *                   max(roundup_pow2(d + 1), N)      if h == 0 and
 *                                                    s != 0 and s' != 0
 *                   1                                otherwise
 *               w = clamp(max(t, w / 2), 1, RA_AUTO_MAX_PAGES)
 *             so nothing is read ahead until the faults show a walk: two
 *             steps in a row of at most RA_AUTO_STRIDE_MAX pages each
 *             (sequential: p, p+1, p+2; a guest's walks are often
 *             irregular, steps of 1 to 3) open a window of N (at least
 *             reaching the next step); the window doubles while a walk of
 *             stride s uses its pages (sequential: h = w - 1 gives
 *             t = 2w); and it halves at most once per fault when its pages
 *             go unused (a miss: no hit before the next major fault;
 *             readahead pages dropped unused are counted as misses).
 *             Random faults (two short steps in a row are rare) read the
 *             faulting page only, as off does. Placement follows the direction from m to p:
 *               p > m: [p, p + w)          (walking up)
 *               p < m: [p - w + 1, p + 1)  (walking down)
 *               first fault or p == m: [p & ~(w-1), +w) (aligned)
 *             clipped to the region holding p. The replay of
 *             tests/bench/replay_ra.c measures these rules against off and
 *             cluster:N on recorded and synthetic traces.
 *
 * The window always contains the faulting key. Counters: faults planned,
 * hits, misses, pages read ahead (the faulting page excluded), requests.
 */
#ifndef PV_SWAP_READAHEAD_H
#define PV_SWAP_READAHEAD_H

#include "vmm/lib/types.h"

/* Values match enum config_readahead (guest/config.h). */
enum ra_policy {
    RA_OFF = 0,
    RA_CLUSTER = 1,
    RA_AUTO = 2,
};

#define RA_DEFAULT_PAGES 8u
#define RA_MAX_PAGES 256u      /* CONFIG_READAHEAD_MAX_PAGES */
#define RA_AUTO_MAX_PAGES 64u  /* auto window cap: one request's worth */
#define RA_AUTO_STRIDE_MAX 8u  /* auto: longer jumps between faults are random */

struct ra_stats {
    uint64_t faults;          /* windows planned (major faults) */
    uint64_t hits;            /* faults served by readahead pages */
    uint64_t misses;          /* readahead pages dropped unused */
    uint64_t pages;           /* pages read ahead (faulting page excluded) */
    uint64_t requests;        /* device requests issued for swap-in */
};

struct ra_state {
    enum ra_policy policy;
    uint32_t pages;           /* N: cluster size / auto's window when a walk shows */
    uint32_t win;             /* auto: current window w */
    uint64_t last;            /* auto: m, page of the previous major fault */
    uint64_t last_key;        /* auto: k, page of the previous swap fault */
    uint64_t stride;          /* auto: s (0: none) */
    bool have_last;
    uint64_t hits_since;      /* auto: h */
    struct ra_stats st;
};

/* A window [start, end) of slots (by_gpa false) or of gpa page numbers. */
struct ra_window {
    uint64_t start, end;
    bool by_gpa;
};

/* ra_set_policy + cleared counters. */
int ra_init(struct ra_state *ra, enum ra_policy policy, uint32_t pages);

/*
 * Switch policy (counters kept, auto's history reset). pages: the cluster
 * size / auto's N (the window a walk opens); a power of two in 1..RA_MAX_PAGES, or 0
 * for RA_DEFAULT_PAGES; ignored for off. -PV_EINVAL otherwise.
 */
int ra_set_policy(struct ra_state *ra, enum ra_policy policy, uint32_t pages);

/* True when the policy's windows are gpa pages (auto), false for slots. */
bool ra_by_gpa(const struct ra_state *ra);

/*
 * The window for a major fault. key: the faulting slot (off, cluster) or
 * gpa page number (auto); [lo, hi): the keys that exist (slots 1..last_page,
 * or the pages of the region). Requires lo <= key < hi. Counts the fault.
 */
struct ra_window ra_plan(struct ra_state *ra, uint64_t key, uint64_t lo, uint64_t hi);

/* What happened: a fault at gpa page served by a readahead page; a
 * readahead page dropped unused; pages read ahead and device requests for
 * one swap-in. */
void ra_note_hit(struct ra_state *ra, uint64_t page);
void ra_note_miss(struct ra_state *ra);
void ra_note_io(struct ra_state *ra, uint64_t pages_ahead, uint64_t requests);

/* "off", "cluster:8", "auto (start 8, window now 16)" into buf. */
void ra_describe(const struct ra_state *ra, char *buf, size_t len);

#endif

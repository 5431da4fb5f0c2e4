/*
 * Shared state of the sim_mm simulation (see sim_mm.c for what it does):
 * sim_mm.c runs the simulated CPU and the access patterns, sim_maint.c the
 * background work between accesses (merging, discarding, aging, stale-TLB
 * faults, whole-guest checks).
 */
#ifndef PV_TESTS_SIM_MM_H
#define PV_TESTS_SIM_MM_H

#include <stdbool.h>
#include <stdint.h>

#include "ept/mm.h"
#include "tests/sim/sim_layout.h"

#define DEFAULT_SEED 0x5eed0001ull
#define DEFAULT_ACCESSES 2500000ull
#define ARENA_BYTES (128ull << 20)
#define ARENA_GARBAGE 0xcc
#define MAX_REGIONS 16
#define TRACE_EVENTS 256
#define MAX_FAULTS_PER_ACCESS 3

#define TLB_ENTRIES 64u
#define MERGE_EVERY 20000u
#define AGE_EVERY 7000u
#define AGE_PAGES 16u
#define STALE_EVERY 10000u
#define DISCARD_EVERY 50000u
#define HUGE_TOGGLE_EVERY 300000u
#define CHECK_EVERY 500000u
#define MERGE_WINDOW 2048u
#define MERGED_RECENT 64u
#define MAX_EDGES 64u
#define MERGE_SLOTS 1024u
#define HOT_PAGES 32u
#define FILL_VALUES 4u

enum hw { HW_MEM, HW_MMIO, HW_OPEN_BUS, HW_DENIED };

struct tlb_entry {
    gpa_t page;
    hpa_t hpa;
    uint32_t rights;
    bool valid;
};

struct sim {
    const struct s2pt_format *fmt;
    struct tlb_entry tlb[TLB_ENTRIES];
    uint64_t tlb_hits, tlb_flushes;
    uint64_t seed, rng, n;
    void *arena;
    struct frame_pool fp;
    size_t free0;
    struct guest_mm mm;
    struct region regions[MAX_REGIONS];
    struct fault_event trace[TRACE_EVENTS];
    struct sim_region lay[MAX_REGIONS];
    size_t nlay;
    struct sim_region outside; /* beyond the layout: open bus */
    struct sim_dev dev;
    uint64_t accesses, reads, writes, execs, splits, faults;
    uint64_t hw[4], merges, merge_differ, merge_refused, merge_nomem;
    uint64_t discards, checks, aged, stale;
    gpa_t edges[MAX_EDGES];      /* first/last pages, image ends */
    unsigned nedges;
    gpa_t merged[MERGED_RECENT]; /* pages merged lately: guests write them */
    unsigned nmerged;
};

/* xorshift64*: the only source of randomness, so a seed replays a run. */
static inline uint64_t rnd(struct sim *s)
{
    /* xorshift64* */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 0x2545f4914f6cdd1dull;
}

static inline uint64_t below(struct sim *s, uint64_t n) { return rnd(s) % n; }

/* Report the first failure with seed, format and access number; exit 1. */
__attribute__((noreturn, format(printf, 3, 4))) void
sim_fail(struct sim *s, gpa_t gpa, const char *fmt, ...);

/* A region by weight (mem_only: anon and file-private only), a random page
 * of it. */
struct sim_region *sim_pick_region(struct sim *s, bool mem_only);
gpa_t sim_random_page(struct sim *s, const struct sim_region *r);

/* Between accesses: whatever background work is due at access s->n. */
void sim_background(struct sim *s);
/* Whole guest against the reference plus every structure's own check. */
void sim_full_check(struct sim *s);

#endif

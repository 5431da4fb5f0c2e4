/*
 * Shared state of the sim_swap simulation (see sim_swap.c for the runs):
 * sim_swap_cpu.c is the guest (a CPU with a TLB that sets stage-2 accessed
 * bits, access traces, a byte-exact reference model) and the injected
 * device failures; sim_swap.c sets runs up and reports.
 *
 * Guest layout (3840 pages):
 *   [0, 1M)        ram-low   anon
 *   [1M, 3M)       kernel    file-private, 1.5 MiB + 777 bytes of image
 *   [3M, 4M)       (hole)
 *   [4M, 16M)      ram       anon
 */
#ifndef PV_TESTS_SIM_SWAP_H
#define PV_TESTS_SIM_SWAP_H

#include <stdbool.h>
#include <stdint.h>

#include "ept/mm.h"
#include "tests/unit/blk_file.h"
#include "swap/swap.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define RAM_LOW_END (1 * MiB)
#define KERNEL_START (1 * MiB)
#define KERNEL_END (3 * MiB)
#define IMAGE_BYTES (3 * MiB / 2 + 777)
#define RAM_START (4 * MiB)
#define RAM_END (16 * MiB)
#define GUEST_END RAM_END
#define GUEST_PAGES ((RAM_LOW_END + (KERNEL_END - KERNEL_START) + (RAM_END - RAM_START)) / PAGE_SIZE)

#define SIM_REGIONS 8
#define SIM_TRACE 64
#define TLB_ENTRIES 64u
#define TABLE_SLACK 24u        /* frames beyond the ratio: stage-2 tables, zero frame */
#define DISK_SLACK 256u        /* swap pages beyond the guest's */
#define MAX_TRIES 12           /* faults one access may take (injected errors retry) */
#define HOT_DIVISOR 20u        /* hot set: 1/20 of the guest */
#define TICK_EVERY 64u         /* accesses between reclaim_tick calls */
#define MAX_CORRUPT 64u
#define SIM_FAULT_AROUND 16u   /* fault-around block in the failure runs */

enum trace { T_RANDOM, T_SEQ, T_STRIDE, T_HOTCOLD, T_MIXED, T_COUNT };

struct tlb_entry {
    gpa_t page;
    hpa_t hpa;
    uint32_t rights;
    bool valid;
    bool dirty; /* the leaf's dirty bit was set when this entry was filled */
};

struct corruption {
    uint64_t slot, offset; /* device byte offset */
    uint8_t mask;
};

/* One run's settings. */
struct sim_cfg {
    const struct s2pt_format *fmt;
    bool use_ad;
    unsigned ratio;            /* frames, % of guest memory */
    enum ra_policy policy;
    uint32_t ra_pages;
    enum trace trace;
    uint64_t accesses;
    bool faults;               /* inject device failures, merge, discard, switch policy */
    bool async;                /* the disk takes writes asynchronously (writeback.c):
                                * completions delayed and reordered at random */
};

struct ssim {
    struct sim_cfg cfg;
    uint64_t seed, rng, n;
    void *arena;
    struct frame_pool fp;
    size_t free0;
    struct guest_mm mm;
    struct region regions[SIM_REGIONS];
    struct fault_event trace[SIM_TRACE];
    struct swap sw;
    void *meta;
    uint8_t *disk;
    uint64_t disk_pages;
    struct blk_file blk;
    uint8_t *image;            /* staged kernel image (page aligned) */
    uint8_t *ref;              /* reference contents of [0, GUEST_END) */
    uint8_t *init;             /* contents before any write */
    struct tlb_entry tlb[TLB_ENTRIES];
    /* trace state */
    uint64_t cursor;
    uint64_t hot[GUEST_PAGES / HOT_DIVISOR];
    /* injection */
    struct corruption corrupt[MAX_CORRUPT];
    unsigned ncorrupt;
    uint64_t inj_reads, inj_writes, corruptions;
    uint64_t det_eio, det_corrupt, repaired;
    /* counters */
    uint64_t reads, writes, fills, faults, discards, merges, checks, switches;
};

static inline uint64_t rnd(struct ssim *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 0x2545f4914f6cdd1dull;
}

static inline uint64_t below(struct ssim *s, uint64_t n) { return rnd(s) % n; }

/* Report the first failure (run, seed, access number) and exit 1. */
__attribute__((noreturn, format(printf, 3, 4))) void
ssim_fail(struct ssim *s, gpa_t gpa, const char *fmt, ...);

/* Guest page index (0..GUEST_PAGES-1) <-> gpa. */
gpa_t ssim_page_gpa(uint64_t idx);

/* Set up the guest's regions, reference and staged image. */
void ssim_guest_init(struct ssim *s);

/* The device failure injector (blk_file inject callback). */
bool ssim_inject(void *ctx, bool write, uint64_t sector, uint64_t nsectors);

/* One step of the run's trace (and background work when cfg.faults). */
void ssim_step(struct ssim *s);

/* Every page against the reference, swap and mm consistency. */
void ssim_full_check(struct ssim *s);

#endif

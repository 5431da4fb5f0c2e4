/*
 * bench_ept: what the fault path costs over the memory work it cannot avoid,
 * and how region lookup scales. Figures are ratios to baselines measured in
 * the same run (same machine, same moment). Nothing here asserts a timing.
 *
 *  demand-zero   ns per anon write fault (anon-new, clear included)
 *                / ns per bare 4 KiB clear
 *  fault-around  the same per page with fault-around (AROUND_PAGES): one
 *                fault per block maps the whole block, as under overcommit;
 *                not part of the goal (a different quantity: per page,
 *                not per fault)
 *  cow-copy      ns per write fault on a file-private page mapped from the
 *                staged image (copy included) / ns per bare 4 KiB copy; and
 *                the same for anon pages that share a frame after merging
 *                (do_wp_page proper)
 *  region lookup lookups per second with 10, 1,000 and 100,000 regions
 *                (random addresses), and the slowdown per 100x more regions
 *
 * Fairness: a baseline does exactly the memory work the faults did, on the
 * same frames in the same order: after each fault run the bench records
 * which frame each fault installed (and, for cow, which frame it copied
 * from), and the baseline clears / copies exactly those. Before every timed
 * loop, fault run or baseline, the caches are flushed by writing a buffer
 * larger than the last-level cache, so neither side inherits the other's
 * lines. Each ratio is the median of REPEATS per-repeat ratios (a fault run
 * and its baseline run back to back share whatever else the machine does);
 * the ns figures are medians too.
 *
 * Goal: every fault ratio at or below GOAL_RATIO.
 *
 * Usage: bench_ept [pages [mode]]  (default DEFAULT_PAGES distinct pages per
 * run). mode "faults" skips the region lookups; "zero", "cow" or "shared"
 * run only that fault scenario, untimed, for profiling: e.g.
 *   valgrind --tool=callgrind --toggle-collect=fault_loop bench_ept 2048 zero
 * gives instructions per fault as Ir / (REPEATS * pages).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ept/mm.h"

#define DEFAULT_PAGES 8192u
#define REPEATS 11
#define GOAL_RATIO 1.2
#define LOOKUPS 500000u
#define MAX_LOOKUP_REGIONS 100000u
#define GARBAGE 0xcc
#define TRACE_EVENTS 1024 /* tracing on, as in the hypervisor */
#define FLUSH_BYTES (64u << 20) /* twice the largest LLC we expect */
#define AROUND_PAGES ((unsigned)MM_FAULT_AROUND_PAGES) /* the hypervisor's block */

static volatile uint64_t sink;
static uint8_t *flush_buf;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *in, int n)
{
    double v[REPEATS];
    memcpy(v, in, sizeof(double) * (size_t)n);
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

static void *xalloc(size_t align, size_t size)
{
    void *p = aligned_alloc(align, ALIGN_UP(size, align));
    if (!p) {
        fprintf(stderr, "bench_ept: out of memory\n");
        exit(2);
    }
    memset(p, GARBAGE, ALIGN_UP(size, align)); /* fault every page in now */
    return p;
}

/* Push everything the previous loop left out of the caches. */
static void flush_caches(void)
{
    static uint8_t gen;
    gen++;
    for (size_t i = 0; i < FLUSH_BYTES; i += CACHE_LINE_BYTES)
        flush_buf[i] = gen;
    sink += flush_buf[FLUSH_BYTES / 2];
}

/* ---- a guest on a fresh pool ---------------------------------------------- */

struct bench_mm {
    void *arena;
    size_t arena_bytes;
    struct frame_pool fp;
    struct guest_mm mm;
    struct region regions[8];
    struct fault_event trace[TRACE_EVENTS];
    hpa_t *dst, *src;    /* per fault: frame installed / frame copied from */
};

static void bmm_init(struct bench_mm *b)
{
    if (frame_pool_init(&b->fp, va_hpa(b->arena), b->arena_bytes) != 0 ||
        mm_init(&b->mm, &b->fp, &s2pt_format_ept, true, b->regions, 8,
                b->trace, TRACE_EVENTS, NULL, NULL) != 0) {
        fprintf(stderr, "bench_ept: pool / mm set-up failed\n");
        exit(2);
    }
    b->mm.huge_anon = false; /* measure 4 KiB faults */
}

static void fault_or_die(struct guest_mm *mm, gpa_t gpa, uint32_t acc,
                         enum fault_res want)
{
    struct gpa_fault f = { .gpa = gpa, .access = acc };
    struct fault_outcome o;
    mm_handle_fault(mm, &f, &o);
    if (o.res != want) {
        fprintf(stderr, "bench_ept: fault at 0x%llx resolved as %s, want %s\n",
                (unsigned long long)gpa, fault_res_name(o.res),
                fault_res_name(want));
        exit(2);
    }
}

/* The timed part: write faults at base, base + stride, ... (noinline so a
 * profiler can collect exactly this). Returns ns per fault. */
__attribute__((noinline)) static double fault_loop(struct guest_mm *mm,
                                                   unsigned n, gpa_t stride)
{
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < n; i++) {
        struct gpa_fault f = { .gpa = (gpa_t)i * stride, .access = ACC_W };
        struct fault_outcome o;
        mm_handle_fault(mm, &f, &o);
    }
    return (double)(now_ns() - t0) / n;
}

/* Frames mapped at 0, stride, 2 * stride, ... into out[]. */
static void record_frames(const struct guest_mm *mm, unsigned n, gpa_t stride,
                          hpa_t *out)
{
    for (unsigned i = 0; i < n; i++) {
        struct s2_info e;
        s2pt_lookup(&mm->s2, (gpa_t)i * stride, &e);
        if (e.state != S2_PRESENT) {
            fprintf(stderr, "bench_ept: page %u not mapped\n", i);
            exit(2);
        }
        out[i] = e.hpa;
    }
}

static void expect_count(const struct guest_mm *mm, enum fault_res res,
                         unsigned n)
{
    if (mm->stats.count[res] != n) {
        fprintf(stderr, "bench_ept: expected %u %s faults, got %llu\n", n,
                fault_res_name(res), (unsigned long long)mm->stats.count[res]);
        exit(2);
    }
}

/* ---- baselines: the same memory work, same frames, same order --------------- */

static double bare_clear(const hpa_t *dst, unsigned n)
{
    flush_caches();
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < n; i++)
        memset(hpa_va(dst[i]), 0, PAGE_SIZE);
    uint64_t dt = now_ns() - t0;
    sink += *(const uint8_t *)hpa_va(dst[n - 1]);
    return (double)dt / n;
}

static double bare_copy(const hpa_t *dst, const hpa_t *src, unsigned n)
{
    flush_caches();
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < n; i++)
        memcpy(hpa_va(dst[i]), hpa_va(src[i]), PAGE_SIZE);
    uint64_t dt = now_ns() - t0;
    sink += *(const uint8_t *)hpa_va(dst[n - 1]);
    return (double)dt / n;
}

/* ---- scenarios --------------------------------------------------------------- */

struct sample {
    double fault, bare;
};

/* Demand-zero: anon write faults on untouched pages. */
static struct sample run_zero(struct bench_mm *b, unsigned pages, bool timed)
{
    struct sample s = {0, 0};
    bmm_init(b);
    mm_add_anon(&b->mm, 0, (gpa_t)pages * PAGE_SIZE, "ram");
    if (timed)
        flush_caches();
    s.fault = fault_loop(&b->mm, pages, PAGE_SIZE);
    expect_count(&b->mm, RES_ANON_NEW, pages);
    if (timed) {
        record_frames(&b->mm, pages, PAGE_SIZE, b->dst);
        s.bare = bare_clear(b->dst, pages);
    }
    mm_destroy(&b->mm);
    return s;
}

/* Demand-zero with fault-around: one write fault per AROUND_PAGES block
 * (the guest's first touch of the block), the rest mapped by it. Returns
 * ns per page, against a bare clear of every page. */
static struct sample run_zero_around(struct bench_mm *b, unsigned pages, bool timed)
{
    struct sample s = {0, 0};
    unsigned blocks = pages / AROUND_PAGES;
    bmm_init(b);
    b->mm.fault_around = AROUND_PAGES;
    mm_add_anon(&b->mm, 0, (gpa_t)blocks * AROUND_PAGES * PAGE_SIZE, "ram");
    if (timed)
        flush_caches();
    s.fault = fault_loop(&b->mm, blocks, (gpa_t)AROUND_PAGES * PAGE_SIZE) / AROUND_PAGES;
    expect_count(&b->mm, RES_ANON_NEW, blocks);
    if (b->mm.stats.around != (uint64_t)blocks * (AROUND_PAGES - 1)) {
        fprintf(stderr, "bench_ept: fault-around mapped %llu pages, want %u\n",
                (unsigned long long)b->mm.stats.around, blocks * (AROUND_PAGES - 1));
        exit(2);
    }
    if (timed) {
        record_frames(&b->mm, blocks * AROUND_PAGES, PAGE_SIZE, b->dst);
        s.bare = bare_clear(b->dst, blocks * AROUND_PAGES);
    }
    mm_destroy(&b->mm);
    return s;
}

/* File-private pages mapped from the staged image (untimed), then written. */
static struct sample run_cow_image(struct bench_mm *b, const uint8_t *img,
                                   unsigned pages, bool timed)
{
    struct sample s = {0, 0};
    bmm_init(b);
    mm_add_image(&b->mm, 0, (gpa_t)pages * PAGE_SIZE, va_hpa(img), 0,
                 (uint64_t)pages * PAGE_SIZE, "image");
    for (unsigned i = 0; i < pages; i++)
        fault_or_die(&b->mm, (gpa_t)i * PAGE_SIZE, ACC_R, RES_FILE_MAP);
    if (timed) {
        record_frames(&b->mm, pages, PAGE_SIZE, b->src);
        flush_caches();
    }
    s.fault = fault_loop(&b->mm, pages, PAGE_SIZE);
    expect_count(&b->mm, RES_COW_COPY, pages);
    if (timed) {
        record_frames(&b->mm, pages, PAGE_SIZE, b->dst);
        s.bare = bare_copy(b->dst, b->src, pages);
    }
    mm_destroy(&b->mm);
    return s;
}

/* Pairs of identical anon pages merged onto one frame (untimed); then one
 * page of each pair is written: a copy out of a frame with two users. */
static struct sample run_cow_shared(struct bench_mm *b, unsigned pages,
                                    bool timed)
{
    struct sample s = {0, 0};
    gpa_t stride = 2 * PAGE_SIZE;
    bmm_init(b);
    mm_add_anon(&b->mm, 0, (gpa_t)pages * stride, "ram");
    for (unsigned i = 0; i < pages; i++) {
        gpa_t a = (gpa_t)i * stride;
        fault_or_die(&b->mm, a, ACC_W, RES_ANON_NEW);
        fault_or_die(&b->mm, a + PAGE_SIZE, ACC_W, RES_ANON_NEW);
        if (mm_merge_pages(&b->mm, a, a + PAGE_SIZE) != 0) {
            fprintf(stderr, "bench_ept: merge failed\n");
            exit(2);
        }
    }
    if (timed) {
        record_frames(&b->mm, pages, stride, b->src);
        flush_caches();
    }
    s.fault = fault_loop(&b->mm, pages, stride);
    expect_count(&b->mm, RES_COW_COPY, pages);
    if (timed) {
        record_frames(&b->mm, pages, stride, b->dst);
        s.bare = bare_copy(b->dst, b->src, pages);
    }
    mm_destroy(&b->mm);
    return s;
}

/* ---- region lookup ----------------------------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Lookups per second over n regions of 4 pages with 4-page gaps (gaps keep
 * anon neighbours from merging), at random addresses across them. */
static double bench_lookup(struct region *pool, unsigned n, gpa_t *addrs)
{
    static const struct region_backing none;
    struct region_set set;
    region_set_init(&set, pool, MAX_LOOKUP_REGIONS);
    uint64_t span = 8 * PAGE_SIZE;
    for (unsigned i = 0; i < n; i++)
        if (region_insert(&set, (gpa_t)i * span, (gpa_t)i * span + span / 2,
                          ACC_RWX, REGION_ANON, &none, "r", NULL) != 0) {
            fprintf(stderr, "bench_ept: region_insert %u failed\n", i);
            exit(2);
        }
    uint64_t rng = 0x9e3779b97f4a7c15ull ^ n;
    for (unsigned i = 0; i < LOOKUPS; i++)
        addrs[i] = xorshift(&rng) % ((uint64_t)n * span);
    double v[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        uint64_t hits = 0, t0 = now_ns();
        for (unsigned i = 0; i < LOOKUPS; i++)
            hits += region_lookup(&set, addrs[i]) != NULL;
        uint64_t dt = now_ns() - t0;
        sink += hits;
        v[r] = (double)LOOKUPS * 1e9 / (double)dt;
    }
    return median(v, REPEATS);
}

static void run_lookups(void)
{
    static struct region pool[MAX_LOOKUP_REGIONS];
    gpa_t *addrs = malloc(sizeof(gpa_t) * LOOKUPS);
    if (!addrs)
        exit(2);
    const unsigned sizes[] = { 10, 1000, 100000 };
    double lps[3];
    for (int i = 0; i < 3; i++) {
        lps[i] = bench_lookup(pool, sizes[i], addrs);
        printf("region lookup %6u regions: %12.0f lookups/s  (%6.1f ns each)",
               sizes[i], lps[i], 1e9 / lps[i]);
        if (i > 0)
            printf("   x%.2f time per 100x regions", lps[i - 1] / lps[i]);
        printf("\n");
    }
    free(addrs);
}

/* ---- main -------------------------------------------------------------------- */

enum scenario { SC_ZERO, SC_COW_IMAGE, SC_COW_SHARED, SC_ZERO_AROUND, SC_COUNT };
#define SC_GOAL_COUNT SC_ZERO_AROUND /* scenarios the goal is about */

static const char *const scenario_names[SC_COUNT] = {
    [SC_ZERO] = "demand-zero fault ",
    [SC_COW_IMAGE] = "cow-copy (image)  ",
    [SC_COW_SHARED] = "cow-copy (shared) ",
    [SC_ZERO_AROUND] = "zero, around/page ",
};
static const char *const baseline_names[SC_COUNT] = {
    [SC_ZERO] = "bare 4 KiB clear",
    [SC_COW_IMAGE] = "bare 4 KiB copy ",
    [SC_COW_SHARED] = "bare 4 KiB copy ",
    [SC_ZERO_AROUND] = "bare 4 KiB clear",
};
static const char *const profile_modes[SC_COUNT] = {
    [SC_ZERO] = "zero", [SC_COW_IMAGE] = "cow", [SC_COW_SHARED] = "shared",
    [SC_ZERO_AROUND] = "around",
};

static struct sample run(enum scenario sc, struct bench_mm *b,
                         const uint8_t *img, unsigned pages, bool timed)
{
    switch (sc) {
    case SC_ZERO:
        return run_zero(b, pages, timed);
    case SC_COW_IMAGE:
        return run_cow_image(b, img, pages, timed);
    case SC_ZERO_AROUND:
        return run_zero_around(b, pages, timed);
    default:
        return run_cow_shared(b, pages, timed);
    }
}

int main(int argc, char **argv)
{
    unsigned pages = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : DEFAULT_PAGES;
    if (pages == 0)
        pages = DEFAULT_PAGES;
    const char *mode = argc > 2 ? argv[2] : "";
    int profile = -1;
    for (int s = 0; s < SC_COUNT; s++)
        if (strcmp(mode, profile_modes[s]) == 0)
            profile = s;

    struct bench_mm b;
    memset(&b, 0, sizeof(b));
    /* cow-shared needs two frames and one rmap item per page; the pool has
     * an rmap item per 4 frames, so size it at 4 frames per page. */
    b.arena_bytes = ALIGN_UP((size_t)pages * 4 * PAGE_SIZE * 9 / 8 + (8u << 20),
                             HUGE_2M);
    b.arena = xalloc(HUGE_2M, b.arena_bytes);
    b.dst = xalloc(PAGE_SIZE, sizeof(hpa_t) * pages);
    b.src = xalloc(PAGE_SIZE, sizeof(hpa_t) * pages);
    uint8_t *img = xalloc(PAGE_SIZE, (size_t)pages * PAGE_SIZE);
    for (size_t i = 0; i < (size_t)pages * PAGE_SIZE; i++)
        img[i] = (uint8_t)(i * 31 + 7);

    if (profile >= 0) {
        for (int r = 0; r < REPEATS; r++)
            run((enum scenario)profile, &b, img, pages, false);
        printf("bench_ept: profiled %d x %u %s faults\n", REPEATS, pages,
               profile_modes[profile]);
        return 0;
    }

    flush_buf = xalloc(PAGE_SIZE, FLUSH_BYTES);
    printf("bench_ept: %u distinct 4 KiB pages per run (%u KiB), caches "
           "flushed before each timed loop, median of %d\n",
           pages, pages * 4, REPEATS);
    double fault[SC_COUNT][REPEATS], bare[SC_COUNT][REPEATS];
    double ratio[SC_COUNT][REPEATS];
    for (int r = 0; r < REPEATS; r++)
        for (int s = 0; s < SC_COUNT; s++) {
            struct sample x = run((enum scenario)s, &b, img, pages, true);
            fault[s][r] = x.fault;
            bare[s][r] = x.bare;
            ratio[s][r] = x.fault / x.bare;
        }
    bool met = true;
    double med[SC_COUNT];
    for (int s = 0; s < SC_COUNT; s++) {
        double f = median(fault[s], REPEATS), z = median(bare[s], REPEATS);
        med[s] = median(ratio[s], REPEATS);
        if (s < SC_GOAL_COUNT)
            met = met && med[s] <= GOAL_RATIO;
        printf("%s %8.1f ns   %s %8.1f ns   overhead %6.1f ns   ratio %.2f\n",
               scenario_names[s], f, baseline_names[s], z, f - z, med[s]);
    }

    if (strcmp(mode, "faults") != 0)
        run_lookups();

    printf("goal: fault / bare ratios <= %.1f: %s (demand-zero %.2f, cow-copy "
           "image %.2f, shared %.2f)\n",
           GOAL_RATIO, met ? "MET" : "NOT MET", med[SC_ZERO],
           med[SC_COW_IMAGE], med[SC_COW_SHARED]);
    free(flush_buf);
    free(img);
    free(b.dst);
    free(b.src);
    free(b.arena);
    return 0;
}

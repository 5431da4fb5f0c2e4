/*
 * bench_ept: what the fault path costs over the memory work it cannot avoid,
 * and how region lookup scales. Figures are ratios to baselines measured in
 * the same run (same machine, same moment); each figure is the median of
 * REPEATS runs. Nothing here asserts a timing.
 *
 *  demand-zero   ns per anon write fault (anon-new, clear included)
 *                / ns per bare 4 KiB clear of as many distinct frames
 *  cow-copy      ns per write fault on a file-private page mapped from the
 *                staged image (copy included) / ns per bare 4 KiB copy of
 *                as many distinct pages; and the same for anon pages that
 *                share a frame after merging (do_wp_page proper)
 *  region lookup lookups per second with 10, 1,000 and 100,000 regions
 *                (random addresses), and the slowdown per 100x more regions
 *
 * Goal: both fault ratios at or below GOAL_RATIO.
 *
 * Usage: bench_ept [pages [faults]]  (default DEFAULT_PAGES distinct pages
 * per run; "faults" skips the region lookups, for profiling the fault path)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ept/mm.h"

#define DEFAULT_PAGES 8192u
#define REPEATS 7
#define GOAL_RATIO 1.2
#define LOOKUPS 500000u
#define MAX_LOOKUP_REGIONS 100000u
#define GARBAGE 0xcc
#define TRACE_EVENTS 1024 /* tracing on, as in the hypervisor */

static volatile uint64_t sink;

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

static double median(double *v, int n)
{
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

/* ---- a guest on a fresh pool ---------------------------------------------- */

struct bench_mm {
    void *arena;
    size_t arena_bytes;
    struct frame_pool fp;
    struct guest_mm mm;
    struct region regions[8];
    struct fault_event trace[TRACE_EVENTS];
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

/* ---- demand-zero ------------------------------------------------------------ */

static double bench_zero_fault(struct bench_mm *b, unsigned pages)
{
    bmm_init(b);
    mm_add_anon(&b->mm, 0, (gpa_t)pages * PAGE_SIZE, "ram");
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < pages; i++) {
        struct gpa_fault f = { .gpa = (gpa_t)i * PAGE_SIZE, .access = ACC_W };
        struct fault_outcome o;
        mm_handle_fault(&b->mm, &f, &o);
    }
    uint64_t dt = now_ns() - t0;
    if (b->mm.stats.count[RES_ANON_NEW] != pages) {
        fprintf(stderr, "bench_ept: expected %u anon-new faults\n", pages);
        exit(2);
    }
    mm_destroy(&b->mm);
    return (double)dt / pages;
}

/* The frames the faults used: the pool hands them out in the same order
 * after a fresh init, so the baseline touches the same memory. */
static double bench_bare_clear(struct bench_mm *b, unsigned pages)
{
    uint8_t *first = hpa_va(b->fp.first);
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < pages; i++)
        memset(first + (size_t)i * PAGE_SIZE, 0, PAGE_SIZE);
    uint64_t dt = now_ns() - t0;
    sink += first[(size_t)(pages - 1) * PAGE_SIZE];
    return (double)dt / pages;
}

/* ---- copy-on-write ------------------------------------------------------------ */

/* File-private pages mapped from the staged image (untimed), then written. */
static double bench_cow_image(struct bench_mm *b, const uint8_t *img,
                              unsigned pages)
{
    bmm_init(b);
    mm_add_image(&b->mm, 0, (gpa_t)pages * PAGE_SIZE, va_hpa(img), 0,
                 (uint64_t)pages * PAGE_SIZE, "image");
    for (unsigned i = 0; i < pages; i++)
        fault_or_die(&b->mm, (gpa_t)i * PAGE_SIZE, ACC_R, RES_FILE_MAP);
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < pages; i++) {
        struct gpa_fault f = { .gpa = (gpa_t)i * PAGE_SIZE, .access = ACC_W };
        struct fault_outcome o;
        mm_handle_fault(&b->mm, &f, &o);
    }
    uint64_t dt = now_ns() - t0;
    if (b->mm.stats.count[RES_COW_COPY] != pages) {
        fprintf(stderr, "bench_ept: expected %u cow-copy faults\n", pages);
        exit(2);
    }
    mm_destroy(&b->mm);
    return (double)dt / pages;
}

/* Pairs of identical anon pages merged onto one frame (untimed); then one
 * page of each pair is written: a copy out of a frame with two users. */
static double bench_cow_shared(struct bench_mm *b, unsigned pages)
{
    bmm_init(b);
    mm_add_anon(&b->mm, 0, (gpa_t)pages * 2 * PAGE_SIZE, "ram");
    for (unsigned i = 0; i < pages; i++) {
        gpa_t a = (gpa_t)i * 2 * PAGE_SIZE;
        fault_or_die(&b->mm, a, ACC_W, RES_ANON_NEW);
        fault_or_die(&b->mm, a + PAGE_SIZE, ACC_W, RES_ANON_NEW);
        if (mm_merge_pages(&b->mm, a, a + PAGE_SIZE) != 0) {
            fprintf(stderr, "bench_ept: merge failed\n");
            exit(2);
        }
    }
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < pages; i++) {
        struct gpa_fault f = { .gpa = (gpa_t)i * 2 * PAGE_SIZE, .access = ACC_W };
        struct fault_outcome o;
        mm_handle_fault(&b->mm, &f, &o);
    }
    uint64_t dt = now_ns() - t0;
    if (b->mm.stats.count[RES_COW_COPY] != pages) {
        fprintf(stderr, "bench_ept: expected %u cow-copy faults\n", pages);
        exit(2);
    }
    mm_destroy(&b->mm);
    return (double)dt / pages;
}

static double bench_bare_copy(uint8_t *dst, const uint8_t *src, unsigned pages)
{
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < pages; i++)
        memcpy(dst + (size_t)i * PAGE_SIZE, src + (size_t)i * PAGE_SIZE, PAGE_SIZE);
    uint64_t dt = now_ns() - t0;
    sink += dst[(size_t)(pages - 1) * PAGE_SIZE];
    return (double)dt / pages;
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

int main(int argc, char **argv)
{
    unsigned pages = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : DEFAULT_PAGES;
    if (pages == 0)
        pages = DEFAULT_PAGES;
    struct bench_mm b;
    memset(&b, 0, sizeof(b));
    /* cow-shared needs two frames and one rmap item per page; the pool has
     * an rmap item per 4 frames, so size it at 4 frames per page. */
    b.arena_bytes = ALIGN_UP((size_t)pages * 4 * PAGE_SIZE * 9 / 8 + (8u << 20),
                             HUGE_2M);
    b.arena = xalloc(HUGE_2M, b.arena_bytes);
    uint8_t *img = xalloc(PAGE_SIZE, (size_t)pages * PAGE_SIZE);
    uint8_t *dst = xalloc(PAGE_SIZE, (size_t)pages * PAGE_SIZE);
    uint8_t *src2 = xalloc(PAGE_SIZE, (size_t)pages * PAGE_SIZE);
    for (size_t i = 0; i < (size_t)pages * PAGE_SIZE; i++)
        img[i] = (uint8_t)(i * 31 + 7);

    printf("bench_ept: %u distinct 4 KiB pages per run (%u KiB), median of %d\n",
           pages, pages * 4, REPEATS);

    double zf[REPEATS], zb[REPEATS], cf[REPEATS], cb[REPEATS], sf[REPEATS],
        sb[REPEATS];
    bmm_init(&b); /* so b.fp.first is known for the clear baseline */
    mm_destroy(&b.mm);
    for (int r = 0; r < REPEATS; r++) {
        zb[r] = bench_bare_clear(&b, pages);
        zf[r] = bench_zero_fault(&b, pages);
        cb[r] = bench_bare_copy(dst, img, pages);
        cf[r] = bench_cow_image(&b, img, pages);
        sb[r] = bench_bare_copy(dst, src2, pages);
        sf[r] = bench_cow_shared(&b, pages);
    }
    /* Each ratio is the median of per-repeat ratios: a fault run and its
     * baseline run back to back share whatever else the machine is doing. */
    double zr_v[REPEATS], cr_v[REPEATS], sr_v[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        zr_v[r] = zf[r] / zb[r];
        cr_v[r] = cf[r] / cb[r];
        sr_v[r] = sf[r] / sb[r];
    }
    double zr = median(zr_v, REPEATS), cr = median(cr_v, REPEATS);
    double sr = median(sr_v, REPEATS);
    double zero_fault = median(zf, REPEATS), zero_base = median(zb, REPEATS);
    double cow_fault = median(cf, REPEATS), cow_base = median(cb, REPEATS);
    double sh_fault = median(sf, REPEATS), sh_base = median(sb, REPEATS);

    printf("demand-zero fault   %8.1f ns   bare 4 KiB clear %8.1f ns   ratio %.2f\n",
           zero_fault, zero_base, zr);
    printf("cow-copy (image)    %8.1f ns   bare 4 KiB copy  %8.1f ns   ratio %.2f\n",
           cow_fault, cow_base, cr);
    printf("cow-copy (shared)   %8.1f ns   bare 4 KiB copy  %8.1f ns   ratio %.2f\n",
           sh_fault, sh_base, sr);

    bool lookups = !(argc > 2 && strcmp(argv[2], "faults") == 0);
    static struct region pool[MAX_LOOKUP_REGIONS];
    gpa_t *addrs = malloc(sizeof(gpa_t) * LOOKUPS);
    if (!addrs)
        return 2;
    const unsigned sizes[] = { 10, 1000, 100000 };
    double lps[3];
    for (int i = 0; lookups && i < 3; i++) {
        lps[i] = bench_lookup(pool, sizes[i], addrs);
        printf("region lookup %6u regions: %12.0f lookups/s  (%6.1f ns each)",
               sizes[i], lps[i], 1e9 / lps[i]);
        if (i > 0)
            printf("   x%.2f time per 100x regions", lps[i - 1] / lps[i]);
        printf("\n");
    }
    free(addrs);

    bool met = zr <= GOAL_RATIO && cr <= GOAL_RATIO && sr <= GOAL_RATIO;
    printf("goal: fault / bare ratios <= %.1f: %s (demand-zero %.2f, cow-copy "
           "image %.2f, shared %.2f)\n",
           GOAL_RATIO, met ? "MET" : "NOT MET", zr, cr, sr);
    free(img);
    free(dst);
    free(src2);
    free(b.arena);
    return 0;
}

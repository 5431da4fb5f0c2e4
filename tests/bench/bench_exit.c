/*
 * bench_exit: what per-kind exit accounting (vmm/exit_stats.h: the kind
 * counter plus the by-port / by-MSR tables) adds to the fault path.
 *
 *  fault path   ns per stage-2 write fault as the vCPU loop runs it
 *               (exit_account, then mm_handle_fault) / the same faults
 *               with no accounting, on a fresh pool each run. Ratios are
 *               the median of REPEATS pairs; the two runs of a pair go in
 *               alternating order so neither always runs second.
 *  accounting   ns per exit_account call for fault, I/O (16 ports) and
 *               MSR (8 MSRs) exits, alone in a loop.
 *
 * A ratio within NOISE_BAND of 1.00 is "no measurable cost": the same
 * bench run against itself (accounting on in both) is printed as the
 * noise floor of this machine at this moment. Nothing here asserts a
 * timing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ept/mm.h"
#include "vmm/exit_stats.h"

#define PAGES 8192u
#define REPEATS 31
#define TRACE_EVENTS 1024
#define ACCOUNT_CALLS 10000000u
#define NOISE_BAND 0.03

static struct vcpu vcpu;
static struct exit_stats st;

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

struct bench_mm {
    void *arena;
    size_t bytes;
    struct frame_pool fp;
    struct guest_mm mm;
    struct region regions[4];
    struct fault_event trace[TRACE_EVENTS];
};

static void bmm_fresh(struct bench_mm *b)
{
    memset(b->arena, 0xcc, b->bytes);
    if (frame_pool_init(&b->fp, va_hpa(b->arena), b->bytes) != 0 ||
        mm_init(&b->mm, &b->fp, &s2pt_format_npt, true, b->regions, 4, b->trace,
                TRACE_EVENTS, NULL, NULL) != 0 ||
        mm_add_anon(&b->mm, 0, (gpa_t)PAGES * PAGE_SIZE, "ram") != 0) {
        fprintf(stderr, "bench_exit: pool / mm set-up failed\n");
        exit(2);
    }
    b->mm.huge_anon = false;
}

/* One run of PAGES write faults; account: as the vCPU loop does. */
__attribute__((noinline)) static double fault_run(struct bench_mm *b, bool account)
{
    bmm_fresh(b);
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < PAGES; i++) {
        struct vm_exit e = { .kind = EXIT_STAGE2_FAULT };
        e.u.fault = (struct gpa_fault){ .gpa = (gpa_t)i * PAGE_SIZE, .access = ACC_W };
        if (account)
            exit_account(&vcpu, &st, &e);
        struct fault_outcome o;
        mm_handle_fault(&b->mm, &e.u.fault, &o);
    }
    double ns = (double)(now_ns() - t0) / PAGES;
    if (b->mm.stats.count[RES_ANON_NEW] != PAGES) {
        fprintf(stderr, "bench_exit: expected %u anon-new faults, got %llu\n", PAGES,
                (unsigned long long)b->mm.stats.count[RES_ANON_NEW]);
        exit(2);
    }
    mm_destroy(&b->mm);
    return ns;
}

/* Median ratio of runs (a_acc vs b_acc), alternating which goes first;
 * *a_ns, *b_ns: the medians of each side over the same pairs. */
static double ratio(struct bench_mm *b, bool a_acc, bool b_acc, double *a_ns, double *b_ns)
{
    double r[REPEATS], ta[REPEATS], tb[REPEATS];
    for (int i = 0; i < REPEATS; i++) {
        if (i & 1) {
            tb[i] = fault_run(b, b_acc);
            ta[i] = fault_run(b, a_acc);
        } else {
            ta[i] = fault_run(b, a_acc);
            tb[i] = fault_run(b, b_acc);
        }
        r[i] = ta[i] / tb[i];
    }
    *a_ns = median(ta, REPEATS);
    *b_ns = median(tb, REPEATS);
    return median(r, REPEATS);
}

static double account_ns(enum exit_kind kind, unsigned keys)
{
    static const uint16_t ports[] = { 0x3f8, 0x3fd, 0x3f9, 0x3fa, 0x3fb, 0xcf8, 0xcfc, 0x61,
                                      0x40, 0x43, 0x70, 0x71, 0x20, 0x21, 0xa0, 0xa1 };
    static const uint32_t msrs[] = { 0x1b, 0x10, 0xc0000080, 0xc0000100, 0xc0000101,
                                     0x6e0, 0x3a, 0x8b };
    struct vm_exit e = { .kind = kind };
    uint64_t t0 = now_ns();
    for (unsigned i = 0; i < ACCOUNT_CALLS; i++) {
        if (kind == EXIT_IO)
            e.u.io.port = ports[i % keys];
        else if (kind == EXIT_MSR_READ)
            e.u.msr.index = msrs[i % keys];
        exit_account(&vcpu, &st, &e);
    }
    return (double)(now_ns() - t0) / ACCOUNT_CALLS;
}

int main(void)
{
    struct bench_mm *b = calloc(1, sizeof(*b));
    if (!b) {
        fprintf(stderr, "bench_exit: out of memory\n");
        return 2;
    }
    /* frames for PAGES pages plus their tables and the pool's metadata */
    b->bytes = (size_t)(PAGES + PAGES / 256) * PAGE_SIZE + (4u << 20);
    b->arena = aligned_alloc(2u << 20, b->bytes);
    if (!b->arena) {
        fprintf(stderr, "bench_exit: out of memory\n");
        return 2;
    }
    double on_ns, off_ns, x_ns, y_ns;
    fault_run(b, true); /* warm-up: the arena's host pages, the code */
    double with = ratio(b, true, false, &on_ns, &off_ns);
    double self = ratio(b, false, false, &x_ns, &y_ns);
    printf("exit accounting on the fault path (%u write faults, median of %d pairs)\n", PAGES,
           REPEATS);
    printf("  fault + accounting      %7.1f ns/fault\n", on_ns);
    printf("  fault alone             %7.1f ns/fault\n", off_ns);
    printf("  ratio with / without    %7.3f\n", with);
    printf("  noise floor (same/same) %7.3f\n", self);
    printf("  verdict: %s\n",
           with <= 1.0 + NOISE_BAND || with <= self + NOISE_BAND
               ? "no measurable cost (within the noise band)"
               : "MEASURABLE cost");
    printf("exit_account alone\n");
    printf("  stage-2 fault exit      %7.2f ns\n", account_ns(EXIT_STAGE2_FAULT, 1));
    printf("  io exit (16 ports)      %7.2f ns\n", account_ns(EXIT_IO, 16));
    printf("  msr exit (8 MSRs)       %7.2f ns\n", account_ns(EXIT_MSR_READ, 8));
    if (st.io.other || st.msr.other)
        printf("  (table overflow: %llu io, %llu msr)\n", (unsigned long long)st.io.other,
               (unsigned long long)st.msr.other);
    free(b->arena);
    free(b);
    return 0;
}

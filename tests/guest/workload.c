/* workload: the guest-level benchmark's memory workloads (static Linux
 * userspace; scripts/bench-guest.py runs it through tests/guest/init).
 *
 *   workload MIB [PHASES [SEED]]      PHASES: PHASE[:N],PHASE[:N],...
 *
 * Maps MIB MiB of anonymous memory and runs the PHASES (comma-separated, in
 * the order given; default write,read,rand,hotcold) over it:
 *
 *   write    sequential first touch: every 8-byte word gets a value derived
 *            from its address, the page's generation and the seed
 *   read     sequential read of every word, each one verified
 *   rand     random 4 KiB pages (one access per RANDOM_DIVISOR pages of
 *            the area): verify the whole page, then rewrite it under the
 *            page's next generation (a read-modify-write of 4 KiB)
 *   hotcold  as rand, but 90 % of the accesses go to a hot tenth of the
 *            area (its first tenth) and 10 % to the cold rest
 *   zipf     as rand, but page ranks follow a Zipf-like law (s = 1: the
 *            probability of the page of rank r falls as 1/r; every octave
 *            of ranks [2^k, 2^(k+1)) is drawn equally often) and ranks are
 *            scattered over the area by a fixed multiplicative permutation,
 *            so the hot pages are not neighbours
 *   stride   a strided scan: STRIDE_PAGES passes, pass p visiting pages p,
 *            p + STRIDE_PAGES, p + 2 * STRIDE_PAGES, ... (so every page
 *            once, never two neighbours in a row): verify the page, then
 *            rewrite it under its next generation
 *
 * A phase other than write may carry a repeat count, PHASE:N (1 to
 * MAX_REPEAT): it runs N times back to back inside one timed span, and its
 * lines give the bytes of all N (a short phase made long enough to time
 * well; scripts/bench-guest.py's --repeat-100).
 *
 * `write` must come first (the other phases verify what it wrote). After
 * the last phase the whole area is verified once more (untimed), so a page
 * the hypervisor lost or mixed up during any phase is caught even if no
 * timed phase touched it again.
 *
 * Every value depends on its address, so a page that comes back with
 * another page's contents, stale contents or zeroes is detected. Times are
 * the guest's own CLOCK_MONOTONIC around each phase.
 *
 * Console lines (scripts/bench-guest.py parses them; keep them stable):
 *   workload: start mib=N phases=P seed=0xS
 *   workload: begin PHASE
 *   workload: phase PHASE bytes=N secs=S mib_s=R
 *   pv-result: workload=NAME phase=PHASE secs=S mib_s=R bytes=N
 *   workload: vmstat PHASE thp_fault_alloc=N thp_fault_fallback=N pgfault=N pgmajfault=N
 *   workload: PASS verified_bytes=N
 *   workload: FAIL <reason>
 * The pv-result line (docs/workloads.md, the experiment runner's contract)
 * follows each phase line with the same figures. NAME is the run's
 * workload name, that of its last phase: `seq` when that is write or read
 * (write+read), else the phase's own (write+rand: rand, write+stride:
 * stride, ...). The vmstat line, printed after the phase line (outside the
 * timed span), gives the guest kernel's own counts over the phase: huge
 * pages it gave the area at first touch and the fallbacks to 4 KiB pages,
 * and its page faults; two guests compared phase by phase ran the same
 * kernel work only where these agree. A counter the kernel lacks reads 0.
 * Exit status: 0 pass, 1 mismatch or setup failure, 2 usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "guest_util.h"

#define MIB (UINT64_C(1024) * 1024)
#define PAGE 4096u
#define WORDS_PER_PAGE (PAGE / sizeof(uint64_t))
#define MAX_MIB 65536u
#define HOT_PERCENT 90u   /* share of hotcold accesses that go to the hot set */
#define HOT_DIVISOR 10u   /* the hot set is 1/HOT_DIVISOR of the area */
#define RANDOM_DIVISOR 4u /* rand/hotcold/zipf touch pages/RANDOM_DIVISOR pages */
#define STRIDE_PAGES 16u  /* stride's step: 64 KiB, past an 8-page readahead cluster */
/* zipf's rank -> page permutation: a prime above any page count (MAX_MIB
 * MiB has 2^24 pages), so multiplying by it modulo the page count is a
 * bijection. */
#define ZIPF_SCATTER UINT64_C(2654435761)
#define DEFAULT_PHASES "write,read,rand,hotcold"
#define MAX_REPEAT 1000u  /* PHASE:N's ceiling */

struct area {
    volatile uint64_t *w;
    size_t pages;
    uint8_t *gen;          /* per-page generation (rand/hotcold rewrite pages) */
    uint64_t seed;
    uint64_t rng;
};

/* splitmix64 finaliser: every input bit affects every output bit. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t value(const struct area *a, const volatile uint64_t *p, uint8_t gen)
{
    return mix64((uint64_t)(uintptr_t)p ^ a->seed ^ ((uint64_t)gen << 56));
}

static uint64_t next_rand(struct area *a)
{
    a->rng += 0x9e3779b97f4a7c15ull;
    return mix64(a->rng);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("workload: FAIL ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    exit(1);
}

static void write_page(struct area *a, size_t pg)
{
    volatile uint64_t *w = a->w + pg * WORDS_PER_PAGE;
    for (size_t i = 0; i < WORDS_PER_PAGE; i++)
        w[i] = value(a, &w[i], a->gen[pg]);
}

static void verify_page(const struct area *a, size_t pg, const char *phase)
{
    const volatile uint64_t *w = a->w + pg * WORDS_PER_PAGE;
    for (size_t i = 0; i < WORDS_PER_PAGE; i++) {
        uint64_t got = w[i], want = value(a, &w[i], a->gen[pg]);
        if (got != want)
            fail("%s: mismatch at %p (page %zu word %zu): expected 0x%016" PRIx64
                 " got 0x%016" PRIx64, phase, (const void *)&w[i], pg, i, want, got);
    }
}

static void phase_write(struct area *a)
{
    for (size_t pg = 0; pg < a->pages; pg++)
        write_page(a, pg);
}

static void phase_read(struct area *a, const char *name)
{
    for (size_t pg = 0; pg < a->pages; pg++)
        verify_page(a, pg, name);
}

static size_t random_accesses(const struct area *a)
{
    return a->pages / RANDOM_DIVISOR ? a->pages / RANDOM_DIVISOR : 1;
}

/* A read-modify-write of one 4 KiB page: verify it, then rewrite it under
 * the page's next generation. */
static void rewrite_page(struct area *a, size_t pg, const char *name)
{
    verify_page(a, pg, name);
    a->gen[pg]++;
    write_page(a, pg);
}

/* Page of Zipf-like rank: the octave k of ranks [2^k - 1, 2^(k+1) - 1) is
 * uniform over the octaves that start inside the area, the rank uniform
 * within it (redrawn when past the area's end); the probability of rank r
 * so falls as about 1/r. The rank is then scattered over the area. */
static size_t zipf_page(struct area *a)
{
    unsigned octaves = 0;
    while (octaves < 63 && (UINT64_C(1) << octaves) - 1 < a->pages)
        octaves++;
    for (;;) {
        uint64_t r = next_rand(a);
        unsigned k = (unsigned)(r % octaves);
        uint64_t rank = (UINT64_C(1) << k) - 1 + ((r >> 8) & ((UINT64_C(1) << k) - 1));
        if (rank < a->pages)
            return (size_t)(rank * ZIPF_SCATTER % a->pages);
    }
}

enum pick { PICK_UNIFORM, PICK_HOTCOLD, PICK_ZIPF };

/* random_accesses() read-verify-rewrites of 4 KiB at pages chosen by how. */
static void phase_random(struct area *a, enum pick how, const char *name)
{
    size_t hot = a->pages / HOT_DIVISOR ? a->pages / HOT_DIVISOR : 1;
    for (size_t n = 0; n < random_accesses(a); n++) {
        size_t pg;
        if (how == PICK_ZIPF) {
            pg = zipf_page(a);
        } else {
            uint64_t r = next_rand(a);
            if (how == PICK_HOTCOLD && (r % 100u) < HOT_PERCENT)
                pg = (size_t)((r >> 8) % hot);
            else
                pg = (size_t)((r >> 8) % a->pages);
        }
        rewrite_page(a, pg, name);
    }
}

/* STRIDE_PAGES passes, each over every STRIDE_PAGES-th page from its own
 * offset: every page is rewritten once. */
static void phase_stride(struct area *a, const char *name)
{
    for (size_t pass = 0; pass < STRIDE_PAGES; pass++)
        for (size_t pg = pass; pg < a->pages; pg += STRIDE_PAGES)
            rewrite_page(a, pg, name);
}

/* The guest kernel's counters the vmstat line reports, in its order. */
static const char *const vmstat_keys[] = { "thp_fault_alloc", "thp_fault_fallback", "pgfault",
                                           "pgmajfault" };
#define VMSTAT_KEYS (sizeof vmstat_keys / sizeof vmstat_keys[0])

/* Reads vmstat_keys from /proc/vmstat into v; a missing file or key reads 0. */
static void read_vmstat(uint64_t v[VMSTAT_KEYS])
{
    memset(v, 0, VMSTAT_KEYS * sizeof v[0]);
    FILE *f = fopen("/proc/vmstat", "r");
    if (!f)
        return;
    char key[64];
    unsigned long long n;
    while (fscanf(f, "%63s %llu", key, &n) == 2)
        for (size_t i = 0; i < VMSTAT_KEYS; i++)
            if (strcmp(key, vmstat_keys[i]) == 0)
                v[i] = n;
    fclose(f);
}

static void print_vmstat(const char *phase, const uint64_t before[VMSTAT_KEYS])
{
    uint64_t after[VMSTAT_KEYS];
    read_vmstat(after);
    printf("workload: vmstat %s", phase);
    for (size_t i = 0; i < VMSTAT_KEYS; i++)
        printf(" %s=%" PRIu64, vmstat_keys[i], after[i] - before[i]);
    printf("\n");
}

static const char *const known[] = { "write", "read", "rand", "hotcold", "zipf", "stride" };

static int known_phase(const char *p)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(p, known[i]) == 0)
            return 1;
    return 0;
}

/* Split "PHASE[:N]" in place: p keeps the name, *times gets N (1 when
 * absent). Returns 0, or -1 with a FAIL line printed: an unknown phase, a
 * count that is not 1..MAX_REPEAT, or a count on write (a second write
 * pass would no longer be a first touch). */
static int parse_phase(char *p, uint64_t *times)
{
    char *colon = strchr(p, ':');
    *times = 1;
    if (colon) {
        *colon = '\0';
        if (parse_u64(colon + 1, times) || *times == 0 || *times > MAX_REPEAT) {
            printf("workload: FAIL phase '%s': repeat count '%s' is not 1 to %u\n", p,
                   colon + 1, MAX_REPEAT);
            return -1;
        }
    }
    if (!known_phase(p)) {
        printf("workload: FAIL unknown phase '%s' (known: write read rand hotcold zipf stride)\n", p);
        return -1;
    }
    if (colon && strcmp(p, "write") == 0) {
        printf("workload: FAIL phase 'write' takes no repeat count (it is the first touch)\n");
        return -1;
    }
    return 0;
}

/* One pass of phase p. */
static void run_phase(struct area *a, const char *p)
{
    if (strcmp(p, "write") == 0)
        phase_write(a);
    else if (strcmp(p, "read") == 0)
        phase_read(a, p);
    else if (strcmp(p, "rand") == 0)
        phase_random(a, PICK_UNIFORM, p);
    else if (strcmp(p, "hotcold") == 0)
        phase_random(a, PICK_HOTCOLD, p);
    else if (strcmp(p, "zipf") == 0)
        phase_random(a, PICK_ZIPF, p);
    else
        phase_stride(a, p);
}

int main(int argc, char **argv)
{
    uint64_t mib, seed;
    char phases[256];

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || argc > 4 || parse_u64(argv[1], &mib) || mib == 0 || mib > MAX_MIB) {
        fprintf(stderr, "usage: workload MIB(1-%u) [PHASES [SEED]]\n"
                "  PHASES: comma-separated, from write,read,rand,hotcold,zipf,stride;"
                " write first;\n  PHASE:N runs a phase N times in one timed span"
                " (1-%u, not write)\n",
                MAX_MIB, MAX_REPEAT);
        printf("workload: FAIL bad arguments\n");
        return 2;
    }
    snprintf(phases, sizeof phases, "%s", argc > 2 ? argv[2] : DEFAULT_PHASES);
    if (strncmp(phases, "write", 5) != 0 || !strchr(",:", phases[5])) { /* ':' refused below */
        printf("workload: FAIL phases '%s': the first must be write\n", phases);
        return 2;
    }
    if (argc > 3) {
        if (parse_u64(argv[3], &seed)) {
            printf("workload: FAIL bad seed '%s'\n", argv[3]);
            return 2;
        }
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = mix64(((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid());
    }
    /* check every phase name before spending any time */
    {
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s", phases);
        uint64_t times;
        for (char *p = strtok(tmp, ","); p; p = strtok(NULL, ","))
            if (parse_phase(p, &times) < 0)
                return 2;
    }

    struct area a = { .seed = seed, .rng = seed ^ 0x5eedull };
    uint64_t bytes = mib * MIB;
    a.pages = bytes / PAGE;
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        fail("mmap of %" PRIu64 " bytes: %s", bytes, strerror(errno));
    a.w = m;
    a.gen = calloc(a.pages, 1);
    if (!a.gen)
        fail("no memory for %zu page generations", a.pages);

    /* the run's workload name (pv-result): its last phase's, write/read: seq */
    const char *last = strrchr(phases, ',');
    char name[sizeof phases];
    snprintf(name, sizeof name, "%s", last ? last + 1 : phases);
    name[strcspn(name, ":")] = '\0';
    if (strcmp(name, "write") == 0 || strcmp(name, "read") == 0)
        snprintf(name, sizeof name, "seq");

    printf("workload: start mib=%" PRIu64 " phases=%s seed=0x%016" PRIx64 "\n", mib, phases, seed);
    for (char *p = strtok(phases, ","); p; p = strtok(NULL, ",")) {
        uint64_t times;
        parse_phase(p, &times); /* checked above */
        uint64_t vm[VMSTAT_KEYS];
        read_vmstat(vm);
        printf("workload: begin %s\n", p);
        double t0 = now_s();
        uint64_t done = bytes;
        int random = strcmp(p, "rand") == 0 || strcmp(p, "hotcold") == 0 ||
                     strcmp(p, "zipf") == 0;
        if (random)
            done = (uint64_t)random_accesses(&a) * PAGE;
        done *= times;
        for (uint64_t k = 0; k < times; k++)
            run_phase(&a, p);
        double secs = now_s() - t0;
        double rate = secs > 0 ? (double)done / (double)MIB / secs : 0.0;
        printf("workload: phase %s bytes=%" PRIu64 " secs=%.3f mib_s=%.1f\n", p, done, secs,
               rate);
        printf("pv-result: workload=%s phase=%s secs=%.3f mib_s=%.1f bytes=%" PRIu64 "\n",
               name, p, secs, rate, done);
        print_vmstat(p, vm);
    }
    phase_read(&a, "final verify");
    printf("workload: PASS verified_bytes=%" PRIu64 "\n", bytes);
    return 0;
}

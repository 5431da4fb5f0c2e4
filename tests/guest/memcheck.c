/* memcheck: the guest kit's memory integrity check (static Linux userspace).
 *
 *   memcheck [PERCENT [SEED]]
 *
 * Maps PERCENT of MemAvailable (default: pv.memcheck=PERCENT from
 * /proc/cmdline, else 90) as anonymous memory, writes every 8-byte word with a
 * value derived from its virtual address and SEED, then verifies the whole
 * area twice. Because the value depends on the address, a page that comes
 * back from the hypervisor with the wrong contents (lost, stale, another
 * page's frame, shared when it must not be, swapped in from the wrong slot)
 * is detected, not just a page that reads as garbage. The seed changes per
 * run (printed, and accepted as an argument to reproduce a run) so data left
 * over from an earlier run never verifies.
 *
 * Pages are touched by ordinary stores, not MAP_POPULATE or mlock, so the
 * guest kernel demand-faults them one by one and the hypervisor sees the
 * same stage-2 fault pattern a real workload causes.
 *
 * Output is a handful of lines (the serial console is slow under emulation);
 * the last one is "memcheck: PASS ..." or "memcheck: FAIL <reason>".
 * Exit status: 0 pass, 1 mismatch or setup failure, 2 usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "guest_util.h"

#define DEFAULT_PERCENT 90u
#define MAX_PERCENT 100u
#define CMDLINE_KEY "pv.memcheck="
#define MISMATCH_SHOW 4u /* mismatches printed in full per pass */
#define KIB UINT64_C(1024)
#define MIB (KIB * KIB)

/* splitmix64 finaliser: every input bit affects every output bit, so
 * neighbouring addresses (and the same address under another seed) give
 * unrelated words. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t pattern(const volatile uint64_t *p, uint64_t seed)
{
    return mix64((uint64_t)(uintptr_t)p ^ seed);
}

static double mib_per_s(uint64_t bytes, double secs)
{
    return secs > 0 ? (double)bytes / (double)MIB / secs : 0.0;
}

/* Value of a "Key:   N kB" line of /proc/meminfo, in kB; 0 if absent. */
static uint64_t meminfo_kb(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    size_t klen = strlen(key);
    uint64_t kb = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            kb = strtoull(line + klen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

/* PERCENT from pv.memcheck= on the kernel command line; 0 if not given. */
static unsigned cmdline_percent(void)
{
    FILE *f = fopen("/proc/cmdline", "r");
    char buf[4096];
    unsigned pct = 0;

    if (!f)
        return 0;
    if (fgets(buf, sizeof buf, f)) {
        for (char *tok = strtok(buf, " \t\n"); tok; tok = strtok(NULL, " \t\n"))
            if (strncmp(tok, CMDLINE_KEY, strlen(CMDLINE_KEY)) == 0)
                pct = (unsigned)strtoul(tok + strlen(CMDLINE_KEY), NULL, 10);
    }
    fclose(f);
    return pct;
}

/* Write phase: the first touch of every page is this store. */
static void __attribute__((noinline)) fill(volatile uint64_t *w, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        w[i] = pattern(&w[i], seed);
}

struct mismatch {
    const volatile uint64_t *addr; /* NULL: none seen yet */
    uint64_t want, got;
    const char *pass;
};

/* Verify phase: returns the number of bad words; prints the first few and
 * records the very first one in *first. */
static uint64_t __attribute__((noinline)) verify(const volatile uint64_t *w, size_t n,
                                                 uint64_t seed, const char *pass,
                                                 struct mismatch *first)
{
    uint64_t bad = 0;

    for (size_t i = 0; i < n; i++) {
        uint64_t got = w[i];
        uint64_t want = pattern(&w[i], seed);
        if (got == want)
            continue;
        if (bad < MISMATCH_SHOW)
            printf("memcheck: %s mismatch at %p (offset 0x%zx): expected 0x%016" PRIx64
                   " got 0x%016" PRIx64 "\n", pass, (const void *)&w[i],
                   i * sizeof *w, want, got);
        if (!first->addr)
            *first = (struct mismatch){ &w[i], want, got, pass };
        bad++;
    }
    return bad;
}

int main(int argc, char **argv)
{
    uint64_t pct = 0, seed;
    long page = sysconf(_SC_PAGESIZE);

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 3 || (argc > 1 && (parse_u64(argv[1], &pct) || pct == 0 || pct > MAX_PERCENT))) {
        fprintf(stderr, "usage: memcheck [PERCENT(1-%u) [SEED]]\n", MAX_PERCENT);
        printf("memcheck: FAIL bad arguments\n");
        return 2;
    }
    if (pct == 0)
        pct = cmdline_percent();
    if (pct == 0 || pct > MAX_PERCENT)
        pct = DEFAULT_PERCENT;
    if (argc > 2) {
        if (parse_u64(argv[2], &seed)) {
            printf("memcheck: FAIL bad seed '%s'\n", argv[2]);
            return 2;
        }
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = mix64(((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid());
    }

    uint64_t avail_kb = meminfo_kb("MemAvailable");
    uint64_t bytes = avail_kb * KIB / 100u * pct;
    bytes -= bytes % (uint64_t)page;
    if (bytes == 0) {
        printf("memcheck: FAIL MemAvailable unknown or too small (%" PRIu64 " kB)\n", avail_kb);
        return 1;
    }
    printf("memcheck: %" PRIu64 " bytes (%" PRIu64 " MiB) = %" PRIu64 "%% of MemAvailable %"
           PRIu64 " kB, seed 0x%016" PRIx64 "\n", bytes, bytes / MIB, pct, avail_kb, seed);

    void *area = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) {
        printf("memcheck: FAIL mmap of %" PRIu64 " bytes: %s\n", bytes, strerror(errno));
        return 1;
    }
    volatile uint64_t *w = area;
    size_t n = bytes / sizeof *w;

    double t0 = now_s();
    fill(w, n, seed);
    double t1 = now_s();
    printf("memcheck: write  %" PRIu64 " MiB in %.2f s (%.0f MiB/s)\n", bytes / MIB, t1 - t0,
           mib_per_s(bytes, t1 - t0));

    uint64_t bad_total = 0;
    double read_secs = 0;
    struct mismatch first = { 0 };
    static const char *const passes[] = { "verify1", "verify2" };
    for (size_t p = 0; p < sizeof passes / sizeof passes[0]; p++) {
        double a = now_s();
        uint64_t bad = verify(w, n, seed, passes[p], &first);
        double b = now_s();
        read_secs += b - a;
        bad_total += bad;
        printf("memcheck: %s %" PRIu64 " MiB in %.2f s (%.0f MiB/s): %" PRIu64 " bad words\n",
               passes[p], bytes / MIB, b - a, mib_per_s(bytes, b - a), bad);
    }

    if (bad_total) {
        printf("memcheck: FAIL %" PRIu64 " bad words in %" PRIu64 " bytes, first at %p (%s):"
               " expected 0x%016" PRIx64 " got 0x%016" PRIx64 "\n", bad_total, bytes,
               (const void *)first.addr, first.pass, first.want, first.got);
        return 1;
    }
    printf("memcheck: PASS bytes=%" PRIu64 " write=%.0f MiB/s read=%.0f MiB/s\n", bytes,
           mib_per_s(bytes, t1 - t0), mib_per_s(2 * bytes, read_secs));
    munmap(area, bytes);
    return 0;
}

/*
 * sim_swap: deterministic simulation of an overcommitted guest on the fault
 * path with swap (swap/ over ept/), against a byte-exact reference model.
 *
 * Every run builds a guest (sim_swap.h) whose frame pool holds 100%, 50%,
 * 25% or 10% of its memory (plus a few frames for stage-2 tables), a RAM
 * swap device prepared like mkswap (with bad pages), and swap with one
 * readahead policy. A simulated CPU then performs reads, writes and
 * whole-page fills (a few values, so zero pages and identical pages occur)
 * along one trace: random, sequential, strided, hot/cold, or phases of all
 * of them. The CPU caches translations in a TLB that only the invalidation
 * hook clears and sets stage-2 accessed bits when it walks, as hardware
 * does; reclaim_tick runs every TICK_EVERY accesses, direct reclaim runs
 * from the fault path. Property: every read returns the last value written
 * (or the initial contents after a discard), and at checkpoints every page
 * — mapped, swapped (data on the device, checksum matching) or never
 * touched — equals the reference.
 *
 * Fault runs add, under the swap layer, random read and write failures of
 * the device and silent corruption of swapped-out slots; and above it,
 * discards (unmap of ranges), same-page merging and readahead policy
 * switches. Failed reads must come back as FAULT_ERROR naming gpa and slot
 * (-PV_EIO, or -PV_ECORRUPT for a slot the sim corrupted, which it then
 * repairs) and the retried access must then see the right data: nothing is
 * lost or handed over silently. Failed writes must leave the page resident.
 *
 * The trace runs use EPT with A/D bits; the fault runs both EPT with A/D
 * and NPT without (aging by taking rights away). Prints a table with
 * readahead hit rates per policy and trace.
 *
 * Usage: sim_swap [seed] [scale%]   (scale 100: the default length)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sim/sim_swap.h"
#include "tests/unit/test_swap_mkswap.h"

#define DEFAULT_SEED 0x5eed5a9full
#define TRACE_ACCESSES 40000ull
#define FAULT_ACCESSES 60000ull
#define ASYNC_ACCESSES 100000ull
/* The asynchronous runs with injected failures run this many times longer:
 * a failed asynchronous write of several pages is retried page by page,
 * and a page counts as failed only when its retry fails too (1 in 100 of
 * 1 in 100), so at 100,000 accesses a run may see none at all and the
 * check that one was seen would be luck. */
#define ASYNC_INJECT_LONGER 4ull
#define ASYNC_SEED_MIX 0xa5c0ull
#define CHECKS_PER_RUN 4u
#define ARENA_ALIGN HUGE_2M
#define PERMILLE 1000u

static const unsigned ratios[] = { 100, 50, 25, 10 };
static const char *const trace_names[T_COUNT] = { "random", "sequential", "strided",
                                                  "hot-cold", "mixed" };

struct result {
    struct sim_cfg cfg;
    uint64_t majors, minors, ra_pages, ra_hits, ra_misses, ra_mapped, read_reqs, write_reqs;
    uint64_t outs, zero, clean, cache_dropped, released, write_failed, faults, around;
    uint64_t execs, code_kept, walk_ins, walk_passed;
    uint64_t det_eio, det_corrupt, corruptions, merges, discards, repaired;
    uint64_t wb_requests, wb_written, wb_failed, wb_waits, wb_peak, wb_peak_reqs, accesses;
    uint64_t ms;
};

static struct ssim *current;

void ssim_fail(struct ssim *s, gpa_t gpa, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sim_swap: FAIL [%s%s %u%% %s %s] seed %#llx access #%llu gpa 0x%llx: ",
            s->cfg.fmt->name, s->cfg.use_ad ? "+ad" : "", s->cfg.ratio,
            s->cfg.policy == RA_OFF ? "off" : s->cfg.policy == RA_CLUSTER ? "cluster" : "auto",
            trace_names[s->cfg.trace], (unsigned long long)s->seed, (unsigned long long)s->n,
            (unsigned long long)gpa);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(1);
}

static void sim_invalidate(struct s2pt *pt, enum s2_inv_scope scope, gpa_t gpa,
                           uint64_t size, void *ctx)
{
    struct ssim *s = ctx;
    (void)pt;
    for (unsigned i = 0; i < TLB_ENTRIES; i++) {
        struct tlb_entry *t = &s->tlb[i];
        if (scope == S2_INV_ALL || (t->page >= gpa && t->page - gpa < size))
            t->valid = false;
    }
}

/* The smallest arena giving at least want frames. */
static uint64_t arena_for(void *arena, uint64_t max, size_t want)
{
    uint64_t lo = want * PAGE_SIZE, hi = max;
    struct frame_pool fp;
    while (lo < hi) {
        uint64_t mid = ALIGN_DOWN(lo + (hi - lo) / 2, PAGE_SIZE);
        if (frame_pool_init(&fp, va_hpa(arena), mid) == 0 && fp.nframes >= want)
            hi = mid;
        else
            lo = mid + PAGE_SIZE;
    }
    return lo;
}

static void setup(struct ssim *s, const struct sim_cfg *cfg, uint64_t seed)
{
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    s->seed = seed;
    s->rng = seed ^ ((uint64_t)cfg->ratio << 32) ^ ((uint64_t)cfg->policy << 40) ^
             ((uint64_t)cfg->trace << 48) ^ ((uint64_t)cfg->use_ad << 56);
    if (!s->rng)
        s->rng = DEFAULT_SEED;
    current = s;

    size_t want = GUEST_PAGES * cfg->ratio / 100 + TABLE_SLACK;
    uint64_t max = ALIGN_UP(want * (PAGE_SIZE + 128) + 4 * ARENA_ALIGN, ARENA_ALIGN);
    s->arena = aligned_alloc(ARENA_ALIGN, max);
    if (!s->arena)
        exit(2);
    memset(s->arena, 0xcc, max); /* host memory is garbage, not zeros */
    uint64_t bytes = arena_for(s->arena, max, want);
    if (frame_pool_init(&s->fp, va_hpa(s->arena), bytes) != 0)
        exit(2);
    s->free0 = frame_free_count(&s->fp);
    if (mm_init(&s->mm, &s->fp, cfg->fmt, cfg->use_ad, s->regions, SIM_REGIONS, s->trace,
                SIM_TRACE, sim_invalidate, s) != 0)
        exit(2);
    s->mm.huge_anon = false; /* as the boot path does under overcommit */
    s->mm.learn_exec = true;  /* as the boot path does: execute on first fetch */
    /* fault-around, as the boot path sets it under overcommit, in the runs
     * that also inject failures (the trace runs keep their exact counts) */
    s->mm.fault_around = cfg->faults ? SIM_FAULT_AROUND : 0;
    ssim_guest_init(s);

    s->disk_pages = GUEST_PAGES + DISK_SLACK;
    s->disk = aligned_alloc(PAGE_SIZE, s->disk_pages * PAGE_SIZE);
    if (!s->disk)
        exit(2);
    memset(s->disk, 0xdd, s->disk_pages * PAGE_SIZE);
    const uint32_t bad[] = { 3, 64, 1000 };
    swap_env_mkswap(s->disk, s->disk_pages, bad, 3);
    blk_file_init(&s->blk, s->disk, s->disk_pages * PAGE_SIZE, BLK_FILE_SECTOR, "simdisk");
    s->blk.inject = ssim_inject;
    s->blk.inject_ctx = s;
    if (cfg->async) /* 2..16 requests in flight, each poll finishing a random few */
        blk_file_set_async(&s->blk, 2 + (unsigned)below(s, BLK_FILE_MAX_ASYNC - 1),
                           BLK_ASYNC_RANDOM, 1 + (unsigned)below(s, 4), rnd(s));
    size_t len = swap_meta_size(&s->fp, &s->blk.dev);
    s->meta = aligned_alloc(PAGE_SIZE, ALIGN_UP(len, PAGE_SIZE));
    char err[200];
    if (!s->meta || swap_init(&s->sw, &s->mm, &s->blk.dev, s->meta, len, cfg->policy,
                              cfg->ra_pages, err, sizeof(err)) != 0) {
        fprintf(stderr, "sim_swap: swap_init: %s\n", err);
        exit(2);
    }
}

static void teardown(struct ssim *s)
{
    swap_destroy(&s->sw);
    mm_destroy(&s->mm);
    if (frame_free_count(&s->fp) != s->free0 || !frame_pool_check(&s->fp))
        ssim_fail(s, 0, "teardown left %zu free frames, want %zu", frame_free_count(&s->fp),
                  s->free0);
    free(s->arena);
    free(s->disk);
    free(s->meta);
    free(s->ref);
    free(s->init);
    free(s->image);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void run(const struct sim_cfg *cfg, uint64_t seed, struct result *res)
{
    static struct ssim sim;
    struct ssim *s = &sim;
    uint64_t t0 = now_ms();
    setup(s, cfg, seed);
    uint64_t every = cfg->accesses / CHECKS_PER_RUN + 1;
    for (s->n = 1; s->n <= cfg->accesses; s->n++) {
        ssim_step(s);
        if (s->n % every == 0)
            ssim_full_check(s);
    }
    ssim_full_check(s);
    if (s->ncorrupt == 0 && s->sw.area.st.csum_errors != s->det_corrupt && !cfg->faults)
        ssim_fail(s, 0, "checksum errors without corruption");
    /* Each readahead page is judged once at most (mapped or parked): a
     * hit when used, a miss when dropped unused. */
    if (s->sw.ra.st.hits + s->sw.ra.st.misses > s->sw.ra.st.pages)
        ssim_fail(s, 0, "readahead: %llu hits + %llu misses of %llu pages",
                  (unsigned long long)s->sw.ra.st.hits, (unsigned long long)s->sw.ra.st.misses,
                  (unsigned long long)s->sw.ra.st.pages);
    if (!cfg->use_ad && s->sw.st.ra_mapped != 0)
        ssim_fail(s, 0, "readahead pages mapped without accessed bits to judge them");

    const struct swap_stats *st = &s->sw.st;
    memset(res, 0, sizeof(*res));
    res->cfg = *cfg;
    res->majors = s->mm.stats.count[RES_SWAP_IN];
    res->minors = s->mm.stats.count[RES_SWAP_MINOR];
    res->ra_pages = s->sw.ra.st.pages;
    res->ra_hits = s->sw.ra.st.hits;
    res->ra_misses = s->sw.ra.st.misses;
    res->ra_mapped = s->sw.st.ra_mapped;
    res->around = s->mm.stats.around;
    res->read_reqs = s->sw.area.st.read_requests;
    res->write_reqs = s->sw.area.st.write_requests;
    res->outs = st->outs;
    res->zero = st->zero_recovered;
    res->clean = st->clean_dropped;
    res->cache_dropped = st->cache_dropped;
    res->released = st->released;
    res->execs = s->mm.stats.count[RES_EXEC];
    res->code_kept = st->code_kept;
    res->walk_ins = st->walk_ins;
    res->walk_passed = st->walk_passed;
    res->write_failed = st->write_failed;
    res->faults = s->faults;
    res->det_eio = s->det_eio;
    res->det_corrupt = s->det_corrupt;
    res->corruptions = s->corruptions;
    res->repaired = s->repaired;
    res->merges = s->merges;
    res->discards = s->discards;
    res->wb_requests = s->sw.wb.st.requests;
    res->wb_written = s->sw.wb.st.written;
    res->wb_failed = s->sw.wb.st.failed;
    res->wb_waits = s->sw.wb.st.waits;
    res->wb_peak = s->sw.wb.st.peak_pages;
    res->wb_peak_reqs = s->sw.wb.st.peak_reqs;
    res->accesses = cfg->accesses;
    if (!cfg->async && s->sw.wb.st.requests)
        ssim_fail(s, 0, "asynchronous writes on a synchronous disk");
    teardown(s);
    res->ms = now_ms() - t0;
}

static const char *policy_name(const struct sim_cfg *c, char *buf, size_t len)
{
    if (c->policy == RA_OFF)
        snprintf(buf, len, "off");
    else if (c->policy == RA_CLUSTER)
        snprintf(buf, len, "cluster:%u", c->ra_pages);
    else
        snprintf(buf, len, "auto");
    return buf;
}

static void print_row(const struct result *r)
{
    char pol[16];
    uint64_t rate = r->ra_pages ? r->ra_hits * PERMILLE / r->ra_pages : 0;
    printf("%-3s %3u%% %-10s %-10s %7llu %7llu %8llu %8llu %3llu.%llu%% %7llu %7llu %7llu %6llu "
           "%6llu %5llums\n",
           r->cfg.use_ad ? "ad" : "-", r->cfg.ratio, policy_name(&r->cfg, pol, sizeof(pol)),
           trace_names[r->cfg.trace], (unsigned long long)r->majors,
           (unsigned long long)r->minors, (unsigned long long)r->ra_pages,
           (unsigned long long)r->ra_hits, (unsigned long long)(rate / 10),
           (unsigned long long)(rate % 10), (unsigned long long)r->read_reqs,
           (unsigned long long)r->write_reqs, (unsigned long long)r->outs,
           (unsigned long long)r->zero, (unsigned long long)r->walk_ins,
           (unsigned long long)r->ms);
}

static void header(const char *title)
{
    printf("\n%s\n", title);
    printf("A/D frames policy     trace       majors  minors ra-pages  ra-hits  hit%%   "
           "reads  writes    outs   zero  walks  time\n");
}

/* Coverage the default-length runs must reach; a shorter run only warns. */
static int need(bool ok, const char *what, bool full)
{
    if (ok)
        return 0;
    fprintf(stderr, "sim_swap: %s: %s\n", full ? "FAIL" : "warning", what);
    return full ? 1 : 0;
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : DEFAULT_SEED;
    uint64_t scale = argc > 2 ? strtoull(argv[2], NULL, 0) : 100;
    bool full = scale >= 100;
    static struct result res[96];
    unsigned nres = 0;
    static const struct {
        enum ra_policy p;
        uint32_t pages;
    } pols[] = { { RA_OFF, 1 }, { RA_CLUSTER, 8 }, { RA_AUTO, 8 } };

    printf("sim_swap: seed %#llx, scale %llu%% (rerun: sim_swap %#llx %llu); guest %llu "
           "pages\n",
           (unsigned long long)seed, (unsigned long long)scale, (unsigned long long)seed,
           (unsigned long long)scale, (unsigned long long)GUEST_PAGES);
    header("traces (EPT, accessed bits on)");
    for (unsigned t = 0; t < T_MIXED; t++)
        for (size_t ri = 0; ri < sizeof(ratios) / sizeof(ratios[0]); ri++)
            for (size_t pi = 0; pi < sizeof(pols) / sizeof(pols[0]); pi++) {
                struct sim_cfg c = { &s2pt_format_ept, true, ratios[ri], pols[pi].p,
                                     pols[pi].pages, (enum trace)t,
                                     TRACE_ACCESSES * scale / 100, false, false };
                run(&c, seed, &res[nres]);
                print_row(&res[nres++]);
            }

    header("device failures, corruption, discards, merging, policy switches "
           "(mixed trace)");
    uint64_t eio = 0, corrupt = 0, wfail = 0, merges = 0, discards = 0, corruptions = 0;
    for (int f = 0; f < 2; f++)
        for (size_t ri = 2; ri < 4; ri++)
            for (size_t pi = 1; pi < 3; pi++) {
                struct sim_cfg c = { f ? &s2pt_format_npt : &s2pt_format_ept, !f, ratios[ri],
                                     pols[pi].p, pols[pi].pages, T_MIXED,
                                     FAULT_ACCESSES * scale / 100, true, false };
                struct result *r = &res[nres++];
                run(&c, seed, r);
                print_row(r);
                eio += r->det_eio;
                corrupt += r->det_corrupt;
                wfail += r->write_failed;
                merges += r->merges;
                discards += r->discards;
                corruptions += r->corruptions;
            }
    printf("\nfailures: %llu read errors and %llu checksum errors reported (of %llu "
           "corruptions made), %llu failed writes kept resident, %llu merges, %llu "
           "discards\n",
           (unsigned long long)eio, (unsigned long long)corrupt,
           (unsigned long long)corruptions, (unsigned long long)wfail,
           (unsigned long long)merges, (unsigned long long)discards);

    /* Asynchronous writes: the disk finishes requests late and in random
     * order, with up to 16 in flight; the same checks (every read sees the
     * last write, the frame pool whole at the end), failures included. */
    header("asynchronous writes, completions delayed and reordered");
    uint64_t awb = 0, awritten = 0, afailed = 0, awaits = 0, apeak = 0, apeak_reqs = 0,
             aacc = 0;
    for (unsigned t = 0; t <= T_MIXED; t++)
        for (size_t ri = 1; ri < 4; ri++) {
            bool inject = t == T_MIXED;
            struct sim_cfg c = { ri == 2 ? &s2pt_format_npt : &s2pt_format_ept, ri != 2,
                                 ratios[ri], RA_CLUSTER, 8, (enum trace)t,
                                 ASYNC_ACCESSES * scale / 100 * (inject ? ASYNC_INJECT_LONGER : 1),
                                 inject, true };
            struct result *r = &res[nres++];
            run(&c, seed ^ ASYNC_SEED_MIX, r);
            print_row(r);
            awb += r->wb_requests;
            awritten += r->wb_written;
            afailed += r->wb_failed;
            awaits += r->wb_waits;
            aacc += r->accesses;
            if (r->wb_peak > apeak)
                apeak = r->wb_peak;
            if (r->wb_peak_reqs > apeak_reqs)
                apeak_reqs = r->wb_peak_reqs;
        }
    printf("\nasynchronous: %llu accesses, %llu write requests, %llu pages written, %llu failed "
           "(restored), %llu faults waited for a write, at most %llu pages in %llu requests in "
           "flight\n",
           (unsigned long long)aacc, (unsigned long long)awb, (unsigned long long)awritten,
           (unsigned long long)afailed, (unsigned long long)awaits, (unsigned long long)apeak,
           (unsigned long long)apeak_reqs);

    uint64_t zero = 0, clean = 0, minors = 0, released = 0, dropped = 0, mapped = 0,
             around = 0, execs = 0, code_kept = 0;
    for (unsigned i = 0; i < nres; i++) {
        mapped += res[i].ra_mapped;
        around += res[i].around;
        zero += res[i].zero;
        clean += res[i].clean;
        minors += res[i].minors;
        released += res[i].released;
        execs += res[i].execs;
        code_kept += res[i].code_kept;
        dropped += res[i].cache_dropped;
    }
    /* the baseline must work: cluster readahead beats none on a sequential
     * walk at 10% (runs: trace 1, ratio index 3, policies 0 and 1; 2 is
     * auto) */
    const struct result *seq_off = &res[1 * 12 + 3 * 3 + 0];
    const struct result *seq_cl = &res[1 * 12 + 3 * 3 + 1];
    const struct result *seq_auto = &res[1 * 12 + 3 * 3 + 2];
    int bad = 0;
    bad |= need(zero > 0, "no zero page was recovered", full);
    bad |= need(clean > 0, "no clean page was dropped", full);
    bad |= need(minors > 0, "no swap-cache hit", full);
    bad |= need(mapped > 0, "no readahead page was mapped at once", full);
    bad |= need(around > 0, "no page was mapped by fault-around", full);
    /* with accessed bits, sequential cluster readahead's hits come from
     * mapped pages, not minor faults */
    bad |= need(seq_cl->cfg.use_ad && seq_cl->ra_hits > 0 && seq_cl->minors * 10 < seq_cl->ra_hits,
                "mapped readahead: sequential hits still taken as minor faults", full);
    bad |= need(released > 0, "no slot copy was released by a write", full);
    bad |= need(dropped > 0, "no cached page was dropped", full);
    bad |= need(execs > 0 && code_kept > 0, "no code page was learned or kept by reclaim", full);
    bad |= need(eio > 0 && corrupt > 0, "no injected read error / corruption was seen", full);
    bad |= need(wfail > 0, "no failed write", full);
    bad |= need(merges > 0 && discards > 0, "no merge / discard", full);
    bad |= need(awb > 0 && awritten > 0, "no asynchronous write", full);
    bad |= need(awaits > 0, "no fault met a page under write", full);
    bad |= need(afailed > 0, "no asynchronous write failed", full);
    bad |= need(apeak_reqs > 1, "never more than one write request in flight", full);
    /* readahead off: consecutive major swap-ins, walks (swapin.c, note_walk) */
    bad |= need(seq_off->walk_ins > 0, "no sequential walk of swap-ins was seen", full);
    /* with readahead: walks through the windows (ra_map.c, swap_ra_collect) */
    bad |= need(seq_cl->walk_passed > 0 && seq_auto->walk_passed > 0,
                "no walk through a readahead window was seen", full);
    bad |= need(seq_cl->majors < seq_off->majors,
                "cluster readahead did not reduce major faults on a sequential walk", full);
    if (bad)
        return 1;
    printf("sim_swap: OK (%u runs; every read saw the last write; no silent loss)\n", nres);
    return 0;
}

/*
 * sim_mm: deterministic simulation of a guest running on the fault path.
 *
 * A simulated CPU performs millions of guest accesses (reads, writes and
 * instruction fetches of 1/2/4/8 bytes, some crossing a page boundary, which
 * it splits into one access per page as hardware faults on each page) over
 * the layout of sim_layout.h. For each page it looks the gpa up in stage-2;
 * when the entry is missing or lacks the right it calls mm_handle_fault and
 * re-executes, as hardware would, and handles MMIO / open-bus / denied
 * outcomes as hardware plus the hypervisor would. A reference byte model
 * says what every access must see; the first difference stops the run.
 *
 * The CPU caches translations in a small TLB that only the invalidation
 * hook (and a fault on the page, as an EPT violation / #NPF drops the
 * translation it used) removes entries from. A missing invalidation in the
 * fault path, merging or unmapping therefore shows up as a stale read or a
 * write that lands in the wrong frame.
 *
 * Access patterns come in phases: sequential, strided, random, hot/cold and
 * whole-page fills with a few values (which make identical pages). Between
 * phases the simulation merges identical pages, discards ranges (unmap; the
 * pages must read as their initial contents again), takes X away from some
 * leaves (as aging without A/D bits will), raises stale-TLB faults on pages
 * that are already mapped, toggles huge_anon, and checks
 * region/frame/stage-2/mm consistency plus the whole guest against the
 * reference.
 *
 * Usage: sim_mm [seed] [accesses-per-format]. Runs EPT then NPT with the
 * same seed; the same accesses must give the same resolution counts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim_mm.h"

static const char *const hw_names[] = { "memory", "mmio", "open-bus", "denied" };

/* ---- helpers ------------------------------------------------------------ */

static void dump(const char *what, const uint8_t *b, size_t len)
{
    fprintf(stderr, "  %-5s", what);
    for (size_t i = 0; i < len; i++)
        fprintf(stderr, " %02x", b[i]);
    fprintf(stderr, "\n");
}

static void emit_stderr(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "  %s\n", line);
}

static void emit_stdout(void *ctx, const char *line)
{
    (void)ctx;
    printf("  %s\n", line);
}

void sim_fail(struct sim *s, gpa_t gpa, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sim_mm: FAIL [%s] seed %#llx access #%llu gpa 0x%llx: ",
            s->fmt->name, (unsigned long long)s->seed,
            (unsigned long long)s->n, (unsigned long long)gpa);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  last faults:\n");
    mm_render_trace(&s->mm, 8, emit_stderr, NULL);
    exit(1);
}

static struct sim_region *region_of(struct sim *s, gpa_t gpa)
{
    struct sim_region *r =
        (struct sim_region *)sim_region_of(s->lay, s->nlay, gpa);
    return r ? r : &s->outside;
}

/* ---- the simulated CPU ----------------------------------------------------- */

static struct tlb_entry *tlb_slot(struct sim *s, gpa_t page)
{
    return &s->tlb[(page >> PAGE_SHIFT) % TLB_ENTRIES];
}

/* The invalidation hook: the only way translations leave the TLB, apart
 * from a fault on the page itself. */
static void sim_invalidate(struct s2pt *pt, enum s2_inv_scope scope, gpa_t gpa,
                           uint64_t size, void *ctx)
{
    struct sim *s = ctx;
    (void)pt;
    s->tlb_flushes++;
    for (unsigned i = 0; i < TLB_ENTRIES; i++) {
        struct tlb_entry *t = &s->tlb[i];
        if (scope == S2_INV_ALL || (t->page >= gpa && t->page - gpa < size))
            t->valid = false;
    }
}

/*
 * One access inside one page, as the CPU + hypervisor would perform it.
 * buf holds the bytes to write, or receives the bytes read.
 */
static enum hw cpu_page(struct sim *s, gpa_t gpa, size_t len, uint32_t acc,
                        uint8_t *buf)
{
    gpa_t page = gpa & PAGE_MASK;

    for (int tries = 0;; tries++) {
        struct tlb_entry *t = tlb_slot(s, page);
        uint32_t have = 0;
        if (t->valid && t->page == page) {
            /* A cached translation decides without a walk. */
            have = t->rights;
            s->tlb_hits++;
        } else {
            struct s2_info e;
            s2pt_lookup(&s->mm.s2, gpa, &e);
            if (e.state == S2_PRESENT) {
                have = e.rights;
                *t = (struct tlb_entry){ page, e.hpa, e.rights, true };
            }
        }
        if (t->valid && t->page == page && (have & acc) == acc) {
            uint8_t *p = (uint8_t *)hpa_va(t->hpa) + (gpa & (PAGE_SIZE - 1));
            if (acc & ACC_W)
                memcpy(p, buf, len);
            else
                memcpy(buf, p, len);
            return HW_MEM;
        }
        if (tries == MAX_FAULTS_PER_ACCESS)
            sim_fail(s, gpa, "no progress after %d faults (rights %#x)", tries, have);
        /* The violation drops the translation it used. */
        if (t->page == page)
            t->valid = false;
        struct gpa_fault f = {
            .gpa = gpa,
            .access = acc,
            .entry_rights = have,
            .rip = s->n,
        };
        struct fault_outcome o;
        mm_handle_fault(&s->mm, &f, &o);
        s->faults++;
        switch (o.kind) {
        case FAULT_MAPPED:
        case FAULT_RETRY:
            continue;
        case FAULT_MMIO:
            if (o.mmio_dev != DEV_ID || o.mmio_ctx != &s->dev)
                sim_fail(s, gpa, "mmio outcome names dev %u", o.mmio_dev);
            sim_dev_access(&s->dev, o.mmio_offset, len, acc & ACC_W, buf);
            return HW_MMIO;
        case FAULT_OPEN_BUS:
            if (!(acc & ACC_W))
                memset(buf, 0xff, len);
            return HW_OPEN_BUS;
        case FAULT_DENIED:
            return HW_DENIED;
        default:
            sim_fail(s, gpa, "fault outcome %d (%s)", o.kind, fault_res_name(o.res));
        }
    }
}

/* After a write to memory, what the mapping holds must be the reference. */
static void check_written(struct sim *s, struct sim_region *r, gpa_t gpa,
                          size_t len)
{
    struct s2_info e;
    s2pt_lookup(&s->mm.s2, gpa, &e);
    const uint8_t *p = (const uint8_t *)hpa_va(e.hpa) + (gpa & (PAGE_SIZE - 1));
    if (e.state != S2_PRESENT || memcmp(p, r->ref + (gpa - r->start), len) != 0)
        sim_fail(s, gpa, "written bytes not in guest memory");
}

static void access_page(struct sim *s, gpa_t gpa, size_t len, uint32_t acc,
                        const uint8_t *wval)
{
    struct sim_region *r = region_of(s, gpa);
    uint8_t want[8], got[8];
    enum hw expect;

    if (acc & ACC_W) {
        memcpy(want, wval, len);
        memcpy(got, wval, len);
    } else {
        memset(got, 0x5c, len);
    }
    bool allowed = sim_ref_access(r, gpa, len, acc, want);
    if (r->kind == SK_GAP)
        expect = HW_OPEN_BUS;
    else if (!allowed)
        expect = HW_DENIED;
    else if (r->kind == SK_MMIO)
        expect = HW_MMIO;
    else
        expect = HW_MEM;

    enum hw h = cpu_page(s, gpa, len, acc, got);
    s->hw[h]++;
    if (h != expect)
        sim_fail(s, gpa, "%s access (acc %#x, %zu bytes) in %s ended as %s, want %s",
             (acc & ACC_W) ? "write" : "read", acc, len, r->name ? r->name : "?",
             hw_names[h], hw_names[expect]);
    if (h == HW_DENIED)
        return;
    if (!(acc & ACC_W)) {
        if (memcmp(got, want, len) != 0) {
            fprintf(stderr, "sim_mm: read of %zu bytes in %s differs\n", len,
                    r->name ? r->name : "?");
            dump("want", want, len);
            dump("got", got, len);
            sim_fail(s, gpa, "read mismatch");
        }
    } else if (h == HW_MEM) {
        check_written(s, r, gpa, len);
    }
}

/* One guest access: split at the page boundary like the hardware. */
static void access(struct sim *s, gpa_t gpa, size_t len, uint32_t acc,
                   const uint8_t *wval)
{
    gpa_t next = ALIGN_DOWN(gpa, PAGE_SIZE) + PAGE_SIZE;

    s->accesses++;
    if (acc & ACC_W)
        s->writes++;
    else if (acc & ACC_X)
        s->execs++;
    else
        s->reads++;
    if (gpa + len > next) {
        s->splits++;
        access_page(s, gpa, next - gpa, acc, wval);
        access_page(s, next, gpa + len - next, acc, wval + (next - gpa));
    } else {
        access_page(s, gpa, len, acc, wval);
    }
}

/* ---- access patterns --------------------------------------------------------- */

enum pattern { P_SEQ, P_STRIDE, P_RANDOM, P_HOTCOLD, P_FILL, P_COUNT };

struct phase {
    enum pattern p;
    uint64_t left;
    const struct sim_region *r;
    gpa_t cur;
    uint64_t stride;
    gpa_t hot[HOT_PAGES];
    uint64_t fill;
};

static const uint64_t fill_values[FILL_VALUES] = {
    0, 0x0101010101010101ull, 0xdeadbeefcafef00dull, 0xffffffffffffffffull,
};
static const uint64_t strides[] = { 64, 4096, 4096 + 8, 3 * 4096 + 24, HUGE_2M + 4096 };

static void new_phase(struct sim *s, struct phase *ph)
{
    ph->p = (enum pattern)below(s, P_COUNT);
    ph->left = 2000 + below(s, 40000);
    ph->r = sim_pick_region(s, ph->p == P_SEQ || ph->p == P_STRIDE || ph->p == P_FILL);
    ph->cur = ph->r->start + below(s, ph->r->end - ph->r->start);
    ph->stride = strides[below(s, sizeof(strides) / sizeof(strides[0]))];
    for (unsigned i = 0; i < HOT_PAGES; i++)
        ph->hot[i] = sim_random_page(s, sim_pick_region(s, false));
    if (ph->p == P_FILL)
        ph->cur = sim_random_page(s, ph->r);
    ph->fill = fill_values[below(s, FILL_VALUES)];
}

static void add_edge(struct sim *s, gpa_t page)
{
    if (s->nedges < MAX_EDGES)
        s->edges[s->nedges++] = page;
}

/* Pages where off-by-one mistakes live: the first and last page of every
 * region, the page holding an image's end and the one after it. */
static void find_edges(struct sim *s)
{
    for (size_t i = 0; i < s->nlay; i++) {
        const struct sim_region *r = &s->lay[i];
        add_edge(s, r->start);
        add_edge(s, r->end - PAGE_SIZE);
        if (r->kind == SK_FILE || r->kind == SK_ROM) {
            gpa_t end = r->start + ALIGN_DOWN(r->image_size, PAGE_SIZE);
            add_edge(s, end);
            if (end + PAGE_SIZE < r->end)
                add_edge(s, end + PAGE_SIZE);
        }
    }
}

static gpa_t random_gpa(struct sim *s)
{
    if (below(s, 64) == 0)
        return s->edges[below(s, s->nedges)] + below(s, PAGE_SIZE);
    if (s->nmerged && below(s, 16) == 0) {
        unsigned have = s->nmerged < MERGED_RECENT ? s->nmerged : MERGED_RECENT;
        return s->merged[below(s, have)] + below(s, PAGE_SIZE - 8);
    }
    const struct sim_region *r = sim_pick_region(s, false);
    gpa_t g = r->start + below(s, r->end - r->start);
    if (below(s, 32) == 0) /* make page-crossing accesses common */
        g = ALIGN_DOWN(g, PAGE_SIZE) + PAGE_SIZE - 1 - below(s, 7);
    return g;
}

static void step(struct sim *s, struct phase *ph)
{
    uint8_t val[8];
    size_t len = (size_t)1 << below(s, 4);
    uint64_t dice = below(s, 100);
    uint32_t acc = dice < 40 ? ACC_W : dice < 45 ? ACC_X : ACC_R;
    gpa_t g;

    uint64_t v = rnd(s);
    memcpy(val, &v, sizeof(val));
    switch (ph->p) {
    case P_SEQ:
        g = ph->cur;
        ph->cur += len;
        if (ph->cur + len > ph->r->end)
            ph->cur = ph->r->start;
        break;
    case P_STRIDE:
        g = ph->cur;
        ph->cur = ph->r->start +
                  (ph->cur - ph->r->start + ph->stride) % (ph->r->end - ph->r->start);
        if (g + len > ph->r->end)
            g = ph->r->end - len;
        break;
    case P_HOTCOLD:
        g = below(s, 10) ? ph->hot[below(s, HOT_PAGES)] + below(s, PAGE_SIZE)
                         : random_gpa(s);
        break;
    case P_FILL:
        /* Whole pages of one 8-byte value: identical pages to merge. */
        g = ph->cur;
        len = sizeof(uint64_t);
        acc = ACC_W;
        memcpy(val, &ph->fill, sizeof(val));
        ph->cur += len;
        if (IS_ALIGNED(ph->cur, PAGE_SIZE)) {
            ph->cur = sim_random_page(s, ph->r);
            ph->fill = fill_values[below(s, FILL_VALUES)];
        }
        break;
    default:
        g = random_gpa(s);
        break;
    }
    access(s, g, len, acc, val);
}

/* ---- one run per format ------------------------------------------------------ */

static void sim_run(struct sim *s, const struct s2pt_format *fmt, uint64_t seed,
                    uint64_t accesses)
{
    memset(s, 0, sizeof(*s));
    s->fmt = fmt;
    s->seed = seed;
    s->rng = seed ? seed : DEFAULT_SEED;
    s->outside.name = "outside";
    s->outside.kind = SK_GAP;
    s->arena = aligned_alloc(HUGE_2M, ARENA_BYTES);
    /* Host memory is not zero when the hypervisor gets it: a frame used
     * before it is cleared or fully copied over shows garbage. */
    if (s->arena)
        memset(s->arena, ARENA_GARBAGE, ARENA_BYTES);
    if (!s->arena || frame_pool_init(&s->fp, va_hpa(s->arena), ARENA_BYTES) != 0) {
        fprintf(stderr, "sim_mm: cannot set up the frame pool\n");
        exit(2);
    }
    s->free0 = frame_free_count(&s->fp);
    if (mm_init(&s->mm, &s->fp, fmt, true, s->regions, MAX_REGIONS, s->trace,
                TRACE_EVENTS, sim_invalidate, s) != 0) {
        fprintf(stderr, "sim_mm: mm_init failed\n");
        exit(2);
    }
    s->mm.learn_exec = true; /* as the hypervisor runs: execute on first fetch */
    s->nlay = sim_layout_build(s->lay, MAX_REGIONS, seed);
    sim_layout_register(&s->mm, s->lay, s->nlay, &s->dev);
    find_edges(s);

    struct phase ph;
    new_phase(s, &ph);
    for (s->n = 1; s->n <= accesses; s->n++) {
        if (ph.left-- == 0)
            new_phase(s, &ph);
        step(s, &ph);
        sim_background(s);
    }
    sim_full_check(s);

    printf("[%s] %llu accesses (%llu reads, %llu writes, %llu fetches, "
           "%llu split at a page boundary)\n",
           fmt->name, (unsigned long long)s->accesses,
           (unsigned long long)s->reads, (unsigned long long)s->writes,
           (unsigned long long)s->execs, (unsigned long long)s->splits);
    printf("[%s] page accesses: memory %llu, mmio %llu, open-bus %llu, denied %llu\n",
           fmt->name, (unsigned long long)s->hw[HW_MEM],
           (unsigned long long)s->hw[HW_MMIO], (unsigned long long)s->hw[HW_OPEN_BUS],
           (unsigned long long)s->hw[HW_DENIED]);
    printf("[%s] merges %llu (differ %llu, refused %llu, no rmap item %llu), "
           "discards %llu, full checks %llu, frames peak %zu of %zu\n",
           fmt->name, (unsigned long long)s->merges,
           (unsigned long long)s->merge_differ, (unsigned long long)s->merge_refused,
           (unsigned long long)s->merge_nomem, (unsigned long long)s->discards,
           (unsigned long long)s->checks, s->fp.peak_used, s->fp.nframes);
    printf("[%s] tlb hits %llu, invalidations %llu, aged leaves %llu, "
           "stale-TLB faults %llu\n",
           fmt->name, (unsigned long long)s->tlb_hits,
           (unsigned long long)s->tlb_flushes, (unsigned long long)s->aged,
           (unsigned long long)s->stale);
    printf("[%s] faults %llu by resolution:\n", fmt->name,
           (unsigned long long)s->faults);
    mm_render_stats(&s->mm, emit_stdout, NULL);

    mm_destroy(&s->mm);
    if (frame_free_count(&s->fp) != s->free0 || !frame_pool_check(&s->fp))
        sim_fail(s, 0, "mm_destroy left %zu free frames, want %zu",
             frame_free_count(&s->fp), s->free0);
    sim_layout_free(s->lay, s->nlay);
    free(s->arena);
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : DEFAULT_SEED;
    uint64_t accesses = argc > 2 ? strtoull(argv[2], NULL, 0) : DEFAULT_ACCESSES;
    static struct sim ept, npt;

    printf("sim_mm: seed %#llx, %llu accesses per format (rerun: sim_mm %#llx %llu)\n",
           (unsigned long long)seed, (unsigned long long)accesses,
           (unsigned long long)seed, (unsigned long long)accesses);
    sim_run(&ept, &s2pt_format_ept, seed, accesses);
    sim_run(&npt, &s2pt_format_npt, seed, accesses);

    /* The format must not change a single decision. */
    for (unsigned r = 0; r < RES_COUNT; r++)
        if (ept.mm.stats.count[r] != npt.mm.stats.count[r]) {
            fprintf(stderr, "sim_mm: FAIL seed %#llx: fault %s ept %llu npt %llu\n",
                    (unsigned long long)seed, fault_res_name(r),
                    (unsigned long long)ept.mm.stats.count[r],
                    (unsigned long long)npt.mm.stats.count[r]);
            return 1;
        }
    static const enum fault_res must_see[] = {
        RES_ZERO_MAP, RES_ANON_NEW, RES_ANON_HUGE, RES_COW_ZERO, RES_COW_REUSE,
        RES_COW_COPY, RES_FILE_MAP, RES_FILE_COPY, RES_ROM_MAP, RES_PASSTHROUGH,
        RES_MMIO, RES_OPEN_BUS, RES_DENIED, RES_SPURIOUS, RES_REPROTECT,
        RES_EXEC,
    };
    for (size_t i = 0; i < sizeof(must_see) / sizeof(must_see[0]); i++) {
        if (ept.mm.stats.count[must_see[i]] != 0)
            continue;
        /* Short runs may miss a rare resolution; full-length ones must not. */
        fprintf(stderr, "sim_mm: %s seed %#llx: no %s fault happened; the run "
                        "lost coverage\n",
                accesses >= DEFAULT_ACCESSES ? "FAIL" : "warning",
                (unsigned long long)seed, fault_res_name(must_see[i]));
        if (accesses >= DEFAULT_ACCESSES)
            return 1;
    }
    printf("sim_mm: OK (EPT and NPT agree on every resolution count)\n");
    return 0;
}

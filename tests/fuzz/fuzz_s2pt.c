/*
 * libFuzzer target for the stage-2 walker: random map / unmap / protect /
 * split / set_swap / lookup / accessed-bit sequences over the first 2 GiB of
 * guest-physical space, for EPT or NPT (first input byte), checked after
 * every operation against a brute-force model that keeps, per 4 KiB page,
 * the state, hpa, rights, memory type, accessed bit, swap entry and the
 * level of the leaf the page belongs to (the walker's split decisions are
 * part of its contract: they decide -PV_EEXIST and which pages stay huge).
 * Also checked: s2pt_check, frame_pool_check, and that pool frames are
 * exactly the free ones + the table pages + the ones the fuzzer holds.
 * The pool is small, so -PV_ENOMEM paths run too (and must change nothing).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ept/s2pt.h"

/* The model's own loops need no coverage feedback (and dominate otherwise). */
#define NO_COV __attribute__((no_sanitize("coverage"), noinline))

#define RANGE (2 * HUGE_1G)
#define NPAGES (RANGE / PAGE_SIZE)
#define POOL_BYTES (96 * PAGE_SIZE)
#define MAX_HELD 64

enum { M_NONE, M_PRESENT, M_SWAP };

struct mpage {
    uint8_t state, level, rights, mt, accessed;
    uint64_t val; /* hpa (present) or swap entry (swap) */
};

static struct mpage *model;
static uint32_t *chunk_used; /* non-empty model pages per 2 MiB chunk */
static void *arena;
static const struct s2pt_format *fmt;

#define FAIL(...)                                         \
    do {                                                  \
        fprintf(stderr, "fuzz_s2pt(%s): ", fmt->name);    \
        fprintf(stderr, __VA_ARGS__);                     \
        fputc('\n', stderr);                              \
        abort();                                          \
    } while (0)

/* ---- input reading ------------------------------------------------------ */

struct in {
    const uint8_t *p;
    size_t n;
};

NO_COV static uint64_t take(struct in *in, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v = (v << 8) | (in->n ? *in->p : 0);
        if (in->n) {
            in->p++;
            in->n--;
        }
    }
    return v;
}

/* ---- model -------------------------------------------------------------- */

static uint32_t canon_rights(uint32_t r)
{
    r &= ACC_RWX;
    if (fmt == &s2pt_format_ept)
        return (r & ACC_W) ? r | ACC_R : r;
    return r ? r | ACC_R : 0; /* NPT: present means readable */
}

static uint8_t canon_mt(enum memtype mt)
{
    if (fmt == &s2pt_format_npt && (mt == MT_WC || mt == MT_WP))
        return MT_UC;
    return (uint8_t)mt;
}

/* Pages whose hardware-visible translation an op removed or reduced, and
 * the span the invalidation hook was called for during the op. */
static uint64_t need_lo, need_hi;
static gpa_t inv_lo, inv_hi;
static unsigned ninv;

static void on_inv(struct s2pt *pt, enum s2_inv_scope scope, gpa_t gpa,
                   uint64_t size, void *ctx)
{
    (void)pt;
    (void)ctx;
    if (scope == S2_INV_ALL) {
        gpa = 0;
        size = UINT64_MAX;
    }
    if (!ninv++ || gpa < inv_lo)
        inv_lo = gpa;
    if (ninv == 1 || gpa + size > inv_hi)
        inv_hi = gpa + size;
}

NO_COV static void note_change(uint64_t p, const struct mpage *old,
                               const struct mpage *m)
{
    if (old->state != M_PRESENT || old->rights == 0)
        return;
    if (m->state == M_PRESENT && m->val == old->val && m->mt == old->mt &&
        !(old->rights & ~m->rights) && !(old->accessed && !m->accessed))
        return;
    if (need_hi == 0 || p < need_lo)
        need_lo = p;
    if (p + 1 > need_hi)
        need_hi = p + 1;
}

NO_COV static void model_set(uint64_t p, struct mpage m)
{
    note_change(p, &model[p], &m);
    chunk_used[p / PAGES_PER_2M] += (m.state != M_NONE) - (model[p].state != M_NONE);
    model[p] = m;
}

static uint64_t pages_of(int level) { return s2_level_size(level) / PAGE_SIZE; }

/* Split the leaf holding page p once (its pages get level - 1). */
NO_COV static void model_split_once(uint64_t p)
{
    int l = model[p].level;
    uint64_t n = pages_of(l), base = p & ~(n - 1);
    for (uint64_t i = base; i < base + n; i++)
        model[i].level = (uint8_t)(l - 1);
}

/* Split the leaf containing page p until page-edge e is a leaf boundary. */
NO_COV static void model_split_edge(uint64_t p, uint64_t edge_page)
{
    while (model[p].state == M_PRESENT && model[p].level > 1 &&
           (edge_page & (pages_of(model[p].level) - 1)) != 0)
        model_split_once(p);
}

NO_COV static void model_split_to(uint64_t p, int t)
{
    while (model[p].state == M_PRESENT && model[p].level > t)
        model_split_once(p);
}

/* ---- checks ------------------------------------------------------------- */

NO_COV static void check_all(const struct s2pt *pt)
{
    if (!s2pt_check(pt))
        FAIL("s2pt_check failed");
    for (gpa_t g = 0; g < RANGE;) {
        struct s2_info i;
        s2pt_lookup(pt, g, &i);
        uint64_t p = g / PAGE_SIZE;
        if (i.state == S2_NONE) {
            uint64_t span = s2_level_size(i.level);
            gpa_t b = ALIGN_DOWN(g, span);
            if (span == PAGE_SIZE && model[p].state != M_NONE)
                FAIL("page %#llx: table none, model %d",
                     (unsigned long long)p, model[p].state);
            for (uint64_t c = b / HUGE_2M; span >= HUGE_2M && c < (b + span) / HUGE_2M &&
                                           c < NPAGES / PAGES_PER_2M; c++)
                if (chunk_used[c])
                    FAIL("chunk %#llx: table none, model has %u pages",
                         (unsigned long long)c, chunk_used[c]);
            g = b + span;
        } else if (i.state == S2_SWAP) {
            if (model[p].state != M_SWAP || model[p].val != i.swap ||
                i.level != 1 || fmt->is_present(i.raw))
                FAIL("page %#llx: swap %#llx, model %d %#llx",
                     (unsigned long long)p, (unsigned long long)i.swap,
                     model[p].state, (unsigned long long)model[p].val);
            g += PAGE_SIZE;
        } else {
            uint64_t n = i.size / PAGE_SIZE;
            gpa_t b = ALIGN_DOWN(g, i.size);
            if (i.size != s2_level_size(i.level))
                FAIL("size/level mismatch");
            for (uint64_t k = 0; k < n; k++) {
                const struct mpage *m = &model[b / PAGE_SIZE + k];
                if (m->state != M_PRESENT || m->level != i.level ||
                    m->val != i.leaf_hpa + k * PAGE_SIZE ||
                    m->rights != i.rights || m->mt != i.memtype ||
                    m->accessed != i.accessed)
                    FAIL("page %#llx: leaf L%d hpa %#llx r%u mt%u a%d; model "
                         "st%d L%d hpa %#llx r%u mt%u a%d",
                         (unsigned long long)(b / PAGE_SIZE + k), i.level,
                         (unsigned long long)(i.leaf_hpa + k * PAGE_SIZE),
                         i.rights, i.memtype, i.accessed, m->state, m->level,
                         (unsigned long long)m->val, m->rights, m->mt,
                         m->accessed);
            }
            struct s2_info j;
            s2pt_lookup(pt, g + PAGE_SIZE * (n - 1), &j);
            if (j.hpa != i.leaf_hpa + (n - 1) * PAGE_SIZE)
                FAIL("lookup hpa inside leaf");
            g = b + i.size;
        }
    }
}

/* ---- operations --------------------------------------------------------- */

NO_COV static bool range_has_smaller(uint64_t p, uint64_t n, int t)
{
    for (uint64_t q = p; q < p + n; q++)
        if (model[q].state != M_NONE && model[q].level < t)
            return true;
    return false;
}

NO_COV static void op_map(struct s2pt *pt, struct in *in)
{
    uint64_t sel = take(in, 1);
    int t = sel < 160 ? 1 : sel < 250 ? 2 : 3;
    uint64_t npg = pages_of(t);
    uint64_t p = (take(in, 3) % NPAGES) & ~(npg - 1);
    hpa_t hpa = (take(in, 3) << PAGE_SHIFT) & ~(s2_level_size(t) - 1);
    if (take(in, 1) & 1) /* sometimes the same page as now */
        hpa = model[p].state == M_PRESENT && model[p].level == t ? model[p].val : hpa;
    uint32_t r = (uint32_t)take(in, 1) & ACC_RWX;
    static const enum memtype mts[] = {MT_UC, MT_WC, MT_WT, MT_WP, MT_WB};
    enum memtype mt = mts[take(in, 1) % 5];

    size_t nfree = frame_free_count(pt->fp);
    bool was_empty = t == 1 && (model[p].state != M_PRESENT || model[p].rights == 0);
    int rc = s2pt_map(pt, p * PAGE_SIZE, hpa, s2_level_size(t), r, mt);
    if (t > 1 && range_has_smaller(p, npg, t)) {
        if (rc != -PV_EEXIST)
            FAIL("map L%d over smaller entries: rc %d", t, rc);
        return;
    }
    if (rc == -PV_ENOMEM) {
        if (frame_free_count(pt->fp) != nfree)
            FAIL("ENOMEM map changed the pool");
        return;
    }
    if (rc != PV_OK)
        FAIL("map rc %d", rc);
    if (was_empty && ninv)
        FAIL("map into a non-present slot invalidated");
    model_split_to(p, t);
    bool keep_a = model[p].state == M_PRESENT && model[p].level == t &&
                  model[p].val == hpa && model[p].accessed;
    for (uint64_t k = 0; k < npg; k++)
        model_set(p + k, (struct mpage){M_PRESENT, (uint8_t)t, (uint8_t)canon_rights(r),
                                        canon_mt(mt), keep_a, hpa + k * PAGE_SIZE});
}

/* A range of 1..~1024 pages, sometimes large and aligned. */
NO_COV static void take_range(struct in *in, uint64_t *p, uint64_t *n)
{
    uint64_t sel = take(in, 1);
    *p = take(in, 3) % NPAGES;
    if (sel < 200) {
        *n = 1 + take(in, 2) % 1024;
    } else {
        int l = 2 + (int)(sel & 1);
        *p &= ~(pages_of(l) - 1);
        *n = pages_of(l) * (1 + (sel >> 1) % 2);
    }
    if (*p + *n > NPAGES)
        *n = NPAGES - *p;
}

NO_COV static void op_range(struct s2pt *pt, struct in *in, bool unmap)
{
    uint64_t p, n;
    take_range(in, &p, &n);
    uint32_t r = canon_rights((uint32_t)take(in, 1));
    int rc = unmap ? s2pt_unmap(pt, p * PAGE_SIZE, n * PAGE_SIZE)
                   : s2pt_protect(pt, p * PAGE_SIZE, n * PAGE_SIZE, r);
    if (rc == -PV_ENOMEM)
        return; /* check_all verifies nothing changed */
    if (rc != PV_OK)
        FAIL("%s rc %d", unmap ? "unmap" : "protect", rc);
    /* edge splits (protect: only where the rights change) */
    if (unmap || (model[p].state == M_PRESENT && model[p].rights != r))
        model_split_edge(p, p);
    if (p + n < NPAGES &&
        (unmap || (model[p + n].state == M_PRESENT && model[p + n].rights != r)))
        model_split_edge(p + n, p + n);
    for (uint64_t q = p; q < p + n; q++) {
        if (unmap)
            model_set(q, (struct mpage){0});
        else if (model[q].state == M_PRESENT) {
            struct mpage m = model[q];
            m.rights = (uint8_t)r;
            model_set(q, m);
        }
    }
}

NO_COV static void op_split(struct s2pt *pt, struct in *in)
{
    uint64_t p = take(in, 3) % NPAGES;
    int t = (take(in, 1) & 1) ? 2 : 1;
    int rc = s2pt_split(pt, p * PAGE_SIZE, s2_level_size(t));
    if (model[p].state != M_PRESENT) {
        if (rc != -PV_ENOENT)
            FAIL("split of non-leaf rc %d", rc);
        return;
    }
    if (rc == -PV_ENOMEM)
        return;
    if (rc != PV_OK)
        FAIL("split rc %d", rc);
    model_split_to(p, t);
}

NO_COV static void op_swap(struct s2pt *pt, struct in *in)
{
    uint64_t p = take(in, 3) % NPAGES;
    swp_entry_t e = swp_entry((unsigned)take(in, 1), take(in, 5));
    int rc = s2pt_set_swap(pt, p * PAGE_SIZE, e);
    if (rc == -PV_ENOMEM)
        return;
    if (rc != PV_OK)
        FAIL("set_swap rc %d", rc);
    model_split_to(p, 1);
    model_set(p, (struct mpage){M_SWAP, 1, 0, 0, 0, e});
}

/* Set the accessed bit by hand (as hardware would), or test-and-clear it. */
NO_COV static void op_accessed(struct s2pt *pt, struct in *in)
{
    uint64_t p = take(in, 3) % NPAGES;
    bool set = take(in, 1) & 1;
    struct s2_info i;
    s2pt_lookup(pt, p * PAGE_SIZE, &i);
    uint64_t n = i.state == S2_PRESENT ? pages_of(i.level) : 1;
    uint64_t b = p & ~(n - 1);
    if (set) {
        if (i.state != S2_PRESENT)
            return;
        /* find the entry: walk with the format's addr() */
        hpa_t table = pt->root;
        uint64_t *e = NULL;
        for (int l = S2_LEVELS; l >= i.level; l--) {
            e = (uint64_t *)hpa_va(table) +
                ((p * PAGE_SIZE >> (PAGE_SHIFT + S2_INDEX_BITS * (l - 1))) & 511);
            table = fmt->addr(*e, l);
        }
        *e |= fmt->accessed_bit;
        for (uint64_t q = b; q < b + n; q++)
            model[q].accessed = 1;
        return;
    }
    uint64_t inv = pt->invalidations;
    bool got = s2pt_test_and_clear_accessed(pt, p * PAGE_SIZE);
    bool want = model[p].state == M_PRESENT && model[p].accessed;
    if (got != want)
        FAIL("test_and_clear_accessed %d, model %d", got, want);
    if (want) {
        for (uint64_t q = b; q < b + n; q++)
            model[q].accessed = 0;
        if (model[p].rights && pt->invalidations != inv + 1)
            FAIL("no invalidation after clearing A");
    }
}

/* ---- driver ------------------------------------------------------------- */

NO_COV static void model_reset(void)
{
    for (size_t c = 0; c < NPAGES / PAGES_PER_2M; c++) {
        if (chunk_used[c]) /* empty pages' other fields are never read */
            memset(&model[c * PAGES_PER_2M], 0, PAGES_PER_2M * sizeof(*model));
        chunk_used[c] = 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!model) {
        model = calloc(NPAGES, sizeof(*model));
        chunk_used = calloc(NPAGES / PAGES_PER_2M, sizeof(*chunk_used));
        arena = aligned_alloc(PAGE_SIZE, POOL_BYTES);
    }
    model_reset();
    struct in in = {data + 1, size - 1};
    fmt = (data[0] & 1) ? &s2pt_format_npt : &s2pt_format_ept;

    struct frame_pool fp;
    if (frame_pool_init(&fp, va_hpa(arena), POOL_BYTES) != PV_OK)
        abort();
    size_t base_free = frame_free_count(&fp);
    struct s2pt pt;
    if (s2pt_init(&pt, fmt, &fp, true, on_inv, NULL) != PV_OK)
        abort();
    struct frame *held[MAX_HELD];
    size_t nheld = 0;

    for (int ops = 0; in.n > 0 && ops < 64; ops++) {
        need_lo = need_hi = 0;
        ninv = 0;
        switch (take(&in, 1) % 10) {
        case 0: case 1: case 2: op_map(&pt, &in); break;
        case 3: op_range(&pt, &in, true); break;
        case 4: op_range(&pt, &in, false); break;
        case 5: op_split(&pt, &in); break;
        case 6: op_swap(&pt, &in); break;
        case 7: op_accessed(&pt, &in); break;
        case 8: /* squeeze the pool */
            if (nheld < MAX_HELD && (held[nheld] = frame_alloc(&fp, FRAME_GUEST)))
                nheld++;
            break;
        case 9:
            if (nheld)
                frame_put(&fp, held[--nheld]);
            break;
        }
        check_all(&pt);
        if (need_hi && (!ninv || inv_lo > need_lo * PAGE_SIZE ||
                        inv_hi < need_hi * PAGE_SIZE))
            FAIL("pages %#llx..%#llx lost rights without invalidation "
                 "(%u calls, %#llx..%#llx)", (unsigned long long)need_lo,
                 (unsigned long long)need_hi, ninv, (unsigned long long)inv_lo,
                 (unsigned long long)inv_hi);
        if (frame_free_count(&fp) + pt.tables + nheld != base_free)
            FAIL("pool accounting: free %zu tables %llu held %zu base %zu",
                 frame_free_count(&fp), (unsigned long long)pt.tables, nheld,
                 base_free);
        if (!frame_pool_check(&fp))
            FAIL("frame_pool_check");
    }
    s2pt_destroy(&pt);
    while (nheld)
        frame_put(&fp, held[--nheld]);
    if (frame_free_count(&fp) != base_free || !frame_pool_check(&fp))
        FAIL("pool not restored after destroy");
    return 0;
}

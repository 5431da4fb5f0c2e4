/*
 * Brute-force reference model of a region set, shared by tests/unit/test_region.c
 * and tests/fuzz/fuzz_region.c: one record per page of a small window of the
 * guest-physical space (the page's owner attributes and its backing as seen
 * from that page). The expected regions are the maximal runs of pages that
 * region_insert's merge rule would join, because insert always merges and
 * remove never makes two compatible regions adjacent.
 *
 * Checkers return NULL when the set agrees with the model, else a message.
 */
#ifndef PV_TESTS_REGION_MODEL_H
#define PV_TESTS_REGION_MODEL_H

#include "ept/region.h"

#include <string.h>

#define RM_MAX_PAGES 256

struct rm_page {
    bool used;
    uint32_t rights;
    enum region_kind kind;
    const char *name;
    struct region_backing b; /* backing addressed from this page */
};

struct rm {
    gpa_t base; /* address of page 0 */
    size_t npages;
    struct rm_page pg[RM_MAX_PAGES];
};

static inline void rm_init(struct rm *m, gpa_t base, size_t npages)
{
    memset(m, 0, sizeof(*m));
    m->base = base;
    m->npages = npages;
}

static inline gpa_t rm_addr(const struct rm *m, size_t p)
{
    return m->base + (gpa_t)p * PAGE_SIZE;
}

static inline gpa_t rm_limit(const struct rm *m)
{
    return rm_addr(m, m->npages);
}

static inline bool rm_same_name(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The backing as seen delta bytes past the address b is seen from. */
static inline struct region_backing rm_advance(enum region_kind kind,
                                               struct region_backing b,
                                               uint64_t delta)
{
    if (kind == REGION_FILE_PRIVATE || kind == REGION_ROM)
        b.image.offset += delta;
    else if (kind == REGION_PASSTHROUGH)
        b.host.hpa += delta;
    return b;
}

/* Same backing, comparing only the members the kind gives meaning to. */
static inline bool rm_same_backing(enum region_kind kind,
                                   const struct region_backing *a,
                                   const struct region_backing *b)
{
    switch (kind) {
    case REGION_FILE_PRIVATE:
    case REGION_ROM:
        return a->image.data == b->image.data &&
               a->image.offset == b->image.offset &&
               a->image.size == b->image.size;
    case REGION_PASSTHROUGH:
        return a->host.hpa == b->host.hpa && a->host.memtype == b->host.memtype;
    case REGION_MMIO_EMULATED:
        return a->mmio.dev == b->mmio.dev && a->mmio.ctx == b->mmio.ctx;
    default:
        return true;
    }
}

/* Would a region holding page a and one holding the next page b be merged? */
static inline bool rm_page_compat(const struct rm_page *a, const struct rm_page *b)
{
    if (!a->used || !b->used || a->kind != b->kind || a->rights != b->rights ||
        !rm_same_name(a->name, b->name))
        return false;
    struct region_backing next = rm_advance(a->kind, a->b, PAGE_SIZE);
    return rm_same_backing(a->kind, &next, &b->b);
}

/* Maximal run [*s, *e) of pages containing used page p. */
static inline void rm_run(const struct rm *m, size_t p, size_t *s, size_t *e)
{
    size_t a = p, b = p + 1;
    while (a > 0 && rm_page_compat(&m->pg[a - 1], &m->pg[a]))
        a--;
    while (b < m->npages && rm_page_compat(&m->pg[b - 1], &m->pg[b]))
        b++;
    *s = a;
    *e = b;
}

static inline size_t rm_runs(const struct rm *m)
{
    size_t n = 0;
    for (size_t p = 0; p < m->npages; p++)
        if (m->pg[p].used && (p == 0 || !rm_page_compat(&m->pg[p - 1], &m->pg[p])))
            n++;
    return n;
}

static inline struct rm_page rm_make(uint32_t rights, enum region_kind kind,
                                     const struct region_backing *b,
                                     const char *name)
{
    struct rm_page pg;
    memset(&pg, 0, sizeof(pg));
    pg.used = true;
    pg.rights = rights;
    pg.kind = kind;
    pg.name = name;
    if (b)
        pg.b = *b;
    return pg;
}

/*
 * Expected result of region_insert for pages [sp, ep) of the window, given
 * how many descriptors are free; applies it to the model when it succeeds.
 */
static inline int rm_insert(struct rm *m, size_t sp, size_t ep, uint32_t rights,
                            enum region_kind kind, const struct region_backing *b,
                            const char *name, size_t nfree)
{
    for (size_t p = sp; p < ep; p++)
        if (m->pg[p].used)
            return -PV_EEXIST;
    struct rm_page first = rm_make(rights, kind, b, name), last = first;
    last.b = rm_advance(kind, first.b, (ep - sp - 1) * PAGE_SIZE);
    bool join = (sp > 0 && rm_page_compat(&m->pg[sp - 1], &first)) ||
                (ep < m->npages && rm_page_compat(&last, &m->pg[ep]));
    if (!join && nfree == 0)
        return -PV_ENOMEM;
    for (size_t p = sp; p < ep; p++) {
        m->pg[p] = first;
        m->pg[p].b = rm_advance(kind, first.b, (p - sp) * PAGE_SIZE);
    }
    return 0;
}

/* Expected result of region_remove for pages [sp, ep); applied on success. */
static inline int rm_remove(struct rm *m, size_t sp, size_t ep, size_t nfree)
{
    if (sp > 0 && ep < m->npages && m->pg[sp - 1].used) {
        size_t s, e;
        rm_run(m, sp - 1, &s, &e);
        if (e > ep && nfree == 0)
            return -PV_ENOMEM; /* one region contains the range: needs a split */
    }
    for (size_t p = sp; p < ep; p++)
        m->pg[p].used = false;
    return 0;
}

/* Does the set hold exactly the model's runs, with the model's attributes? */
static inline const char *rm_compare(const struct rm *m, const struct region_set *set)
{
    size_t n = 0, covered = 0;
    for (const struct region *r = region_first(set); r; r = region_next(set, r)) {
        if (++n > set->count)
            return "iteration longer than count";
        if (r->start < m->base || r->end > rm_limit(m))
            return "region outside the model window";
        size_t sp = (size_t)((r->start - m->base) / PAGE_SIZE);
        size_t ep = (size_t)((r->end - m->base) / PAGE_SIZE);
        size_t s, e;
        if (!m->pg[sp].used)
            return "region over pages the model has free";
        rm_run(m, sp, &s, &e);
        if (s != sp || e != ep)
            return "region is not a maximal run (missed or wrong merge)";
        for (size_t p = sp; p < ep; p++) {
            const struct rm_page *pg = &m->pg[p];
            struct region_backing b =
                rm_advance(r->kind, r->backing, (p - sp) * PAGE_SIZE);
            if (pg->rights != r->rights || pg->kind != r->kind ||
                !rm_same_name(pg->name, r->name) ||
                !rm_same_backing(r->kind, &pg->b, &b))
                return "region attributes differ from the model";
        }
        covered += ep - sp;
    }
    size_t used = 0;
    for (size_t p = 0; p < m->npages; p++)
        used += m->pg[p].used;
    if (used != covered)
        return "model pages not covered by any region";
    if (n != set->count || n != rm_runs(m))
        return "region count differs from the model";
    return NULL;
}

/* Model region_find: [*s, *e) pages of the first run ending above addr. */
static inline bool rm_find(const struct rm *m, gpa_t addr, size_t *s, size_t *e)
{
    for (size_t p = 0; p < m->npages; p++) {
        if (m->pg[p].used && rm_addr(m, p + 1) > addr) {
            rm_run(m, p, s, e);
            return true;
        }
    }
    return false;
}

static inline bool rm_is_run(const struct rm *m, const struct region *r,
                             size_t s, size_t e)
{
    return r && r->start == rm_addr(m, s) && r->end == rm_addr(m, e);
}

/* region_find / region_lookup / region_find_intersection at addr..addr+len. */
static inline const char *rm_check_queries(const struct rm *m,
                                           const struct region_set *set,
                                           gpa_t addr, uint64_t len)
{
    size_t s, e;
    bool hit = rm_find(m, addr, &s, &e);
    const struct region *r = region_find(set, addr);
    if (hit ? !rm_is_run(m, r, s, e) : r != NULL)
        return "region_find differs from the model";

    bool inside = hit && rm_addr(m, s) <= addr;
    r = region_lookup(set, addr);
    if (inside ? !rm_is_run(m, r, s, e) : r != NULL)
        return "region_lookup differs from the model";

    gpa_t end = addr + len < addr ? UINT64_MAX : addr + len;
    bool meets = hit && len > 0 && rm_addr(m, s) < end;
    r = region_find_intersection(set, addr, end);
    if (meets ? !rm_is_run(m, r, s, e) : r != NULL)
        return "region_find_intersection differs from the model";
    return NULL;
}

/* Are all model pages meeting [a, a + size) free? (a + size must not wrap) */
static inline bool rm_free_range(const struct rm *m, gpa_t a, uint64_t size)
{
    for (size_t p = 0; p < m->npages; p++)
        if (m->pg[p].used && rm_addr(m, p) < a + size && rm_addr(m, p + 1) > a)
            return false;
    return true;
}

/* Model region_find_gap for a valid size/align; lo must not lie far below base. */
static inline int rm_find_gap(const struct rm *m, uint64_t size, uint64_t align,
                              gpa_t lo, gpa_t hi, gpa_t *out)
{
    if (lo > UINT64_MAX - (align - 1))
        return -PV_ENOENT;
    for (gpa_t g = ALIGN_UP(lo, align);; g += align) {
        if (g >= hi || hi - g < size)
            return -PV_ENOENT;
        if (rm_free_range(m, g, size)) {
            *out = g;
            return 0;
        }
        if (g > UINT64_MAX - align)
            return -PV_ENOENT;
    }
}

static inline const char *rm_check_gap(const struct rm *m,
                                       const struct region_set *set,
                                       uint64_t size, uint64_t align,
                                       gpa_t lo, gpa_t hi)
{
    gpa_t want = 0, got = 0;
    int rc_want = rm_find_gap(m, size, align, lo, hi, &want);
    int rc_got = region_find_gap(set, size, align, lo, hi, &got);
    if (rc_want != rc_got)
        return "region_find_gap result code differs from the model";
    if (rc_got == 0 && want != got)
        return "region_find_gap address differs from the model";
    return NULL;
}

/* ---- an operation interpreter over a byte string (fuzzer and random test) */

#define RM_MAX_POOL 64

struct rm_harness {
    struct rm m;
    struct region_set set;
    struct region pool[RM_MAX_POOL];
    /* how often each outcome was seen, so tests can show they were reached */
    size_t inserted, merged, bridged, eexist, enomem_insert, removed, split,
        enomem_remove, einval, gap_found, gap_none;
};

/*
 * cfg picks the window base (bit 0: low, or just under the top of the
 * 64-bit space so wrap-around paths get exercised) and the pool size.
 */
static inline void rm_harness_setup(struct rm_harness *h, bool top,
                                    size_t npages, size_t cap)
{
    memset(h, 0, sizeof(*h));
    rm_init(&h->m, top ? 0 - (gpa_t)(npages + 1) * PAGE_SIZE : 0, npages);
    region_set_init(&h->set, h->pool, cap);
}

static inline void rm_harness_init(struct rm_harness *h, uint8_t cfg)
{
    rm_harness_setup(h, cfg & 1, 64 + (size_t)(cfg >> 2) % (RM_MAX_PAGES - 64 + 1),
                     1 + (size_t)(cfg >> 1) % RM_MAX_POOL);
}

static const char rm_name_copy[] = "ram"; /* equal text, different pointer */
static const char *const rm_names[4] = { "ram", rm_name_copy, "rom", NULL };
static const uint32_t rm_rights[4] = { ACC_R, ACC_RW, ACC_RX, ACC_RWX };
static char rm_ctx[2];

static inline struct region_backing rm_backing(size_t sp, uint8_t sel)
{
    struct region_backing b;
    uint64_t shift = (sp + sel % 3) * PAGE_SIZE; /* same sel: continuous */
    memset(&b, 0, sizeof(b));
    b.image.data = (sel & 4) ? 0x200000 : 0x400000;
    b.image.offset = shift;
    b.image.size = 0x100000;
    b.host.hpa = 0x100000000ull + shift;
    b.host.memtype = (sel & 8) ? MT_UC : MT_WB;
    b.mmio.dev = (sel >> 4) & 1;
    b.mmio.ctx = &rm_ctx[(sel >> 5) & 1];
    return b;
}

static inline size_t rm_nfree(const struct rm_harness *h)
{
    return h->set.pool_cap - h->set.count;
}

static inline const char *rm_op_insert(struct rm_harness *h, const uint8_t *a)
{
    size_t np = h->m.npages, sp = a[1] % np, ep = 0;
    const struct rm_page *pg = h->m.pg;
    size_t mode = (a[2] >> 4) & 3, p = sp;
    if (mode == 1) {
        /* start right after the next region, to merge left */
        while (p < np && !(p > 0 && pg[p - 1].used && !pg[p].used))
            p++;
        sp = p < np ? p : sp;
    } else if (mode == 2) {
        /* exactly the next hole between regions, to bridge */
        while (p < np && !(p > 0 && pg[p - 1].used && !pg[p].used))
            p++;
        size_t e = p;
        while (e < np && !pg[e].used)
            e++;
        if (p < np && e < np)
            sp = p, ep = e;
    }
    if (mode != 2 || ep <= sp) {
        ep = sp + 1 + a[2] % 16;
        if (ep > np)
            ep = np;
    }
    uint32_t rights = rm_rights[(a[3] >> 3) & 3];
    enum region_kind kind = (enum region_kind)(a[3] % REGION_KIND_COUNT);
    const char *name = rm_names[(a[3] >> 5) & 3];
    uint8_t bsel = a[4];
    if (a[4] & 0xc0) {
        /* usually one of a few fixed attribute sets, so neighbours merge */
        kind = (enum region_kind)(a[3] % REGION_KIND_COUNT);
        rights = kind == REGION_ANON ? ACC_RW : ACC_RX;
        name = rm_names[(a[3] >> 5) & 1];
        bsel = 0;
    }
    struct region_backing b = rm_backing(sp, bsel);
    size_t before = h->set.count;
    int want = rm_insert(&h->m, sp, ep, rights, kind, &b, name, rm_nfree(h));
    struct region *out = NULL;
    int got = region_insert(&h->set, rm_addr(&h->m, sp), rm_addr(&h->m, ep),
                            rights, kind, &b, name, &out);
    if (got != want)
        return "region_insert result differs from the model";
    if (got == 0) {
        if (!out || out != region_lookup(&h->set, rm_addr(&h->m, sp)) ||
            out->end < rm_addr(&h->m, ep))
            return "region_insert *out does not cover the range";
        h->inserted++;
        h->merged += h->set.count <= before;
        h->bridged += h->set.count < before;
    }
    h->eexist += got == -PV_EEXIST;
    h->enomem_insert += got == -PV_ENOMEM;
    return NULL;
}

static inline const char *rm_op_remove(struct rm_harness *h, const uint8_t *a)
{
    size_t np = h->m.npages, sp = a[1] % np, ep = sp + 1 + a[2] % 32;
    if (ep > np)
        ep = np;
    size_t before = h->set.count;
    int want = rm_remove(&h->m, sp, ep, rm_nfree(h));
    int got = region_remove(&h->set, rm_addr(&h->m, sp), rm_addr(&h->m, ep));
    if (got != want)
        return "region_remove result differs from the model";
    h->removed += got == 0;
    h->split += got == 0 && h->set.count > before;
    h->enomem_remove += got == -PV_ENOMEM;
    return NULL;
}

static inline const char *rm_op_query(struct rm_harness *h, const uint8_t *a)
{
    static const uint64_t offs[4] = { 0, 1, PAGE_SIZE - 1, PAGE_SIZE / 2 };
    gpa_t addr = rm_addr(&h->m, a[1] % (h->m.npages + 2)) + offs[a[2] & 3];
    if ((a[2] & 0x1c) == 0x1c)
        addr = (a[2] & 0x20) ? UINT64_MAX : 0;
    uint64_t lens[4] = { 0, 1, PAGE_SIZE * (a[3] % 8), UINT64_MAX };
    return rm_check_queries(&h->m, &h->set, addr, lens[(a[3] >> 6) & 3]);
}

static inline const char *rm_op_gap(struct rm_harness *h, const uint8_t *a)
{
    uint64_t size = (1 + a[1] % 8) * PAGE_SIZE - ((a[1] & 0x80) ? 1 : 0);
    uint64_t align = PAGE_SIZE << (a[2] % 5);
    gpa_t lo = rm_addr(&h->m, a[3] % (h->m.npages + 1)) + ((a[3] & 0x80) ? 0x123 : 0);
    uint64_t span = (uint64_t)(a[4] % (h->m.npages + 1)) * PAGE_SIZE;
    gpa_t hi = (a[4] == 0xff || lo + span < lo) ? UINT64_MAX : lo + span;
    const char *err = rm_check_gap(&h->m, &h->set, size, align, lo, hi);
    gpa_t g;
    if (!err && region_find_gap(&h->set, size, align, lo, hi, &g) == 0)
        h->gap_found++;
    else
        h->gap_none++;
    return err;
}

/* Malformed requests must fail with -PV_EINVAL and change nothing. */
static inline const char *rm_op_invalid(struct rm_harness *h, const uint8_t *a)
{
    gpa_t s = rm_addr(&h->m, a[1] % h->m.npages);
    struct region_backing b = rm_backing(0, 0);
    int rc;
    switch (a[2] % 6) {
    case 0: rc = region_insert(&h->set, s + 0x10, s + PAGE_SIZE, ACC_R, REGION_ANON, &b, NULL, NULL); break;
    case 1: rc = region_insert(&h->set, s, s, ACC_R, REGION_ANON, &b, NULL, NULL); break;
    case 2: rc = region_insert(&h->set, s, s + PAGE_SIZE, ACC_R, REGION_KIND_COUNT, &b, NULL, NULL); break;
    case 3: rc = region_remove(&h->set, s, s + 0x800); break;
    case 4: rc = region_remove(&h->set, s, s); break;
    default: rc = region_find_gap(&h->set, PAGE_SIZE, 3 * PAGE_SIZE, s, UINT64_MAX, &s); break;
    }
    if (rc != -PV_EINVAL)
        return "malformed request not refused with -PV_EINVAL";
    h->einval++;
    return NULL;
}

#define RM_OP_BYTES 5

/* Run one operation from a[0..RM_OP_BYTES) and check everything afterwards. */
static inline const char *rm_step(struct rm_harness *h, const uint8_t *a)
{
    const char *err;
    switch (a[0] % 10) {
    case 0: case 1: case 2: case 3: err = rm_op_insert(h, a); break;
    case 4: case 5: err = rm_op_remove(h, a); break;
    case 6: case 7: err = rm_op_query(h, a); break;
    case 8: err = rm_op_gap(h, a); break;
    default: err = rm_op_invalid(h, a); break;
    }
    if (err)
        return err;
    if (!region_set_check(&h->set))
        return "region_set_check failed";
    return rm_compare(&h->m, &h->set);
}

#endif

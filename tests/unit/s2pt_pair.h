/*
 * Test fixture for the stage-2 fast-path tests (test_s2pt_slot.c): two
 * tables of one format in two pools, "a" driven through s2pt_lookup_slot +
 * s2pt_install_at and "b" through s2pt_map, with counting invalidation
 * hooks, and helpers that run one operation on both and compare the tables
 * entry by entry (table entries up to the table address: the pools differ).
 *
 * Frames a test takes out of a pool (hold) are filled with a pattern that
 * is checked when they go back (release): a write through a stale slot into
 * a page that is no longer a table shows up there. Include after <cmocka.h>.
 */
#ifndef PV_TESTS_UNIT_S2PT_PAIR_H
#define PV_TESTS_UNIT_S2PT_PAIR_H

#include <stdlib.h>
#include <string.h>

#include "ept/s2pt.h"

#define PAIR_MAX_CALLS 16
#define PAIR_HELD_MAX 512
#define PAIR_PATTERN 0xa5

struct inv_call {
    enum s2_inv_scope scope;
    gpa_t gpa;
    uint64_t size;
};

struct fix {
    const struct s2pt_format *fmt;
    void *mem;
    struct frame_pool fp;
    struct s2pt pt;
    struct inv_call calls[PAIR_MAX_CALLS];
    size_t ncalls;
    struct frame *held[PAIR_HELD_MAX]; /* frames kept out of the pool */
    size_t nheld;
};

struct pair {
    struct fix *a; /* driven through lookup_slot + install_at */
    struct fix *b; /* driven through s2pt_map */
};

static inline void on_inv(struct s2pt *pt, enum s2_inv_scope scope, gpa_t gpa,
                          uint64_t size, void *ctx)
{
    struct fix *f = ctx;
    assert_ptr_equal(pt, &f->pt);
    if (f->ncalls < PAIR_MAX_CALLS)
        f->calls[f->ncalls] = (struct inv_call){scope, gpa, size};
    f->ncalls++;
}

static inline struct fix *fix_new(const struct s2pt_format *fmt,
                                  uint64_t pool)
{
    struct fix *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->fmt = fmt;
    f->mem = aligned_alloc(PAGE_SIZE, pool);
    assert_non_null(f->mem);
    assert_int_equal(frame_pool_init(&f->fp, va_hpa(f->mem), pool), PV_OK);
    assert_int_equal(s2pt_init(&f->pt, fmt, &f->fp, true, on_inv, f), PV_OK);
    return f;
}

/* Keep all but keep free frames out of the pool, filled with PAIR_PATTERN. */
static inline void hold(struct fix *f, size_t keep)
{
    while (frame_free_count(&f->fp) > keep) {
        assert_true(f->nheld < PAIR_HELD_MAX);
        struct frame *fr = frame_alloc(&f->fp, FRAME_GUEST);
        assert_non_null(fr);
        memset(frame_va(&f->fp, fr), PAIR_PATTERN, PAGE_SIZE);
        f->held[f->nheld++] = fr;
    }
}

/* Give held frames back; each must still hold the pattern. */
static inline void release(struct fix *f)
{
    static uint8_t pat[PAGE_SIZE];
    memset(pat, PAIR_PATTERN, sizeof(pat));
    while (f->nheld > 0) {
        struct frame *fr = f->held[--f->nheld];
        if (memcmp(frame_va(&f->fp, fr), pat, PAGE_SIZE) != 0)
            fail_msg("held frame %#llx written (stale slot?)",
                     (unsigned long long)frame_hpa(&f->fp, fr));
        frame_put(&f->fp, fr);
    }
}

static inline void fix_free(struct fix *f)
{
    release(f);
    s2pt_destroy(&f->pt);
    assert_int_equal(frame_used_count(&f->fp), 1); /* the zero frame */
    assert_true(frame_pool_check(&f->fp));
    free(f->mem);
    free(f);
}

static inline struct pair *pair_new(const struct s2pt_format *fmt,
                                    uint64_t pool)
{
    struct pair *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    p->a = fix_new(fmt, pool);
    p->b = fix_new(fmt, pool);
    return p;
}

static inline void pair_free(struct pair *p)
{
    fix_free(p->a);
    fix_free(p->b);
    free(p);
}

/* ---- comparing the two tables ------------------------------------------- */

static inline bool is_table(const struct s2pt_format *fmt, uint64_t e,
                            int level)
{
    return level > 1 && fmt->is_present(e) && !fmt->is_leaf(e, level);
}

/* Same entries everywhere; table entries differ only in the table address
 * (the two tables live in different pools). */
static inline void same_tree(const struct s2pt_format *fmt, hpa_t ta,
                             hpa_t tb, int level, gpa_t base)
{
    const uint64_t *a = hpa_va(ta), *b = hpa_va(tb);
    if (memcmp(a, b, PAGE_SIZE) == 0)
        return; /* the common case for a PT, and cheap */
    for (unsigned i = 0; i < S2_ENTRIES; i++) {
        if (a[i] == b[i])
            continue; /* the same leaf, swap entry or nothing (two pools:
                         table entries always differ) */
        gpa_t g = base + i * s2_level_size(level);
        if (!is_table(fmt, a[i], level) || !is_table(fmt, b[i], level) ||
            (a[i] & ~fmt->addr_mask) != (b[i] & ~fmt->addr_mask))
            fail_msg("gpa %#llx level %d: slot path %#llx, map path %#llx",
                     (unsigned long long)g, level, (unsigned long long)a[i],
                     (unsigned long long)b[i]);
        same_tree(fmt, a[i] & fmt->addr_mask, b[i] & fmt->addr_mask, level - 1,
                  g);
    }
}

/* b only changes through s2pt_map and friends (test_s2pt covers them):
 * its check runs every PAIR_CHECK_B_EVERY comparisons, a's on every one. */
#define PAIR_CHECK_B_EVERY 16

static inline void same_state(const struct pair *p)
{
    static unsigned n;
    const struct fix *a = p->a, *b = p->b;
    same_tree(a->fmt, a->pt.root, b->pt.root, S2_LEVELS, 0);
    assert_int_equal(a->pt.tables, b->pt.tables);
    assert_int_equal(a->pt.invalidations, b->pt.invalidations);
    assert_int_equal(a->ncalls, b->ncalls);
    for (size_t i = 0; i < a->ncalls && i < PAIR_MAX_CALLS; i++) {
        assert_int_equal(a->calls[i].scope, b->calls[i].scope);
        assert_true(a->calls[i].gpa == b->calls[i].gpa);
        assert_true(a->calls[i].size == b->calls[i].size);
    }
    assert_true(s2pt_check(&a->pt));
    if (++n % PAIR_CHECK_B_EVERY == 0)
        assert_true(s2pt_check(&b->pt));
}

static inline void reset_calls(struct pair *p)
{
    p->a->ncalls = 0;
    p->b->ncalls = 0;
}

static inline int agree(struct pair *p, int ra, int rb)
{
    assert_int_equal(ra, rb);
    same_state(p);
    return ra;
}

/* The same table operation on both tables: same result, same state. */
#define ON_BOTH(p, fn, ...)                                                     \
    (reset_calls(p),                                                            \
     agree((p), fn(&(p)->a->pt, __VA_ARGS__), fn(&(p)->b->pt, __VA_ARGS__)))

static inline void same_info(const struct s2_info *x, const struct s2_info *y)
{
    assert_int_equal(x->state, y->state);
    assert_int_equal(x->level, y->level);
    assert_true(x->size == y->size);
    assert_true(x->leaf_hpa == y->leaf_hpa);
    assert_true(x->hpa == y->hpa);
    assert_int_equal(x->rights, y->rights);
    assert_int_equal(x->memtype, y->memtype);
    assert_int_equal(x->accessed, y->accessed);
    assert_int_equal(x->dirty, y->dirty);
    assert_true(x->swap == y->swap);
    assert_true(x->raw == y->raw);
}

/* The entry deciding gpa (leaf, swap entry or empty slot), found with the
 * format's reference ops. */
static inline uint64_t *entry(struct fix *f, gpa_t gpa, int *level_out)
{
    hpa_t table = f->pt.root;
    for (int l = S2_LEVELS;; l--) {
        unsigned idx = (gpa >> (PAGE_SHIFT + S2_INDEX_BITS * (l - 1))) &
                       (S2_ENTRIES - 1);
        uint64_t *e = (uint64_t *)hpa_va(table) + idx;
        if (!is_table(f->fmt, *e, l)) {
            if (level_out)
                *level_out = l;
            return e;
        }
        table = *e & f->fmt->addr_mask;
    }
}

/* A fault's lookup: a with a slot, b plain; a's slot lookup must report
 * what s2pt_lookup reports on a, and that must match b. */
static inline struct s2_slot look_both(struct pair *p, gpa_t gpa,
                                       struct s2_info *out)
{
    struct s2_info ia, ia2, ib;
    struct s2_slot s;
    memset(&s, 0x5a, sizeof(s));
    assert_int_equal(s2pt_lookup_slot(&p->a->pt, gpa, &ia, &s), 0);
    assert_int_equal(s2pt_lookup(&p->a->pt, gpa, &ia2), 0);
    assert_int_equal(s2pt_lookup(&p->b->pt, gpa, &ib), 0);
    same_info(&ia, &ia2);
    same_info(&ia, &ib);
    if (out)
        *out = ia;
    return s;
}

/* A fault's install: install_at on a, s2pt_map on b. */
static inline int install_both(struct pair *p, const struct s2_slot *s,
                               gpa_t gpa, hpa_t hpa, uint32_t rights,
                               enum memtype mt)
{
    reset_calls(p);
    int ra = s2pt_install_at(&p->a->pt, s, gpa, hpa, rights, mt);
    int rb = s2pt_map(&p->b->pt, gpa, hpa, PAGE_SIZE, rights, mt);
    return agree(p, ra, rb);
}

/* As the hardware would: set A/D bits in the leaf for gpa, on both. */
static inline void hw_set_ad(struct pair *p, gpa_t gpa, uint64_t bits)
{
    struct fix *fs[2] = {p->a, p->b};
    for (int k = 0; k < 2; k++) {
        int level;
        uint64_t *e = entry(fs[k], gpa, &level);
        if (fs[k]->fmt->is_leaf(*e, level))
            *e |= bits;
    }
}

static inline uint64_t ad_bits(const struct fix *f)
{
    return f->fmt->ad_capable ? f->fmt->accessed_bit | f->fmt->dirty_bit : 0;
}

static inline void expect_calls(const struct pair *p, size_t n, gpa_t gpa,
                                uint64_t size)
{
    assert_int_equal(p->a->ncalls, n);
    if (n == 1) {
        assert_int_equal(p->a->calls[0].scope, S2_INV_RANGE);
        assert_true(p->a->calls[0].gpa == gpa && p->a->calls[0].size == size);
    }
}

#endif

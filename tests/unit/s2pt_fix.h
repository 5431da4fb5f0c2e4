/*
 * Fixture shared by the stage-2 walker tests (tests/unit/test_s2pt.c and
 * tests/unit/test_s2pt_more.c, one binary): a frame pool and a table of the
 * format given as the test's prestate, the invalidation calls it made, and
 * helpers that state the expected raw entries.
 */
#ifndef PV_TESTS_S2PT_FIX_H
#define PV_TESTS_S2PT_FIX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ept/s2pt.h"
#include "ept/s2pt_ept.h"
#include "ept/s2pt_npt.h"

#define POOL_SIZE (8 * HUGE_2M)

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
    size_t free_before_pt; /* pool free count before s2pt_init */
    struct inv_call calls[16];
    size_t ncalls;
};

static inline void on_inv(struct s2pt *pt, enum s2_inv_scope scope, gpa_t gpa,
                   uint64_t size, void *ctx)
{
    struct fix *f = ctx;
    assert_ptr_equal(pt, &f->pt);
    if (f->ncalls < 16)
        f->calls[f->ncalls] = (struct inv_call){scope, gpa, size};
    f->ncalls++;
}

static inline struct fix *fix_new(const struct s2pt_format *fmt, uint64_t pool,
                           bool use_ad)
{
    struct fix *f = calloc(1, sizeof(*f));
    f->fmt = fmt;
    f->mem = aligned_alloc(PAGE_SIZE, pool);
    assert_int_equal(frame_pool_init(&f->fp, va_hpa(f->mem), pool), PV_OK);
    f->free_before_pt = frame_free_count(&f->fp);
    assert_int_equal(s2pt_init(&f->pt, fmt, &f->fp, use_ad, on_inv, f), PV_OK);
    return f;
}

static inline void fix_free(struct fix *f)
{
    s2pt_destroy(&f->pt);
    assert_int_equal(frame_free_count(&f->fp), f->free_before_pt);
    assert_true(frame_pool_check(&f->fp));
    free(f->mem);
    free(f);
}

static inline int setup(void **state)
{
    *state = fix_new(*state, POOL_SIZE, true);
    return 0;
}

static inline int teardown(void **state)
{
    fix_free(*state);
    return 0;
}

static inline bool is_ept(const struct fix *f) { return f->fmt == &s2pt_format_ept; }

/* Expected raw leaf, built from the named constants only. */
static inline uint64_t want_leaf(const struct fix *f, hpa_t hpa, uint32_t r,
                          enum memtype mt, int level)
{
    if (is_ept(f)) {
        uint64_t e = hpa | ((uint64_t)mt << EPT_MEMTYPE_SHIFT);
        e |= (r & ACC_R) ? EPT_R : 0;
        e |= (r & ACC_W) ? EPT_W : 0;
        e |= (r & ACC_X) ? EPT_X : 0;
        e |= mt != MT_WB ? EPT_IGNORE_PAT : 0;
        e |= level > 1 ? EPT_LARGE : 0;
        return e;
    }
    uint64_t e = hpa | NPT_P | NPT_US;
    e |= (r & ACC_W) ? NPT_RW : 0;
    e |= (r & ACC_X) ? 0 : NPT_NX;
    e |= mt == MT_UC ? NPT_PCD | NPT_PWT : mt == MT_WT ? NPT_PWT : 0;
    e |= level > 1 ? NPT_PS : 0;
    return e;
}

static inline uint64_t want_table(const struct fix *f, hpa_t t)
{
    return is_ept(f) ? t | EPT_R | EPT_W | EPT_X : t | NPT_P | NPT_RW | NPT_US;
}

/* Pointer to the entry for gpa at level (the path must exist). */
static inline uint64_t *entry_at(struct fix *f, gpa_t gpa, int level)
{
    hpa_t table = f->pt.root;
    for (int l = S2_LEVELS;; l--) {
        uint64_t *e = (uint64_t *)hpa_va(table) + ((gpa >> (12 + 9 * (l - 1))) & 511);
        if (l == level)
            return e;
        table = *e & 0x000ffffffffff000ull;
    }
}

static inline struct s2_info look(struct fix *f, gpa_t gpa)
{
    struct s2_info i;
    assert_int_equal(s2pt_lookup(&f->pt, gpa, &i), 0);
    return i;
}

static inline void expect_page(struct fix *f, gpa_t gpa, hpa_t hpa, uint32_t rights,
                        int level)
{
    struct s2_info i = look(f, gpa);
    assert_int_equal(i.state, S2_PRESENT);
    assert_int_equal(i.level, level);
    assert_true(i.hpa == hpa);
    assert_int_equal(i.rights, rights);
}

#define H1G 0x40000000ull
#define H2M 0x7200000ull

/* ---- map / lookup ------------------------------------------------------- */

/* tests in test_s2pt_more.c */
void test_accessed_dirty(void **state);
void test_swap_encoding(void **state);
void test_set_swap(void **state);
void test_protect_invalidation(void **state);
void test_enomem(void **state);
void test_walk_render(void **state);
void test_check_detects_corruption(void **state);

#endif

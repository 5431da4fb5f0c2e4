/*
 * Unit tests for the stage-2 walker (ept/s2pt.c, ept/s2pt_check.c) and both
 * entry formats (ept/s2pt_ept.c, ept/s2pt_npt.c). Every scenario runs once
 * per format: the format is the test's prestate.
 *
 * Leaf hpas need not be pool frames (the walker never touches leaf frames),
 * so most tests map made-up aligned addresses; tables do come from the pool.
 */
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

static void on_inv(struct s2pt *pt, enum s2_inv_scope scope, gpa_t gpa,
                   uint64_t size, void *ctx)
{
    struct fix *f = ctx;
    assert_ptr_equal(pt, &f->pt);
    if (f->ncalls < 16)
        f->calls[f->ncalls] = (struct inv_call){scope, gpa, size};
    f->ncalls++;
}

static struct fix *fix_new(const struct s2pt_format *fmt, uint64_t pool,
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

static void fix_free(struct fix *f)
{
    s2pt_destroy(&f->pt);
    assert_int_equal(frame_free_count(&f->fp), f->free_before_pt);
    assert_true(frame_pool_check(&f->fp));
    free(f->mem);
    free(f);
}

static int setup(void **state)
{
    *state = fix_new(*state, POOL_SIZE, true);
    return 0;
}

static int teardown(void **state)
{
    fix_free(*state);
    return 0;
}

static bool is_ept(const struct fix *f) { return f->fmt == &s2pt_format_ept; }

/* Expected raw leaf, built from the named constants only. */
static uint64_t want_leaf(const struct fix *f, hpa_t hpa, uint32_t r,
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

static uint64_t want_table(const struct fix *f, hpa_t t)
{
    return is_ept(f) ? t | EPT_R | EPT_W | EPT_X : t | NPT_P | NPT_RW | NPT_US;
}

/* Pointer to the entry for gpa at level (the path must exist). */
static uint64_t *entry_at(struct fix *f, gpa_t gpa, int level)
{
    hpa_t table = f->pt.root;
    for (int l = S2_LEVELS;; l--) {
        uint64_t *e = (uint64_t *)hpa_va(table) + ((gpa >> (12 + 9 * (l - 1))) & 511);
        if (l == level)
            return e;
        table = *e & 0x000ffffffffff000ull;
    }
}

static struct s2_info look(struct fix *f, gpa_t gpa)
{
    struct s2_info i;
    assert_int_equal(s2pt_lookup(&f->pt, gpa, &i), 0);
    return i;
}

static void expect_page(struct fix *f, gpa_t gpa, hpa_t hpa, uint32_t rights,
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

static void test_map_4k(void **state)
{
    struct fix *f = *state;
    const gpa_t g = 0x12345000;
    const hpa_t h = 0xabcde000;
    assert_int_equal(s2pt_map(&f->pt, g, h, PAGE_SIZE, ACC_RW, MT_WB), PV_OK);
    assert_int_equal(f->pt.tables, 4);
    assert_int_equal(f->ncalls, 0); /* empty slot: no invalidation */
    struct s2_info i = look(f, g + 0x123);
    assert_int_equal(i.state, S2_PRESENT);
    assert_int_equal(i.level, 1);
    assert_true(i.size == PAGE_SIZE);
    assert_true(i.hpa == h && i.leaf_hpa == h);
    assert_int_equal(i.rights, ACC_RW);
    assert_int_equal(i.memtype, MT_WB);
    assert_false(i.accessed || i.dirty);
    if (is_ept(f))
        assert_true(i.raw == (h | EPT_R | EPT_W | (MT_WB << EPT_MEMTYPE_SHIFT)));
    else
        assert_true(i.raw == (h | NPT_P | NPT_RW | NPT_US | NPT_NX));
    assert_true(i.raw == want_leaf(f, h, ACC_RW, MT_WB, 1));
    /* tables carry full rights */
    for (int l = 4; l >= 2; l--) {
        uint64_t e = *entry_at(f, g, l);
        assert_true(e == want_table(f, e & 0x000ffffffffff000ull));
        assert_non_null(frame_of(&f->fp, e & 0x000ffffffffff000ull));
    }
    /* neighbours are empty */
    i = look(f, g + PAGE_SIZE);
    assert_int_equal(i.state, S2_NONE);
    assert_int_equal(i.level, 1);
    i = look(f, g + H1G);
    assert_int_equal(i.state, S2_NONE);
    assert_int_equal(i.level, 3);
    /* misuse */
    assert_int_equal(s2pt_map(&f->pt, g + 1, h, PAGE_SIZE, ACC_R, MT_WB), -PV_EINVAL);
    assert_int_equal(s2pt_map(&f->pt, g, h + 8, PAGE_SIZE, ACC_R, MT_WB), -PV_EINVAL);
    assert_int_equal(s2pt_map(&f->pt, g, h, 3 * PAGE_SIZE, ACC_R, MT_WB), -PV_EINVAL);
    assert_int_equal(s2pt_map(&f->pt, 1ull << 48, h, PAGE_SIZE, ACC_R, MT_WB), -PV_EINVAL);
    assert_true(s2pt_check(&f->pt));
}

static void test_map_2m_1g_memtypes(void **state)
{
    struct fix *f = *state;
    assert_int_equal(s2pt_map(&f->pt, H2M, H2M * 2, HUGE_2M, ACC_RWX, MT_WB), PV_OK);
    assert_int_equal(s2pt_map(&f->pt, 3 * H1G, 5 * H1G, HUGE_1G, ACC_RX, MT_UC), PV_OK);
    assert_int_equal(s2pt_map(&f->pt, 0x5000, 0x9000, PAGE_SIZE, ACC_R, MT_WT), PV_OK);
    assert_int_equal(f->ncalls, 0);
    struct s2_info i = look(f, H2M + 0x12345);
    assert_int_equal(i.level, 2);
    assert_true(i.size == HUGE_2M && i.leaf_hpa == H2M * 2);
    assert_true(i.hpa == H2M * 2 + 0x12000);
    assert_true(i.raw == want_leaf(f, H2M * 2, ACC_RWX, MT_WB, 2));
    i = look(f, 3 * H1G + 0x3456789);
    assert_int_equal(i.level, 3);
    assert_int_equal(i.memtype, MT_UC);
    assert_true(i.hpa == 5 * H1G + 0x3456000);
    assert_true(i.raw == want_leaf(f, 5 * H1G, ACC_RX, MT_UC, 3));
    if (is_ept(f))
        assert_true((i.raw & EPT_IGNORE_PAT) && (i.raw & EPT_LARGE));
    else
        assert_true((i.raw & (NPT_PCD | NPT_PWT)) == (NPT_PCD | NPT_PWT));
    i = look(f, 0x5000);
    assert_int_equal(i.memtype, MT_WT);
    assert_int_equal(i.rights, ACC_R);
    assert_true(i.raw == want_leaf(f, 0x9000, ACC_R, MT_WT, 1));
    assert_int_equal(f->pt.tables, 1 + 1 + 1 + 1); /* root, PDPT, PD, PT */
    assert_true(s2pt_check(&f->pt));
}

/* ---- splitting ---------------------------------------------------------- */

static void expect_2m_except(struct fix *f, gpa_t g, hpa_t h, uint32_t r,
                             unsigned skip)
{
    for (unsigned k = 0; k < PAGES_PER_2M; k++) {
        if (k == skip)
            continue;
        expect_page(f, g + k * PAGE_SIZE, h + k * PAGE_SIZE, r, 1);
        assert_int_equal(look(f, g + k * PAGE_SIZE).memtype, MT_WT);
    }
}

static void test_split_on_remap(void **state)
{
    struct fix *f = *state;
    assert_int_equal(s2pt_map(&f->pt, H2M, H1G, HUGE_2M, ACC_RW, MT_WT), PV_OK);
    uint64_t tables = f->pt.tables;
    const gpa_t g = H2M + 5 * PAGE_SIZE;
    assert_int_equal(s2pt_map(&f->pt, g, 0x777000, PAGE_SIZE, ACC_R, MT_WB), PV_OK);
    assert_int_equal(f->pt.tables, tables + 1);
    expect_page(f, g, 0x777000, ACC_R, 1);
    expect_2m_except(f, H2M, H1G, ACC_RW, 5);
    assert_int_equal(f->ncalls, 1);
    assert_int_equal(f->calls[0].scope, S2_INV_RANGE);
    assert_true(f->calls[0].gpa == g && f->calls[0].size == PAGE_SIZE);
    assert_true(s2pt_check(&f->pt));
}

static void test_split_on_protect(void **state)
{
    struct fix *f = *state;
    assert_int_equal(s2pt_map(&f->pt, H2M, H1G, HUGE_2M, ACC_RW, MT_WT), PV_OK);
    const gpa_t g = H2M + 300 * PAGE_SIZE;
    assert_int_equal(s2pt_protect(&f->pt, g, PAGE_SIZE, ACC_R), PV_OK);
    expect_page(f, g, H1G + 300 * PAGE_SIZE, ACC_R, 1);
    expect_2m_except(f, H2M, H1G, ACC_RW, 300);
    assert_int_equal(f->ncalls, 1);
    assert_true(f->calls[0].gpa == g && f->calls[0].size == PAGE_SIZE);
    /* a no-op protect of a large leaf does not split it */
    assert_int_equal(s2pt_map(&f->pt, 4 * H2M, H1G, HUGE_2M, ACC_RW, MT_WB), PV_OK);
    uint64_t tables = f->pt.tables;
    assert_int_equal(s2pt_protect(&f->pt, 4 * H2M + PAGE_SIZE, PAGE_SIZE, ACC_RW), PV_OK);
    assert_int_equal(f->pt.tables, tables);
    assert_int_equal(look(f, 4 * H2M).level, 2);
    assert_int_equal(f->ncalls, 1);
    assert_true(s2pt_check(&f->pt));
}

static void test_split_on_unmap_and_1g(void **state)
{
    struct fix *f = *state;
    size_t free0 = frame_free_count(&f->fp);
    assert_int_equal(s2pt_map(&f->pt, H2M, H1G, HUGE_2M, ACC_RW, MT_WT), PV_OK);
    assert_int_equal(s2pt_unmap(&f->pt, H2M + 511 * PAGE_SIZE, PAGE_SIZE), PV_OK);
    struct s2_info i = look(f, H2M + 511 * PAGE_SIZE);
    assert_int_equal(i.state, S2_NONE);
    assert_int_equal(i.level, 1);
    expect_2m_except(f, H2M, H1G, ACC_RW, 511);
    assert_int_equal(f->ncalls, 1);

    /* 1 GiB leaf, punch a 4 KiB hole: two splits */
    const gpa_t G = 2 * H1G;
    assert_int_equal(s2pt_map(&f->pt, G, 7 * H1G, HUGE_1G, ACC_RWX, MT_WB), PV_OK);
    uint64_t tables = f->pt.tables;
    const gpa_t hole = G + 3 * HUGE_2M + 7 * PAGE_SIZE;
    assert_int_equal(s2pt_unmap(&f->pt, hole, PAGE_SIZE), PV_OK);
    assert_int_equal(f->pt.tables, tables + 2);
    assert_int_equal(look(f, hole).state, S2_NONE);
    expect_page(f, hole + PAGE_SIZE, 7 * H1G + 3 * HUGE_2M + 8 * PAGE_SIZE, ACC_RWX, 1);
    expect_page(f, hole - PAGE_SIZE, 7 * H1G + 3 * HUGE_2M + 6 * PAGE_SIZE, ACC_RWX, 1);
    expect_page(f, G, 7 * H1G, ACC_RWX, 2);
    expect_page(f, G + H1G - PAGE_SIZE, 8 * H1G - PAGE_SIZE, ACC_RWX, 2);
    assert_true(s2pt_check(&f->pt));

    /* unmapping everything returns every table */
    assert_int_equal(s2pt_unmap(&f->pt, 0, 4 * H1G), PV_OK);
    assert_int_equal(f->pt.tables, 1);
    assert_int_equal(frame_free_count(&f->fp), free0);
    assert_true(s2pt_check(&f->pt));
}

static void test_split_api(void **state)
{
    struct fix *f = *state;
    const gpa_t G = H1G;
    assert_int_equal(s2pt_split(&f->pt, G, PAGE_SIZE), -PV_ENOENT);
    assert_int_equal(s2pt_map(&f->pt, G, 3 * H1G, HUGE_1G, ACC_RW, MT_WB), PV_OK);
    uint64_t tables = f->pt.tables;
    assert_int_equal(s2pt_split(&f->pt, G + HUGE_2M * 9, HUGE_2M), PV_OK);
    assert_int_equal(f->pt.tables, tables + 1);
    expect_page(f, G + HUGE_2M * 9 + PAGE_SIZE, 3 * H1G + HUGE_2M * 9 + PAGE_SIZE, ACC_RW, 2);
    assert_int_equal(s2pt_split(&f->pt, G + HUGE_2M * 9, PAGE_SIZE), PV_OK);
    assert_int_equal(f->pt.tables, tables + 2);
    expect_page(f, G + HUGE_2M * 9 + PAGE_SIZE, 3 * H1G + HUGE_2M * 9 + PAGE_SIZE, ACC_RW, 1);
    expect_page(f, G + HUGE_2M * 10, 3 * H1G + HUGE_2M * 10, ACC_RW, 2);
    /* already small enough */
    assert_int_equal(s2pt_split(&f->pt, G + HUGE_2M * 9, PAGE_SIZE), PV_OK);
    assert_int_equal(f->pt.tables, tables + 2);
    assert_int_equal(f->ncalls, 0); /* splitting alone keeps translations */
    assert_true(s2pt_check(&f->pt));
}

/* ---- large leaves over tables ------------------------------------------ */

static void test_large_over_table(void **state)
{
    struct fix *f = *state;
    assert_int_equal(s2pt_map(&f->pt, H2M + PAGE_SIZE, 0x1000, PAGE_SIZE, ACC_R, MT_WB), PV_OK);
    assert_int_equal(s2pt_map(&f->pt, H2M, H1G, HUGE_2M, ACC_R, MT_WB), -PV_EEXIST);
    assert_int_equal(s2pt_map(&f->pt, 0, H1G, HUGE_1G, ACC_R, MT_WB), -PV_EEXIST);
    expect_page(f, H2M + PAGE_SIZE, 0x1000, ACC_R, 1);
    /* a swap entry counts as an entry */
    assert_int_equal(s2pt_unmap(&f->pt, H2M + PAGE_SIZE, PAGE_SIZE), PV_OK);
    assert_int_equal(s2pt_set_swap(&f->pt, H2M, swp_entry(1, 2)), PV_OK);
    assert_int_equal(s2pt_map(&f->pt, H2M, H1G, HUGE_2M, ACC_R, MT_WB), -PV_EEXIST);
    assert_true(s2pt_check(&f->pt));
    /* an empty table (made by hand) is freed and replaced */
    uint64_t *pte = entry_at(f, H2M, 1);
    *pte = 0;
    frame_of(&f->fp, va_hpa(pte))->mapcount = 0;
    uint64_t tables = f->pt.tables;
    size_t nfree = frame_free_count(&f->fp);
    size_t calls = f->ncalls;
    assert_int_equal(s2pt_map(&f->pt, H2M, H1G, HUGE_2M, ACC_R, MT_WB), PV_OK);
    assert_int_equal(f->pt.tables, tables - 1);
    assert_int_equal(frame_free_count(&f->fp), nfree + 1);
    assert_int_equal(f->ncalls, calls + 1); /* cached table pointer */
    expect_page(f, H2M + PAGE_SIZE, H1G + PAGE_SIZE, ACC_R, 2);
    assert_true(s2pt_check(&f->pt));
}

/* ---- unmap frees tables ------------------------------------------------- */

static void test_unmap_frees_tables(void **state)
{
    struct fix *f = *state;
    size_t free0 = frame_free_count(&f->fp);
    const gpa_t gs[] = {0, 0x1000, 0x200000, 0x40000000, 0x8000000000ull,
                        0x7fffffff000ull, 0xfffffffff000ull};
    for (size_t k = 0; k < sizeof(gs) / sizeof(gs[0]); k++)
        assert_int_equal(s2pt_map(&f->pt, gs[k], 0x100000 + k * PAGE_SIZE,
                                  PAGE_SIZE, ACC_RW, MT_WB), PV_OK);
    assert_int_equal(s2pt_set_swap(&f->pt, 0x3000, swp_entry(0, 9)), PV_OK);
    assert_true(f->pt.tables > 5);
    assert_true(s2pt_check(&f->pt));
    /* partial unmap keeps the tables still in use */
    assert_int_equal(s2pt_unmap(&f->pt, 0, PAGE_SIZE), PV_OK);
    expect_page(f, 0x1000, 0x101000, ACC_RW, 1);
    assert_int_equal(look(f, 0x3000).state, S2_SWAP);
    assert_true(s2pt_check(&f->pt));
    f->ncalls = 0;
    assert_int_equal(s2pt_unmap(&f->pt, 0, 1ull << 48), PV_OK);
    assert_int_equal(f->pt.tables, 1);
    assert_int_equal(frame_free_count(&f->fp), free0);
    assert_int_equal(f->ncalls, 1);
    assert_true(s2pt_check(&f->pt));
    /* unmapping nothing invalidates nothing */
    assert_int_equal(s2pt_unmap(&f->pt, 0, H1G), PV_OK);
    assert_int_equal(f->ncalls, 1);
    assert_int_equal(s2pt_unmap(&f->pt, 0, 0), -PV_EINVAL);
    assert_int_equal(s2pt_unmap(&f->pt, 0x800, PAGE_SIZE), -PV_EINVAL);
}

/* ---- accessed / dirty --------------------------------------------------- */

static void test_accessed_dirty(void **state)
{
    struct fix *f = *state;
    assert_true(f->pt.use_ad);
    uint64_t A = f->fmt->accessed_bit, D = f->fmt->dirty_bit;
    assert_true(A == (is_ept(f) ? EPT_ACCESSED : NPT_A));
    assert_true(D == (is_ept(f) ? EPT_DIRTY : NPT_D));
    const gpa_t g = 0x2000;
    assert_int_equal(s2pt_map(&f->pt, g, 0x5000, PAGE_SIZE, ACC_RW, MT_WB), PV_OK);
    assert_false(s2pt_test_and_clear_accessed(&f->pt, g));
    assert_int_equal(f->ncalls, 0);
    uint64_t *e = entry_at(f, g, 1);
    *e |= A | D; /* as the hardware would */
    struct s2_info i = look(f, g);
    assert_true(i.accessed && i.dirty);
    assert_true(s2pt_test_and_clear_accessed(&f->pt, g));
    assert_true((*e & A) == 0 && (*e & D) == D);
    assert_int_equal(f->ncalls, 1);
    assert_true(f->calls[0].gpa == g && f->calls[0].size == PAGE_SIZE);
    assert_false(s2pt_test_and_clear_accessed(&f->pt, g));
    assert_true(s2pt_test_and_clear_dirty(&f->pt, g));
    assert_false(s2pt_test_and_clear_dirty(&f->pt, g));
    assert_int_equal(f->ncalls, 2);
    assert_false(s2pt_test_and_clear_dirty(&f->pt, g + PAGE_SIZE)); /* absent */

    /* remapping the same page with more rights keeps A/D, no flush */
    *e |= A | D;
    assert_int_equal(s2pt_map(&f->pt, g, 0x5000, PAGE_SIZE, ACC_RWX, MT_WB), PV_OK);
    assert_true((*e & (A | D)) == (A | D));
    assert_int_equal(f->ncalls, 2);
    /* a split keeps A/D in every piece */
    assert_int_equal(s2pt_map(&f->pt, H2M, H1G, HUGE_2M, ACC_RW, MT_WB), PV_OK);
    *entry_at(f, H2M, 2) |= A;
    assert_int_equal(s2pt_split(&f->pt, H2M, PAGE_SIZE), PV_OK);
    assert_true(look(f, H2M + 77 * PAGE_SIZE).accessed);
    assert_true(s2pt_test_and_clear_accessed(&f->pt, H2M + 77 * PAGE_SIZE));
    assert_false(look(f, H2M + 77 * PAGE_SIZE).accessed);
    assert_true(look(f, H2M + 78 * PAGE_SIZE).accessed);
    assert_true(s2pt_check(&f->pt));

    /* tracking off: always false, bits untouched */
    struct fix *o = fix_new(f->fmt, POOL_SIZE, false);
    assert_false(o->pt.use_ad);
    assert_int_equal(s2pt_map(&o->pt, g, 0x5000, PAGE_SIZE, ACC_RW, MT_WB), PV_OK);
    *entry_at(o, g, 1) |= A;
    assert_false(s2pt_test_and_clear_accessed(&o->pt, g));
    assert_true(*entry_at(o, g, 1) & A);
    assert_int_equal(o->ncalls, 0);
    fix_free(o);
}

/* ---- swap entries ------------------------------------------------------- */

static void test_swap_encoding(void **state)
{
    struct fix *f = *state;
    const struct s2pt_format *fmt = f->fmt;
    const swp_entry_t cases[] = {
        swp_entry(0, 0), swp_entry(SWP_TYPE_MASK, SWP_OFFSET_MASK),
        swp_entry(1, 1), swp_entry(0, SWP_OFFSET_MASK), swp_entry(SWP_TYPE_MASK, 0),
        swp_entry(0x15, 0x5555555555ull), swp_entry(0xa, 0xaaaaaaaaaaull),
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        uint64_t e = fmt->make_swap(cases[k]);
        assert_true(e != 0);
        assert_true(fmt->is_swap(e));
        assert_false(fmt->is_present(e));
        for (int l = 1; l <= S2_LEVELS; l++)
            assert_false(fmt->is_leaf(e, l));
        assert_int_equal(fmt->rights(e), 0);
        if (is_ept(f))
            assert_true((e & (EPT_R | EPT_W | EPT_X | EPT_USER_X | EPT_SUPPRESS_VE)) == 0);
        else
            assert_true((e & NPT_P) == 0);
        assert_true(fmt->swap_of(e) == cases[k]);
    }
    assert_false(fmt->is_swap(0));
    assert_false(fmt->is_present(0));
    /* a leaf and a table are never swap entries, even with rights 0 */
    uint64_t leaf = fmt->make_leaf(0xfffffffff000ull, 0, MT_UC, 1);
    assert_false(fmt->is_swap(leaf));
    assert_true(fmt->is_present(leaf));
    assert_false(fmt->is_swap(fmt->make_table(0x1000)));
}

static void test_set_swap(void **state)
{
    struct fix *f = *state;
    const gpa_t g = 0x7000;
    const swp_entry_t s = swp_entry(SWP_TYPE_MASK, SWP_OFFSET_MASK);
    assert_int_equal(s2pt_set_swap(&f->pt, g, s), PV_OK); /* empty slot */
    assert_int_equal(f->ncalls, 0);
    struct s2_info i = look(f, g);
    assert_int_equal(i.state, S2_SWAP);
    assert_int_equal(i.level, 1);
    assert_true(i.swap == s);
    assert_false(f->fmt->is_present(i.raw));
    assert_true(s2pt_check(&f->pt));
    /* present -> swap invalidates exactly that page */
    assert_int_equal(s2pt_map(&f->pt, g + PAGE_SIZE, 0x9000, PAGE_SIZE, ACC_RW, MT_WB), PV_OK);
    assert_int_equal(s2pt_set_swap(&f->pt, g + PAGE_SIZE, swp_entry(2, 77)), PV_OK);
    assert_int_equal(f->ncalls, 1);
    assert_true(f->calls[0].gpa == g + PAGE_SIZE && f->calls[0].size == PAGE_SIZE);
    assert_true(look(f, g + PAGE_SIZE).swap == swp_entry(2, 77));
    /* swap -> present (swap-in) needs no invalidation */
    assert_int_equal(s2pt_map(&f->pt, g, 0xa000, PAGE_SIZE, ACC_RW, MT_WB), PV_OK);
    assert_int_equal(f->ncalls, 1);
    expect_page(f, g, 0xa000, ACC_RW, 1);
    /* protect skips swap entries; unmap removes them and the tables */
    assert_int_equal(s2pt_protect(&f->pt, 0, H2M, ACC_R), PV_OK);
    assert_int_equal(look(f, g + PAGE_SIZE).state, S2_SWAP);
    assert_int_equal(s2pt_set_swap(&f->pt, g, swp_entry(0, 0)), PV_OK);
    assert_int_equal(s2pt_unmap(&f->pt, g, 2 * PAGE_SIZE), PV_OK);
    assert_int_equal(look(f, g).state, S2_NONE);
    assert_int_equal(f->pt.tables, 1);
    assert_int_equal(s2pt_set_swap(&f->pt, g, s + (1ull << 50)), -PV_EINVAL);
    assert_int_equal(s2pt_set_swap(&f->pt, g + 1, s), -PV_EINVAL);
    assert_true(s2pt_check(&f->pt));
}

/* ---- protect and invalidation ------------------------------------------- */

static void test_protect_invalidation(void **state)
{
    struct fix *f = *state;
    const gpa_t g = 0x40000;
    for (int k = 0; k < 4; k++)
        assert_int_equal(s2pt_map(&f->pt, g + k * PAGE_SIZE, 0x80000 + k * PAGE_SIZE,
                                  PAGE_SIZE, ACC_RWX, MT_WB), PV_OK);
    assert_int_equal(f->ncalls, 0);
    assert_int_equal(s2pt_protect(&f->pt, g + PAGE_SIZE, 2 * PAGE_SIZE, ACC_RX), PV_OK);
    assert_int_equal(f->ncalls, 1);
    assert_int_equal(f->calls[0].scope, S2_INV_RANGE);
    assert_true(f->calls[0].gpa == g + PAGE_SIZE && f->calls[0].size == 2 * PAGE_SIZE);
    expect_page(f, g, 0x80000, ACC_RWX, 1);
    expect_page(f, g + PAGE_SIZE, 0x81000, ACC_RX, 1);
    expect_page(f, g + 3 * PAGE_SIZE, 0x83000, ACC_RWX, 1);
    assert_true(look(f, g + PAGE_SIZE).raw == want_leaf(f, 0x81000, ACC_RX, MT_WB, 1));
    /* more rights: no invalidation */
    assert_int_equal(s2pt_protect(&f->pt, g, 4 * PAGE_SIZE, ACC_RWX), PV_OK);
    assert_int_equal(f->ncalls, 1);
    /* all rights revoked: still a translation, hardware sees not present */
    assert_int_equal(s2pt_protect(&f->pt, g, PAGE_SIZE, 0), PV_OK);
    assert_int_equal(f->ncalls, 2);
    struct s2_info i = look(f, g);
    assert_int_equal(i.state, S2_PRESENT);
    assert_int_equal(i.rights, 0);
    assert_true(i.hpa == 0x80000);
    if (is_ept(f))
        assert_true((i.raw & (EPT_R | EPT_W | EPT_X)) == 0);
    else
        assert_true((i.raw & NPT_P) == 0);
    assert_false(f->fmt->is_swap(i.raw));
    /* and back, without invalidation */
    assert_int_equal(s2pt_protect(&f->pt, g, PAGE_SIZE, ACC_RW), PV_OK);
    assert_int_equal(f->ncalls, 2);
    expect_page(f, g, 0x80000, ACC_RW, 1);
    /* remapping to another page invalidates; same page fewer rights too */
    assert_int_equal(s2pt_map(&f->pt, g, 0x90000, PAGE_SIZE, ACC_RW, MT_WB), PV_OK);
    assert_int_equal(f->ncalls, 3);
    assert_int_equal(s2pt_map(&f->pt, g, 0x90000, PAGE_SIZE, ACC_R, MT_WB), PV_OK);
    assert_int_equal(f->ncalls, 4);
    assert_int_equal(f->pt.invalidations, 4);
    /* direct hook call */
    s2pt_invalidate(&f->pt, S2_INV_ALL, 0, 0);
    assert_int_equal(f->ncalls, 5);
    assert_int_equal(f->calls[4].scope, S2_INV_ALL);
    assert_true(s2pt_check(&f->pt));
}

/* ---- allocation failure ------------------------------------------------- */

static void test_enomem(void **state)
{
    struct fix *big = *state;
    struct fix *f = fix_new(big->fmt, 16 * PAGE_SIZE, true);
    assert_int_equal(s2pt_map(&f->pt, 0, H1G, HUGE_1G, ACC_RW, MT_WB), PV_OK);
    /* drain the pool down to one frame */
    struct frame *hold[64];
    size_t nh = 0;
    while (frame_free_count(&f->fp) > 1)
        hold[nh++] = frame_alloc(&f->fp, FRAME_GUEST);
    uint64_t tables = f->pt.tables;
    /* a 4K hole in a 1G leaf needs two tables */
    assert_int_equal(s2pt_unmap(&f->pt, 0x5000, PAGE_SIZE), -PV_ENOMEM);
    assert_int_equal(s2pt_protect(&f->pt, 0x5000, PAGE_SIZE, ACC_R), -PV_ENOMEM);
    assert_int_equal(s2pt_map(&f->pt, 0x5000, 0x1000, PAGE_SIZE, ACC_R, MT_WB), -PV_ENOMEM);
    assert_int_equal(s2pt_set_swap(&f->pt, 0x5000, swp_entry(1, 1)), -PV_ENOMEM);
    /* a fresh 4K mapping elsewhere needs three */
    assert_int_equal(s2pt_map(&f->pt, 0x8000000000ull, 0x1000, PAGE_SIZE, ACC_R, MT_WB), -PV_ENOMEM);
    assert_int_equal(f->pt.tables, tables);
    assert_int_equal(frame_free_count(&f->fp), 1);
    assert_int_equal(f->ncalls, 0);
    expect_page(f, 0x5000, H1G + 0x5000, ACC_RW, 3);
    assert_true(s2pt_check(&f->pt));
    assert_true(frame_pool_check(&f->fp));
    /* one split fits */
    assert_int_equal(s2pt_split(&f->pt, 0x5000, HUGE_2M), PV_OK);
    assert_int_equal(s2pt_unmap(&f->pt, 0, HUGE_2M), PV_OK);
    assert_int_equal(look(f, 0x5000).state, S2_NONE);
    expect_page(f, HUGE_2M, H1G + HUGE_2M, ACC_RW, 2);
    assert_true(s2pt_check(&f->pt));
    while (nh > 0)
        frame_put(&f->fp, hold[--nh]);
    fix_free(f);
}

/* ---- rendering ---------------------------------------------------------- */

struct lines {
    char text[8][200];
    int n;
};

static void collect(void *ctx, const char *line)
{
    struct lines *l = ctx;
    assert_true(l->n < 8);
    snprintf(l->text[l->n++], 200, "%s", line);
}

static void test_walk_render(void **state)
{
    struct fix *f = *state;
    const char *name = f->fmt->name;
    char want[64];
    struct lines l = {0};
    s2pt_walk_render(&f->pt, 0x1000, collect, &l);
    assert_int_equal(l.n, 1);
    snprintf(want, sizeof(want), "%s L4 [  0] ", name);
    assert_non_null(strstr(l.text[0], want));
    assert_non_null(strstr(l.text[0], "none"));

    assert_int_equal(s2pt_map(&f->pt, 0x40201000, 0xabc000, PAGE_SIZE, ACC_RW, MT_WB), PV_OK);
    memset(&l, 0, sizeof(l));
    s2pt_walk_render(&f->pt, 0x40201000, collect, &l);
    assert_int_equal(l.n, 4);
    assert_non_null(strstr(l.text[0], "L4 [  0]"));
    assert_non_null(strstr(l.text[0], "table 0x"));
    assert_non_null(strstr(l.text[1], "L3 [  1]"));
    assert_non_null(strstr(l.text[2], "L2 [  1]"));
    assert_non_null(strstr(l.text[3], "L1 [  1]"));
    assert_non_null(strstr(l.text[3], "leaf 4K hpa 0xabc000 rw"));
    assert_non_null(strstr(l.text[3], "wb"));
    snprintf(want, sizeof(want), "%#018llx",
             (unsigned long long)want_leaf(f, 0xabc000, ACC_RW, MT_WB, 1));
    assert_non_null(strstr(l.text[3], want));

    assert_int_equal(s2pt_set_swap(&f->pt, 0x40202000, swp_entry(3, 0x1234)), PV_OK);
    memset(&l, 0, sizeof(l));
    s2pt_walk_render(&f->pt, 0x40202000, collect, &l);
    assert_int_equal(l.n, 4);
    assert_non_null(strstr(l.text[3], "swap type 3 offset 0x1234"));

    assert_int_equal(s2pt_map(&f->pt, 5 * H1G, 0, HUGE_1G, ACC_RX, MT_UC), PV_OK);
    memset(&l, 0, sizeof(l));
    s2pt_walk_render(&f->pt, 5 * H1G + 42, collect, &l);
    assert_int_equal(l.n, 2);
    assert_non_null(strstr(l.text[1], "leaf 1G hpa 0 r-x uc"));
}

static void test_check_detects_corruption(void **state)
{
    struct fix *f = *state;
    assert_int_equal(s2pt_map(&f->pt, 0x1000, 0x2000, PAGE_SIZE, ACC_R, MT_WB), PV_OK);
    assert_true(s2pt_check(&f->pt));
    f->pt.tables++;
    assert_false(s2pt_check(&f->pt));
    f->pt.tables--;
    uint64_t *e = entry_at(f, 0x1000, 1);
    uint64_t saved = *e;
    e[1] = saved; /* entry not counted */
    assert_false(s2pt_check(&f->pt));
    e[1] = 0;
    assert_true(s2pt_check(&f->pt));
}

#define BOTH(t)                                                                   \
    cmocka_unit_test_prestate_setup_teardown(t, setup, teardown,                  \
                                             (void *)&s2pt_format_ept),           \
        cmocka_unit_test_prestate_setup_teardown(t, setup, teardown,              \
                                                 (void *)&s2pt_format_npt)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_map_4k),
        BOTH(test_map_2m_1g_memtypes),
        BOTH(test_split_on_remap),
        BOTH(test_split_on_protect),
        BOTH(test_split_on_unmap_and_1g),
        BOTH(test_split_api),
        BOTH(test_large_over_table),
        BOTH(test_unmap_frees_tables),
        BOTH(test_accessed_dirty),
        BOTH(test_swap_encoding),
        BOTH(test_set_swap),
        BOTH(test_protect_invalidation),
        BOTH(test_enomem),
        BOTH(test_walk_render),
        BOTH(test_check_detects_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

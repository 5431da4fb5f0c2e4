/*
 * Stage-2 walker tests, part 2 (see test_s2pt.c): accessed/dirty bits, swap
 * entries, invalidation scopes, allocation failure, the walk rendering and
 * the consistency check. Linked into the test_s2pt binary.
 */
#include "tests/unit/s2pt_fix.h"

void test_accessed_dirty(void **state)
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

    /* the hypervisor's own write: dirty only (not a guest use), no flush */
    s2pt_set_dirty(&f->pt, g);
    assert_true((*e & D) == D && (*e & A) == 0);
    assert_int_equal(f->ncalls, 2);
    s2pt_set_dirty(&f->pt, g + PAGE_SIZE); /* absent: nothing to mark */
    assert_int_equal(look(f, g + PAGE_SIZE).state, S2_NONE);
    assert_true(s2pt_test_and_clear_dirty(&f->pt, g));
    assert_int_equal(f->ncalls, 3);

    /* remapping the same page with more rights keeps A/D, no flush */
    *e |= A | D;
    assert_int_equal(s2pt_map(&f->pt, g, 0x5000, PAGE_SIZE, ACC_RWX, MT_WB), PV_OK);
    assert_true((*e & (A | D)) == (A | D));
    assert_int_equal(f->ncalls, 3);
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
    s2pt_set_dirty(&o->pt, g);
    assert_false(*entry_at(o, g, 1) & D);
    assert_int_equal(o->ncalls, 0);
    fix_free(o);
}

/* ---- swap entries ------------------------------------------------------- */

void test_swap_encoding(void **state)
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

void test_set_swap(void **state)
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

void test_protect_invalidation(void **state)
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

void test_enomem(void **state)
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

void test_walk_render(void **state)
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

void test_check_detects_corruption(void **state)
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

/*
 * Unit tests for the stage-2 walker (ept/s2pt.c, ept/s2pt_check.c) and both
 * entry formats (ept/s2pt_ept.c, ept/s2pt_npt.c). Every scenario runs once
 * per format: the format is the test's prestate.
 *
 * Leaf hpas need not be pool frames (the walker never touches leaf frames),
 * so most tests map made-up aligned addresses; tables do come from the pool.
 */
#include "tests/unit/s2pt_fix.h"

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

/* Unit tests for the hypervisor's identity page tables (vmm/paging.c):
 * table sizing, and a software walk of tables built in a heap buffer (its
 * addresses stand in for physical ones, see ept/types.h). paging_init()
 * loads CR3 and is not called here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/arch/paging.h"

#define TABLE 4096ull
#define ENTRIES 512ull
#define GIB (1ull << 30)
#define MIB2 (1ull << 21)
#define PML4_SPAN (ENTRIES * GIB)
#define ALIGN_PML4(x) (((x) + PML4_SPAN - 1) & ~(PML4_SPAN - 1))
/* x86-64 4-level paging entry bits */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull
#define PTE_FLAGS (~PTE_ADDR)
#define LEAF_FLAGS (PTE_P | PTE_RW | PTE_PS)
#define TABLE_FLAGS (PTE_P | PTE_RW)

static uint64_t idx(uint64_t va, unsigned shift) { return (va >> shift) & (ENTRIES - 1); }

static void test_tables_bytes_1g(void **state)
{
    (void)state;
    /* PML4 + one PDPT for anything up to 512 GiB (4 GiB minimum) */
    assert_int_equal(paging_tables_bytes(0, true), 2 * TABLE);
    assert_int_equal(paging_tables_bytes(256ull << 20, true), 2 * TABLE);
    assert_int_equal(paging_tables_bytes(4 * GIB, true), 2 * TABLE);
    assert_int_equal(paging_tables_bytes(4 * GIB + 1, true), 2 * TABLE);
    assert_int_equal(paging_tables_bytes(PML4_SPAN, true), 2 * TABLE);
    /* one byte past 512 GiB needs a second PDPT */
    assert_int_equal(paging_tables_bytes(PML4_SPAN + 1, true), 3 * TABLE);
    assert_int_equal(paging_tables_bytes(2 * PML4_SPAN, true), 3 * TABLE);
    assert_int_equal(paging_tables_bytes(2 * PML4_SPAN + GIB, true), 4 * TABLE);
    /* 52-bit physical: 8192 PDPTs */
    assert_int_equal(paging_tables_bytes(1ull << 52, true), (1 + 8192) * TABLE);
}

static void test_tables_bytes_2m(void **state)
{
    (void)state;
    /* PML4 + PDPT + one PD per GiB */
    assert_int_equal(paging_tables_bytes(0, false), (2 + 4) * TABLE);
    assert_int_equal(paging_tables_bytes(GIB, false), (2 + 4) * TABLE);
    assert_int_equal(paging_tables_bytes(4 * GIB - 1, false), (2 + 4) * TABLE);
    assert_int_equal(paging_tables_bytes(4 * GIB, false), (2 + 4) * TABLE);
    assert_int_equal(paging_tables_bytes(4 * GIB + 1, false), (2 + 5) * TABLE);
    assert_int_equal(paging_tables_bytes(16 * GIB + 4096, false), (2 + 17) * TABLE);
    assert_int_equal(paging_tables_bytes(PML4_SPAN, false), (2 + 512) * TABLE);
    assert_int_equal(paging_tables_bytes(PML4_SPAN + 1, false), (3 + 513) * TABLE);
    assert_int_equal(paging_tables_bytes(PML4_SPAN + GIB, false), (3 + 513) * TABLE);
}

struct tables {
    uint8_t *mem;
    uint64_t bytes;
    uint64_t cr3;
};

/* Build into a 4 KiB-aligned buffer pre-filled with garbage, so stale
 * bytes would show up as bogus present entries. */
static struct tables build(uint64_t top, bool page1gb, uint64_t slack)
{
    struct tables t;
    uint64_t need = paging_tables_bytes(top, page1gb);
    t.bytes = need + slack;
    t.mem = aligned_alloc(TABLE, t.bytes);
    assert_non_null(t.mem);
    memset(t.mem, 0xFF, t.bytes);
    t.cr3 = paging_build((uint64_t)(uintptr_t)t.mem, t.bytes, top, page1gb);
    assert_int_equal(t.cr3, (uint64_t)(uintptr_t)t.mem);
    return t;
}

static const uint64_t *table_at(const struct tables *t, uint64_t entry)
{
    uint64_t a = entry & PTE_ADDR;
    /* every table lies inside the buffer, 4 KiB aligned */
    assert_true(a >= (uint64_t)(uintptr_t)t->mem);
    assert_true(a + TABLE <= (uint64_t)(uintptr_t)t->mem + t->bytes);
    assert_int_equal(a % TABLE, 0);
    return (const uint64_t *)(uintptr_t)a;
}

/* Walk va; returns false if not mapped, else checks identity + flags. */
static bool walk(const struct tables *t, uint64_t va, bool page1gb)
{
    const uint64_t *pml4 = (const uint64_t *)(uintptr_t)t->cr3;
    uint64_t e = pml4[idx(va, 39)];
    if (!(e & PTE_P))
        return false;
    assert_int_equal(e & PTE_FLAGS, TABLE_FLAGS);
    const uint64_t *pdpt = table_at(t, e);
    e = pdpt[idx(va, 30)];
    if (!(e & PTE_P))
        return false;
    if (page1gb) {
        assert_int_equal(e & PTE_FLAGS, LEAF_FLAGS);
        assert_int_equal(e & PTE_ADDR, va & ~(GIB - 1));
        return true;
    }
    assert_int_equal(e & PTE_FLAGS, TABLE_FLAGS);
    const uint64_t *pd = table_at(t, e);
    e = pd[idx(va, 21)];
    if (!(e & PTE_P))
        return false;
    assert_int_equal(e & PTE_FLAGS, LEAF_FLAGS);
    assert_int_equal(e & PTE_ADDR, va & ~(MIB2 - 1));
    return true;
}

static void check_map(uint64_t top, bool page1gb, uint64_t expect_span)
{
    struct tables t = build(top, page1gb, 0);
    const uint64_t samples[] = {
        0, 0xFFF, 0x1000, 0x9F000, 0x100000, MIB2 - 1, MIB2, 3 * MIB2 + 5,
        GIB - 1, GIB, 0xFEC00000, 0xFEE00000, 0xFFFFFFFF, 4 * GIB - MIB2,
        expect_span - 1, expect_span - MIB2, expect_span - GIB,
        (expect_span / 2) | 0x12345,
    };
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
        assert_true(walk(&t, samples[i], page1gb));
    /* every GiB of the span is mapped, and nothing beyond */
    for (uint64_t g = 0; g < expect_span; g += GIB)
        assert_true(walk(&t, g + (g / GIB % 512) * MIB2, page1gb));
    assert_false(walk(&t, expect_span, page1gb));
    assert_false(walk(&t, expect_span + GIB - 1, page1gb));
    assert_false(walk(&t, ALIGN_PML4(expect_span), page1gb));
    assert_false(walk(&t, 255 * PML4_SPAN, page1gb));
    assert_false(walk(&t, 511 * PML4_SPAN, page1gb)); /* top of the canonical half */
    free(t.mem);
}

static void test_build_low_top_is_4g(void **state)
{
    (void)state;
    check_map(0, true, 4 * GIB);
    check_map(0, false, 4 * GIB);
    check_map(512ull << 20, true, 4 * GIB);
    check_map(512ull << 20, false, 4 * GIB);
}

static void test_build_rounds_up_to_gib(void **state)
{
    (void)state;
    check_map(6 * GIB + 4096, true, 7 * GIB);
    check_map(6 * GIB + 4096, false, 7 * GIB);
}

static void test_build_512g_boundary(void **state)
{
    (void)state;
    check_map(PML4_SPAN, true, PML4_SPAN);
    check_map(PML4_SPAN, false, PML4_SPAN);
    check_map(PML4_SPAN + 1, true, PML4_SPAN + GIB);
    check_map(PML4_SPAN + 1, false, PML4_SPAN + GIB);
}

static void test_build_beyond_512g(void **state)
{
    (void)state;
    check_map(1300 * GIB, true, 1300 * GIB);
    check_map(1300 * GIB, false, 1300 * GIB);
}

/* Unused table slots and unused PML4/PDPT entries are zero, not stale. */
static void test_build_clears_unused_entries(void **state)
{
    (void)state;
    struct tables t = build(5 * GIB, true, 3 * TABLE);
    const uint64_t *pml4 = (const uint64_t *)(uintptr_t)t.cr3;
    for (uint64_t i = 1; i < ENTRIES; i++)
        assert_int_equal(pml4[i], 0);
    const uint64_t *pdpt = table_at(&t, pml4[0]);
    for (uint64_t j = 5; j < ENTRIES; j++)
        assert_int_equal(pdpt[j], 0);
    /* the slack after the tables is left alone */
    for (uint64_t b = 2 * TABLE; b < t.bytes; b++)
        assert_int_equal(t.mem[b], 0xFF);
    free(t.mem);

    t = build(PML4_SPAN + 3 * GIB, false, 0);
    pml4 = (const uint64_t *)(uintptr_t)t.cr3;
    for (uint64_t i = 2; i < ENTRIES; i++)
        assert_int_equal(pml4[i], 0);
    pdpt = table_at(&t, pml4[1]);
    for (uint64_t j = 3; j < ENTRIES; j++)
        assert_int_equal(pdpt[j], 0);
    free(t.mem);
}

static void test_build_too_small(void **state)
{
    (void)state;
    const uint64_t tops[] = { 0, 5 * GIB, PML4_SPAN + 1 };
    for (size_t i = 0; i < 3; i++)
        for (int pg = 0; pg < 2; pg++) {
            uint64_t need = paging_tables_bytes(tops[i], pg);
            uint8_t *mem = aligned_alloc(TABLE, need);
            assert_non_null(mem);
            memset(mem, 0x5A, need);
            assert_int_equal(paging_build((uint64_t)(uintptr_t)mem, need - 1, tops[i], pg), 0);
            assert_int_equal(paging_build((uint64_t)(uintptr_t)mem, 0, tops[i], pg), 0);
            for (uint64_t b = 0; b < need; b++)
                assert_int_equal(mem[b], 0x5A); /* nothing written */
            assert_int_equal(paging_build((uint64_t)(uintptr_t)mem, need, tops[i], pg),
                             (uint64_t)(uintptr_t)mem);
            free(mem);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_bytes_1g),
        cmocka_unit_test(test_tables_bytes_2m),
        cmocka_unit_test(test_build_low_top_is_4g),
        cmocka_unit_test(test_build_rounds_up_to_gib),
        cmocka_unit_test(test_build_512g_boundary),
        cmocka_unit_test(test_build_beyond_512g),
        cmocka_unit_test(test_build_clears_unused_entries),
        cmocka_unit_test(test_build_too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

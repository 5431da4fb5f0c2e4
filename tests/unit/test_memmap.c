/* Unit tests for the vendor-neutral memory map (vmm/memmap.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/memmap.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(mem_type_name(MEM_CONVENTIONAL), "conventional");
    assert_string_equal(mem_type_name(MEM_BOOT_SERVICES), "boot-services");
    assert_string_equal(mem_type_name(MEM_ACPI_RECLAIM), "acpi-reclaim");
    assert_string_equal(mem_type_name(MEM_PERSISTENT), "persistent");
    assert_string_equal(mem_type_name(MEM_TYPE_COUNT), "?");
    for (int t = 0; t < MEM_TYPE_COUNT; t++) {
        assert_non_null(mem_type_name((enum mem_type)t));
        assert_string_not_equal(mem_type_name((enum mem_type)t), "?");
    }
}

static void test_add_merges_adjacent_same_type(void **state)
{
    (void)state;
    struct mem_range r[4];
    struct memmap m = { r, 0, 4 };
    assert_int_equal(memmap_add(&m, 0, 0x9F000, MEM_CONVENTIONAL), 0);
    assert_int_equal(memmap_add(&m, 0x9F000, 0x1000, MEM_CONVENTIONAL), 0);
    assert_int_equal(m.n, 1);
    assert_int_equal(r[0].base, 0);
    assert_int_equal(r[0].size, 0xA0000);
    /* gap: new entry */
    assert_int_equal(memmap_add(&m, 0x100000, 0x100000, MEM_CONVENTIONAL), 0);
    assert_int_equal(m.n, 2);
    /* adjacent but another type: new entry */
    assert_int_equal(memmap_add(&m, 0x200000, 0x1000, MEM_LOADER), 0);
    assert_int_equal(m.n, 3);
    /* adjacent to an earlier entry of the same type, but not the last: new */
    assert_int_equal(memmap_add(&m, 0x201000, 0x1000, MEM_CONVENTIONAL), 0);
    assert_int_equal(m.n, 4);
    assert_int_equal(r[1].size, 0x100000);
    assert_int_equal(r[3].base, 0x201000);
    assert_int_equal(r[3].type, MEM_CONVENTIONAL);
}

static void test_add_capacity(void **state)
{
    (void)state;
    struct mem_range r[2];
    struct memmap m = { r, 0, 2 };
    assert_int_equal(memmap_add(&m, 0, 0x1000, MEM_CONVENTIONAL), 0);
    assert_int_equal(memmap_add(&m, 0x1000, 0x1000, MEM_RESERVED), 0);
    assert_int_equal(memmap_add(&m, 0x3000, 0x1000, MEM_RESERVED), -1);
    assert_int_equal(m.n, 2);
    /* full, but a merge needs no new slot */
    assert_int_equal(memmap_add(&m, 0x2000, 0x1000, MEM_RESERVED), 0);
    assert_int_equal(m.n, 2);
    assert_int_equal(r[1].size, 0x2000);
    /* no slots at all */
    struct memmap empty = { NULL, 0, 0 };
    assert_int_equal(memmap_add(&empty, 0, 0x1000, MEM_CONVENTIONAL), -1);
    assert_int_equal(empty.n, 0);
}

/* A small OVMF-like map: 2 GiB of RAM split by firmware ranges, MMIO above. */
static struct memmap ovmf_map(struct mem_range *r, size_t cap)
{
    struct memmap m = { r, 0, cap };
    assert_int_equal(memmap_add(&m, 0x0, 0xA0000, MEM_CONVENTIONAL), 0);
    assert_int_equal(memmap_add(&m, 0x100000, 0x700000, MEM_CONVENTIONAL), 0);
    assert_int_equal(memmap_add(&m, 0x800000, 0x8000, MEM_ACPI_NVS), 0);
    assert_int_equal(memmap_add(&m, 0x808000, 0x3000, MEM_CONVENTIONAL), 0);
    assert_int_equal(memmap_add(&m, 0x80B000, 0x1000, MEM_ACPI_NVS), 0);
    assert_int_equal(memmap_add(&m, 0x80C000, 0x12C00000 - 0x80C000, MEM_CONVENTIONAL), 0);
    assert_int_equal(memmap_add(&m, 0x12C00000, 0x1400000, MEM_LOADER), 0);
    assert_int_equal(memmap_add(&m, 0x14000000, 0x6A000000, MEM_BOOT_SERVICES), 0);
    assert_int_equal(memmap_add(&m, 0x7E000000, 0x100000, MEM_RUNTIME), 0);
    assert_int_equal(memmap_add(&m, 0x7E100000, 0x80000, MEM_ACPI_RECLAIM), 0);
    assert_int_equal(memmap_add(&m, 0x7E180000, 0x1E80000, MEM_RESERVED), 0);
    assert_int_equal(memmap_add(&m, 0xFEC00000, 0x1000, MEM_MMIO), 0);
    assert_int_equal(memmap_add(&m, 0xFFC00000, 0x400000, MEM_MMIO), 0);
    assert_int_equal(memmap_add(&m, 0xFD00000000ull, 0x300000000ull, MEM_RESERVED), 0);
    return m;
}

static void test_summary_totals(void **state)
{
    (void)state;
    struct mem_range r[32];
    struct memmap m = ovmf_map(r, 32);
    struct memmap_summary s;
    memset(&s, 0xA5, sizeof(s));
    memmap_summarize(&m, &s);
    assert_int_equal(s.entries, 14);
    assert_int_equal(s.bytes[MEM_CONVENTIONAL],
                     0xA0000 + 0x700000 + 0x3000 + (0x12C00000 - 0x80C000));
    assert_int_equal(s.bytes[MEM_ACPI_NVS], 0x9000);
    assert_int_equal(s.bytes[MEM_LOADER], 20 * MIB);
    assert_int_equal(s.bytes[MEM_BOOT_SERVICES], 0x6A000000);
    assert_int_equal(s.bytes[MEM_RUNTIME], 1 * MIB);
    assert_int_equal(s.bytes[MEM_ACPI_RECLAIM], 512 * KIB);
    assert_int_equal(s.bytes[MEM_RESERVED], 0x1E80000 + 0x300000000ull);
    assert_int_equal(s.bytes[MEM_MMIO], 0x401000);
    assert_int_equal(s.bytes[MEM_UNUSABLE], 0);
    assert_int_equal(s.bytes[MEM_PERSISTENT], 0);
    assert_int_equal(s.top, 0x10000000000ull);
    assert_int_equal(s.top_ram, 0x7E180000); /* end of ACPI reclaim */
}

static void test_summary_top_ram_kinds(void **state)
{
    (void)state;
    struct mem_range r[4];
    struct memmap_summary s;
    /* Only non-RAM kinds: top moves, top_ram stays 0. */
    static const enum mem_type not_ram[] = { MEM_RESERVED, MEM_MMIO, MEM_UNUSABLE,
                                             MEM_PERSISTENT };
    for (size_t i = 0; i < 4; i++) {
        struct memmap m = { r, 0, 4 };
        assert_int_equal(memmap_add(&m, GIB, GIB, not_ram[i]), 0);
        memmap_summarize(&m, &s);
        assert_int_equal(s.top, 2 * GIB);
        assert_int_equal(s.top_ram, 0);
    }
    static const enum mem_type ram[] = { MEM_CONVENTIONAL, MEM_LOADER, MEM_BOOT_SERVICES,
                                         MEM_RUNTIME, MEM_ACPI_RECLAIM, MEM_ACPI_NVS };
    for (size_t i = 0; i < 6; i++) {
        struct memmap m = { r, 0, 4 };
        assert_int_equal(memmap_add(&m, 3 * GIB, GIB, ram[i]), 0);
        assert_int_equal(memmap_add(&m, 0, 16 * MIB, MEM_CONVENTIONAL), 0);
        memmap_summarize(&m, &s);
        assert_int_equal(s.top, 4 * GIB);
        assert_int_equal(s.top_ram, 4 * GIB); /* unsorted input: the max */
    }
    /* empty map */
    struct memmap m = { r, 0, 4 };
    memset(&s, 0xA5, sizeof(s));
    memmap_summarize(&m, &s);
    assert_int_equal(s.entries, 0);
    assert_int_equal(s.top, 0);
    assert_int_equal(s.top_ram, 0);
    for (int t = 0; t < MEM_TYPE_COUNT; t++)
        assert_int_equal(s.bytes[t], 0);
}

static void test_summary_format(void **state)
{
    (void)state;
    struct mem_range r[32];
    struct memmap m = ovmf_map(r, 32);
    struct memmap_summary s;
    memmap_summarize(&m, &s);
    char buf[256];
    const char *want = "memmap: 14 entries conventional=299M loader=20M boot-services=1696M "
                       "runtime=1M reserved=12318M acpi-reclaim=512K acpi-nvs=36K mmio=4M "
                       "top-ram=0x7e180000";
    int n = memmap_summary_format(&s, buf, sizeof(buf));
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));

    struct memmap_summary e;
    struct memmap none = { r, 0, 0 };
    memmap_summarize(&none, &e);
    n = memmap_summary_format(&e, buf, sizeof(buf));
    assert_string_equal(buf, "memmap: 0 entries top-ram=0x0");
    assert_int_equal(n, 29);
}

/* Every buffer size: no write past len (exact-size heap buffer), always
 * NUL-terminated, and the text is a prefix of the full line. */
static void test_summary_format_truncates(void **state)
{
    (void)state;
    struct mem_range r[32];
    struct memmap m = ovmf_map(r, 32);
    struct memmap_summary s;
    memmap_summarize(&m, &s);
    char full[256];
    int total = memmap_summary_format(&s, full, sizeof(full));
    for (size_t len = 1; len <= (size_t)total + 1; len++) {
        char *buf = malloc(len);
        assert_non_null(buf);
        int n = memmap_summary_format(&s, buf, len);
        assert_true(strlen(buf) < len);
        assert_true(strlen(buf) == len - 1 || len == (size_t)total + 1);
        assert_memory_equal(buf, full, strlen(buf));
        /* a cut line reports at least its capacity, so ret >= len flags it */
        if (len <= (size_t)total)
            assert_true(n >= (int)len);
        else
            assert_int_equal(n, total);
        free(buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_add_merges_adjacent_same_type),
        cmocka_unit_test(test_add_capacity),
        cmocka_unit_test(test_summary_totals),
        cmocka_unit_test(test_summary_top_ram_kinds),
        cmocka_unit_test(test_summary_format),
        cmocka_unit_test(test_summary_format_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

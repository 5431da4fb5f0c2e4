/* Unit tests for MTRR/PAT memory types (vmm/arch/memtype.c).
 * Values: the SDM's PAT power-on value and encodings; Linux's PAT layout
 * (WB, WC, UC-, UC, WB, WP, UC-, WT: arch/x86 documentation of pat);
 * an MTRR set in the layout the SDM describes as a PC firmware programs it
 * and as a Linux guest under QEMU q35 + OVMF reports in /proc/mtrr
 * ("reg00: base=0x080000000 (2048MB), size=2048MB: uncachable", default
 * write-back), with QEMU's default 40 physical address bits; and the
 * all-zero IA32_MTRR_DEF_TYPE of a VM started without firmware. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/arch/memtype.h"

#define LINUX_PAT 0x0407050600070106ull
#define PHYS40 0x000000FFFFFFF000ull
#define GIB (1ull << 30)
#define MIB (1ull << 20)

static struct mtrr_state ovmf_like(void)
{
    struct mtrr_state m;
    memset(&m, 0, sizeof(m));
    m.cap = 0x508;                      /* 8 variable, fixed, WC */
    m.def_type = MTRR_DEF_E | MTRR_DEF_FE | MTYPE_WB;  /* 0xC06 */
    m.fixed[0] = 0x0606060606060606ull; /* 0 - 512K WB */
    m.fixed[1] = 0x0606060606060606ull; /* 512K - 640K WB */
    m.fixed[2] = 0x0000000000000000ull; /* 640K - 768K UC: legacy VGA */
    for (int i = 3; i < 11; i++)
        m.fixed[i] = 0x0505050505050505ull; /* 768K - 1M WP: ROM shadow */
    m.base[0] = 0x80000000ull | MTYPE_UC;   /* the 32-bit PCI hole */
    m.mask[0] = (PHYS40 & ~(2 * GIB - 1)) | MTRR_PHYS_VALID;
    m.phys_addr_mask = PHYS40;
    return m;
}

static void test_pat_values(void **state)
{
    (void)state;
    assert_true(pat_valid(PAT_POWER_ON));
    assert_true(pat_valid(LINUX_PAT));
    assert_false(pat_valid((PAT_POWER_ON & ~0xFFull) | 0x02)); /* reserved encoding 2 */
    assert_false(pat_valid(0x0800000000000000ull | 6));   /* 8 and up reserved */
    assert_int_equal(pat_type(PAT_POWER_ON, false, false, false), MTYPE_WB);
    assert_int_equal(pat_type(PAT_POWER_ON, false, false, true), MTYPE_WT);
    assert_int_equal(pat_type(PAT_POWER_ON, false, true, false), MTYPE_UC_MINUS);
    assert_int_equal(pat_type(PAT_POWER_ON, false, true, true), MTYPE_UC);
    assert_int_equal(pat_type(LINUX_PAT, false, false, true), MTYPE_WC);
    assert_int_equal(pat_type(LINUX_PAT, true, false, true), MTYPE_WP);
    assert_int_equal(pat_type(LINUX_PAT, true, true, true), MTYPE_WT);
    assert_string_equal(memtype_name(MTYPE_UC_MINUS), "UC-");
    assert_string_equal(memtype_name(3), "reserved");
}

static void test_mtrr_disabled_is_uc(void **state)
{
    (void)state;
    struct mtrr_state m = ovmf_like();
    m.def_type = 0; /* no firmware programmed the MTRRs (QEMU -kernel) */
    assert_int_equal(mtrr_type(&m, 0x100000), MTYPE_UC);
    assert_int_equal(mtrr_type(&m, 0x0), MTYPE_UC);
    assert_int_equal(mtrr_range_type(&m, 0, 4 * GIB), MTYPE_UC);
}

static void test_mtrr_ovmf_layout(void **state)
{
    (void)state;
    struct mtrr_state m = ovmf_like();
    assert_int_equal(mtrr_type(&m, 0x0), MTYPE_WB);
    assert_int_equal(mtrr_type(&m, 0x9F000), MTYPE_WB);
    assert_int_equal(mtrr_type(&m, 0xA0000), MTYPE_UC);
    assert_int_equal(mtrr_type(&m, 0xBFFFF), MTYPE_UC);
    assert_int_equal(mtrr_type(&m, 0xC0000), MTYPE_WP);
    assert_int_equal(mtrr_type(&m, 0xFF000), MTYPE_WP);
    assert_int_equal(mtrr_type(&m, MIB), MTYPE_WB);
    assert_int_equal(mtrr_type(&m, 2 * GIB - 1), MTYPE_WB);
    assert_int_equal(mtrr_type(&m, 2 * GIB), MTYPE_UC);
    assert_int_equal(mtrr_type(&m, 0xFEE00000ull), MTYPE_UC);   /* local APIC */
    assert_int_equal(mtrr_type(&m, 4 * GIB), MTYPE_WB);         /* RAM above 4G */
    /* fixed ranges off: below 1 MiB follows the variable ranges / default */
    m.def_type &= ~MTRR_DEF_FE;
    assert_int_equal(mtrr_type(&m, 0xA0000), MTYPE_WB);
}

static void test_mtrr_ranges(void **state)
{
    (void)state;
    struct mtrr_state m = ovmf_like();
    assert_int_equal(mtrr_range_type(&m, MIB, 2 * GIB - MIB), MTYPE_WB);
    assert_int_equal(mtrr_range_type(&m, 2 * GIB, 2 * GIB), MTYPE_UC);
    assert_int_equal(mtrr_range_type(&m, GIB + GIB / 2, GIB), MTYPE_MIXED);
    assert_int_equal(mtrr_range_type(&m, 0xA0000, 0x20000), MTYPE_UC);
    assert_int_equal(mtrr_range_type(&m, 0, MIB), MTYPE_MIXED);
    assert_int_equal(mtrr_range_type(&m, 0xC0000, 0x40000), MTYPE_WP);
    assert_int_equal(mtrr_range_type(&m, 0, 0), MTYPE_MIXED);
}

static void test_mtrr_overlaps(void **state)
{
    (void)state;
    struct mtrr_state m = ovmf_like();
    /* var1: 0-4G WB, var2: 1G-2G WT (SDM: WT and WB overlap -> WT) */
    m.base[1] = 0 | MTYPE_WB;
    m.mask[1] = (PHYS40 & ~(4 * GIB - 1)) | MTRR_PHYS_VALID;
    m.base[2] = GIB | MTYPE_WT;
    m.mask[2] = (PHYS40 & ~(GIB - 1)) | MTRR_PHYS_VALID;
    assert_int_equal(mtrr_type(&m, GIB + MIB), MTYPE_WT);
    assert_int_equal(mtrr_type(&m, 2 * GIB + MIB), MTYPE_UC);  /* UC wins over WB */
    assert_int_equal(mtrr_type(&m, 3 * MIB), MTYPE_WB);
    /* WC over WB is undefined: treated as UC */
    m.base[2] = GIB | MTYPE_WC;
    assert_int_equal(mtrr_type(&m, GIB + MIB), MTYPE_UC);
    /* an invalid (V=0) range is ignored */
    m.mask[2] &= ~MTRR_PHYS_VALID;
    assert_int_equal(mtrr_type(&m, GIB + MIB), MTYPE_WB);
}

static void test_effective_types(void **state)
{
    (void)state;
    assert_int_equal(memtype_effective(MTYPE_WB, MTYPE_WB), MTYPE_WB);
    assert_int_equal(memtype_effective(MTYPE_WB, MTYPE_UC_MINUS), MTYPE_UC);
    assert_int_equal(memtype_effective(MTYPE_WB, MTYPE_WP), MTYPE_WP);
    assert_int_equal(memtype_effective(MTYPE_UC, MTYPE_WB), MTYPE_UC);
    assert_int_equal(memtype_effective(MTYPE_UC, MTYPE_WC), MTYPE_WC);
    assert_int_equal(memtype_effective(MTYPE_WC, MTYPE_UC_MINUS), MTYPE_WC);
    assert_int_equal(memtype_effective(MTYPE_WC, MTYPE_WT), MTYPE_UC);
    assert_int_equal(memtype_effective(MTYPE_WC, MTYPE_WB), MTYPE_WC);
    assert_int_equal(memtype_effective(MTYPE_WT, MTYPE_WB), MTYPE_WT);
    assert_int_equal(memtype_effective(MTYPE_WT, MTYPE_UC_MINUS), MTYPE_UC);
    assert_int_equal(memtype_effective(MTYPE_WT, MTYPE_WP), MTYPE_WP);
    assert_int_equal(memtype_effective(MTYPE_WP, MTYPE_UC_MINUS), MTYPE_WC);
    assert_int_equal(memtype_effective(MTYPE_WP, MTYPE_WB), MTYPE_WP);
    assert_int_equal(memtype_effective(MTYPE_WP, MTYPE_WT), MTYPE_UC);
    assert_int_equal(memtype_effective(MTYPE_MIXED, MTYPE_WB), MTYPE_UC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pat_values),
        cmocka_unit_test(test_mtrr_disabled_is_uc),
        cmocka_unit_test(test_mtrr_ovmf_layout),
        cmocka_unit_test(test_mtrr_ranges),
        cmocka_unit_test(test_mtrr_overlaps),
        cmocka_unit_test(test_effective_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

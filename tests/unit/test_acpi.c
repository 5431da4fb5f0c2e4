/* Unit tests for the minimal ACPI walk (vmm/acpi.c) on synthetic tables.
 *
 * "Physical addresses" are pointers (see ept/types.h). Tables reached
 * through 64-bit fields live in exact-size heap blocks, so ASan reports any
 * read past them. Tables reached through 32-bit fields (RSDT, its entries,
 * FADT.DSDT) need addresses below 4 GiB: they live in MAP_32BIT mappings,
 * placed to end exactly at a PROT_NONE guard page, so an over-read faults.
 * acpi_find_s5 on its own is covered by test_acpi_s5.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "tests/unit/acpi_aml.h"
#include "tests/unit/host_log.h"
#include "vmm/acpi.h"

#define PAGE 4096u
#define SDT_HDR 36u
#define SDT_OFF_LENGTH 4
#define SDT_OFF_CHECKSUM 9
#define RSDP_V1_LEN 20u
#define RSDP_V2_LEN 36u
#define RSDP_OFF_CHECKSUM 8
#define RSDP_OFF_REVISION 15
#define RSDP_OFF_RSDT 16
#define RSDP_OFF_LENGTH 20
#define RSDP_OFF_XSDT 24
#define RSDP_OFF_EXT_CHECKSUM 32
#define FADT_OFF_FIRMWARE_CTRL 36
#define FADT_OFF_DSDT 40
#define FADT_OFF_PM1A_CNT 64
#define FADT_OFF_PM1B_CNT 68
#define FADT_OFF_X_FIRMWARE_CTRL 132
#define FADT_OFF_X_DSDT 140
#define FADT_V1_LEN 116u   /* ACPI 1.0: no X_ fields */
#define FADT_V6_LEN 276u
#define FACS_LEN 64u
#define FOUR_GIB (1ull << 32)


/* ---- memory that is freed after each test ---------------------------- */

struct block {
    void *p;
    size_t len;
    bool mapped;
};
static struct block blocks[64];
static size_t nblocks;

static void track(void *p, size_t len, bool mapped)
{
    assert_true(nblocks < sizeof(blocks) / sizeof(blocks[0]));
    blocks[nblocks++] = (struct block){ p, len, mapped };
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < nblocks; i++) {
        if (blocks[i].mapped)
            munmap(blocks[i].p, blocks[i].len);
        else
            free(blocks[i].p);
    }
    nblocks = 0;
    host_log_clear();
    return 0;
}

/* size bytes, zeroed; below 4 GiB (guarded) when low, else on the heap */
static uint8_t *alloc(size_t size, bool low)
{
    if (!low) {
        uint8_t *p = malloc(size);
        assert_non_null(p);
        memset(p, 0, size);
        track(p, size, false);
        return p;
    }
    size_t pages = (size + PAGE - 1) / PAGE;
    size_t len = (pages + 1) * PAGE;
    uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_true((uint64_t)(uintptr_t)m + len <= FOUR_GIB);
    assert_int_equal(mprotect(m + pages * PAGE, PAGE, PROT_NONE), 0);
    track(m, len, true);
    return m + pages * PAGE - size;
}

static uint64_t pa(const void *p) { return (uint64_t)(uintptr_t)p; }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void wr_pa32(uint8_t *p, const void *target)
{
    assert_true(pa(target) < FOUR_GIB);
    wr32(p, (uint32_t)pa(target));
}

static void set_checksum(uint8_t *p, size_t len, size_t at)
{
    uint8_t sum = 0;
    p[at] = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    p[at] = (uint8_t)(0x100 - sum);
}

static void seal(uint8_t *t)
{
    uint32_t len;
    memcpy(&len, t + SDT_OFF_LENGTH, 4);
    set_checksum(t, len, SDT_OFF_CHECKSUM);
}

static uint8_t *sdt(const char sig[4], size_t len, bool low)
{
    uint8_t *t = alloc(len, low);
    memcpy(t, sig, 4);
    wr32(t + SDT_OFF_LENGTH, (uint32_t)len);
    t[8] = 1;                              /* revision */
    memcpy(t + 10, "PVTEST", 6);           /* OEM id */
    memcpy(t + 16, "SYNTHTBL", 8);         /* OEM table id */
    seal(t);
    return t;
}

/* A root table (RSDT with 4-byte entries or XSDT with 8-byte ones). */
static uint8_t *root(bool xsdt, bool low, size_t n, const uint8_t *const *entries)
{
    size_t esz = xsdt ? 8 : 4;
    uint8_t *t = sdt(xsdt ? "XSDT" : "RSDT", SDT_HDR + n * esz, low);
    for (size_t i = 0; i < n; i++) {
        if (xsdt)
            wr64(t + SDT_HDR + i * 8, pa(entries[i]));
        else if (entries[i])
            wr_pa32(t + SDT_HDR + i * 4, entries[i]);
    }
    seal(t);
    return t;
}

static uint8_t *rsdp(const uint8_t *rsdt, const uint8_t *xsdt)
{
    bool v2 = xsdt != NULL;
    uint8_t *r = alloc(v2 ? RSDP_V2_LEN : RSDP_V1_LEN, false);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "PVTEST", 6);
    r[RSDP_OFF_REVISION] = v2 ? 2 : 0;
    if (rsdt)
        wr_pa32(r + RSDP_OFF_RSDT, rsdt);
    set_checksum(r, RSDP_V1_LEN, RSDP_OFF_CHECKSUM);
    if (v2) {
        wr32(r + RSDP_OFF_LENGTH, RSDP_V2_LEN);
        wr64(r + RSDP_OFF_XSDT, pa(xsdt));
        set_checksum(r, RSDP_V2_LEN, RSDP_OFF_EXT_CHECKSUM);
    }
    return r;
}

static uint8_t *dsdt(const uint8_t *aml, size_t len, bool low)
{
    uint8_t *t = sdt("DSDT", SDT_HDR + len, low);
    memcpy(t + SDT_HDR, aml, len);
    seal(t);
    return t;
}

static uint8_t *facs(bool low)
{
    uint8_t *f = alloc(FACS_LEN, low);
    memcpy(f, "FACS", 4);
    wr32(f + SDT_OFF_LENGTH, FACS_LEN);
    return f;
}

struct fadt_spec {
    size_t len;
    bool low;
    const uint8_t *dsdt32, *x_dsdt, *facs;
    uint32_t pm1a, pm1b;
};

static uint8_t *fadt(const struct fadt_spec *s)
{
    uint8_t *f = sdt("FACP", s->len, s->low);
    f[8] = s->len >= FADT_V6_LEN ? 6 : 1;
    if (s->facs) {
        if (s->len > FADT_OFF_X_FIRMWARE_CTRL + 8 && pa(s->facs) >= FOUR_GIB)
            wr64(f + FADT_OFF_X_FIRMWARE_CTRL, pa(s->facs));
        else
            wr_pa32(f + FADT_OFF_FIRMWARE_CTRL, s->facs);
    }
    if (s->dsdt32)
        wr_pa32(f + FADT_OFF_DSDT, s->dsdt32);
    if (s->x_dsdt) {
        assert_true(s->len >= FADT_OFF_X_DSDT + 8);
        wr64(f + FADT_OFF_X_DSDT, pa(s->x_dsdt));
    }
    wr32(f + FADT_OFF_PM1A_CNT, s->pm1a);
    wr32(f + FADT_OFF_PM1B_CNT, s->pm1b);
    seal(f);
    return f;
}

/* Another DSDT: Name (\_S5, Package (0x02) { 0x07, 0x03 }) */
static const uint8_t aml_s5_root[] = {
    NAME, ROOT, S5, PKG, 0x07, 0x02, BYTE, 0x07, BYTE, 0x03,
};

/* ---- acpi_checksum_ok ------------------------------------------------- */

static void test_checksum(void **state)
{
    (void)state;
    uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 0 };
    assert_false(acpi_checksum_ok(b, sizeof(b)));
    b[7] = (uint8_t)(0x100 - 28);
    assert_true(acpi_checksum_ok(b, sizeof(b)));
    assert_false(acpi_checksum_ok(b, sizeof(b) - 1));
    assert_true(acpi_checksum_ok(b, 0));
    uint8_t w[300];
    memset(w, 0xFF, sizeof(w)); /* sum wraps many times */
    w[0] = (uint8_t)(0x100 - (299u * 0xFF) % 0x100);
    assert_true(acpi_checksum_ok(w, sizeof(w)));
}

/* ---- acpi_init -------------------------------------------------------- */

/* ACPI 2.0+: RSDP v2 -> XSDT -> FADT (X_DSDT) -> DSDT, all above 4 GiB
 * possible. The 32-bit DSDT field names another DSDT; X_DSDT wins. */
static void test_init_xsdt_x_dsdt(void **state)
{
    (void)state;
    uint8_t *d = dsdt(aml_s5_byte, sizeof(aml_s5_byte), false);
    uint8_t *d32 = dsdt(aml_s5_root, sizeof(aml_s5_root), true);
    struct fadt_spec fs = { FADT_V6_LEN, false, d32, d, facs(false), 0x604, 0 };
    uint8_t *f = fadt(&fs);
    uint8_t *apic = sdt("APIC", SDT_HDR + 8, false);
    const uint8_t *entries[] = { apic, f };
    uint8_t *x = root(true, false, 2, entries);
    uint8_t *r = rsdp(NULL, x);

    struct acpi_info ai;
    memset(&ai, 0xA5, sizeof(ai));
    assert_int_equal(acpi_init(&ai, pa(r)), 0);
    assert_int_equal(ai.rsdp, pa(r));
    assert_true(ai.xsdt);
    assert_int_equal(ai.root, pa(x));
    assert_int_equal(ai.fadt, pa(f));
    assert_int_equal(ai.dsdt, pa(d));
    assert_int_equal(ai.pm1a_cnt, 0x604);
    assert_int_equal(ai.pm1b_cnt, 0);
    assert_true(ai.s5_found);
    assert_int_equal(ai.slp_typa, 5);
    assert_int_equal(ai.slp_typb, 5);
    assert_int_equal(acpi_find_table(&ai, "APIC"), pa(apic));
    assert_int_equal(acpi_find_table(&ai, "FACP"), pa(f));
    assert_int_equal(acpi_find_table(&ai, "HPET"), 0);
    assert_int_equal(acpi_find_table(&ai, "FACS"), 0); /* not under the root */
}

/* ACPI 1.0: RSDP v1 -> RSDT -> FADT (116 bytes, no X_DSDT) -> DSDT. */
static void test_init_rsdt_dsdt32(void **state)
{
    (void)state;
    uint8_t *d = dsdt(aml_s5_root, sizeof(aml_s5_root), true);
    struct fadt_spec fs = { FADT_V1_LEN, true, d, NULL, facs(true), 0x404, 0x4404 };
    uint8_t *f = fadt(&fs);
    uint8_t *hpet = sdt("HPET", SDT_HDR + 20, true);
    const uint8_t *entries[] = { f, hpet };
    uint8_t *rs = root(false, true, 2, entries);
    uint8_t *r = rsdp(rs, NULL);

    struct acpi_info ai;
    assert_int_equal(acpi_init(&ai, pa(r)), 0);
    assert_false(ai.xsdt);
    assert_int_equal(ai.root, pa(rs));
    assert_int_equal(ai.fadt, pa(f));
    assert_int_equal(ai.dsdt, pa(d));
    assert_int_equal(ai.pm1a_cnt, 0x404);
    assert_int_equal(ai.pm1b_cnt, 0x4404);
    assert_true(ai.s5_found);
    assert_int_equal(ai.slp_typa, 7);
    assert_int_equal(ai.slp_typb, 3);
    assert_int_equal(acpi_find_table(&ai, "HPET"), pa(hpet));
}

/* A 2.0+ FADT whose X_DSDT is 0 falls back to the 32-bit DSDT. */
static void test_init_x_dsdt_zero_uses_dsdt32(void **state)
{
    (void)state;
    uint8_t *d = dsdt(aml_s5_root, sizeof(aml_s5_root), true);
    struct fadt_spec fs = { FADT_V6_LEN, false, d, NULL, NULL, 0xB004, 0 };
    uint8_t *f = fadt(&fs);
    const uint8_t *entries[] = { f };
    uint8_t *r = rsdp(NULL, root(true, false, 1, entries));
    struct acpi_info ai;
    assert_int_equal(acpi_init(&ai, pa(r)), 0);
    assert_int_equal(ai.dsdt, pa(d));
    assert_true(ai.s5_found);
    assert_int_equal(ai.slp_typa, 7);
}

/* RSDP v2 whose XSDT is unusable: the RSDT is used instead. */
static void test_init_falls_back_to_rsdt(void **state)
{
    (void)state;
    uint8_t *d = dsdt(aml_s5_byte, sizeof(aml_s5_byte), true);
    struct fadt_spec fs = { FADT_V1_LEN, true, d, NULL, NULL, 0x1804, 0 };
    uint8_t *f = fadt(&fs);
    const uint8_t *entries[] = { f };
    uint8_t *rs = root(false, true, 1, entries);
    uint8_t *x = root(true, false, 1, entries);

    /* XSDT checksum broken */
    x[SDT_HDR + 7] ^= 0x40;
    struct acpi_info ai;
    assert_int_equal(acpi_init(&ai, pa(rsdp(rs, x))), 0);
    assert_false(ai.xsdt);
    assert_int_equal(ai.root, pa(rs));
    assert_int_equal(ai.fadt, pa(f));
    assert_int_equal(ai.pm1a_cnt, 0x1804);
    x[SDT_HDR + 7] ^= 0x40;

    /* RSDP extended checksum broken (the v1 part is still fine) */
    uint8_t *r = rsdp(rs, x);
    r[RSDP_OFF_EXT_CHECKSUM] ^= 1;
    assert_int_equal(acpi_init(&ai, pa(r)), 0);
    assert_false(ai.xsdt);
    assert_int_equal(ai.root, pa(rs));

    /* both fine: XSDT preferred */
    assert_int_equal(acpi_init(&ai, pa(rsdp(rs, x))), 0);
    assert_true(ai.xsdt);
    assert_int_equal(ai.root, pa(x));
}

static void test_init_rejects_bad_rsdp(void **state)
{
    (void)state;
    struct fadt_spec fs = { FADT_V1_LEN, true, NULL, NULL, NULL, 0x404, 0 };
    const uint8_t *entries[] = { fadt(&fs) };
    uint8_t *rs = root(false, true, 1, entries);
    struct acpi_info ai;

    assert_int_equal(acpi_init(&ai, 0), -1);

    uint8_t *r = rsdp(rs, NULL);
    r[RSDP_OFF_CHECKSUM] ^= 1;
    host_log_clear();
    assert_int_equal(acpi_init(&ai, pa(r)), -1);
    assert_true(host_log_contains("acpi: no valid RSDP at 0x"));

    r = rsdp(rs, NULL);
    r[7] = '_'; /* "RSD PTR_" */
    set_checksum(r, RSDP_V1_LEN, RSDP_OFF_CHECKSUM);
    host_log_clear();
    assert_int_equal(acpi_init(&ai, pa(r)), -1);
    assert_true(host_log_contains("acpi: no valid RSDP"));
    assert_int_equal(ai.root, 0);
    assert_int_equal(ai.rsdp, pa(r));
}

static void test_init_rejects_bad_roots(void **state)
{
    (void)state;
    struct fadt_spec fs = { FADT_V1_LEN, true, NULL, NULL, NULL, 0x404, 0 };
    const uint8_t *entries[] = { fadt(&fs) };
    uint8_t *rs = root(false, true, 1, entries);
    uint8_t *x = root(true, false, 1, entries);
    rs[SDT_OFF_CHECKSUM] ^= 0x10;
    x[SDT_OFF_CHECKSUM] ^= 0x10;
    struct acpi_info ai;
    host_log_clear();
    assert_int_equal(acpi_init(&ai, pa(rsdp(rs, x))), -1);
    assert_true(host_log_contains("acpi: neither XSDT nor RSDT passes its checksum"));
    host_log_clear();
    assert_int_equal(acpi_init(&ai, pa(rsdp(rs, NULL))), -1);
    assert_true(host_log_contains("acpi: neither XSDT nor RSDT"));
    /* a v1 RSDP with no RSDT at all */
    host_log_clear();
    assert_int_equal(acpi_init(&ai, pa(rsdp(NULL, NULL))), -1);
    assert_true(host_log_contains("acpi: neither XSDT nor RSDT"));
}

static void test_init_no_fadt(void **state)
{
    (void)state;
    struct acpi_info ai;
    const uint8_t *apic[] = { sdt("APIC", SDT_HDR + 8, false) };
    host_log_clear();
    assert_int_equal(acpi_init(&ai, pa(rsdp(NULL, root(true, false, 1, apic)))), -1);
    assert_true(host_log_contains("acpi: no FADT"));

    /* the only FADT has a bad checksum */
    struct fadt_spec fs = { FADT_V6_LEN, false, NULL, NULL, NULL, 0x404, 0 };
    uint8_t *f = fadt(&fs);
    f[FADT_OFF_PM1A_CNT] ^= 1;
    const uint8_t *entries[] = { f };
    host_log_clear();
    assert_int_equal(acpi_init(&ai, pa(rsdp(NULL, root(true, false, 1, entries)))), -1);
    assert_true(host_log_contains("acpi: no FADT"));
}

/* A DSDT that fails its checksum is not parsed; init still succeeds. */
static void test_init_bad_dsdt(void **state)
{
    (void)state;
    uint8_t *d = dsdt(aml_s5_byte, sizeof(aml_s5_byte), false);
    d[SDT_HDR + 3] ^= 0x20;
    struct fadt_spec fs = { FADT_V6_LEN, false, NULL, d, NULL, 0x604, 0 };
    const uint8_t *entries[] = { fadt(&fs) };
    struct acpi_info ai;
    assert_int_equal(acpi_init(&ai, pa(rsdp(NULL, root(true, false, 1, entries)))), 0);
    assert_int_equal(ai.pm1a_cnt, 0x604);
    assert_false(ai.s5_found);

    /* no DSDT at all */
    struct fadt_spec none = { FADT_V6_LEN, false, NULL, NULL, NULL, 0x604, 0 };
    const uint8_t *e2[] = { fadt(&none) };
    assert_int_equal(acpi_init(&ai, pa(rsdp(NULL, root(true, false, 1, e2)))), 0);
    assert_int_equal(ai.dsdt, 0);
    assert_false(ai.s5_found);

    /* a DSDT without _S5 */
    static const uint8_t no_s5[] = { NAME, '_', 'S', '4', '_', PKG, 0x04, 0x02, ONE, ONE };
    struct fadt_spec fs3 = { FADT_V6_LEN, false, NULL, dsdt(no_s5, sizeof(no_s5), false),
                             NULL, 0x604, 0 };
    const uint8_t *e3[] = { fadt(&fs3) };
    assert_int_equal(acpi_init(&ai, pa(rsdp(NULL, root(true, false, 1, e3)))), 0);
    assert_false(ai.s5_found);
}

/* ---- acpi_find_table -------------------------------------------------- */

/* Corrupt and null entries are skipped; the first good match wins. */
static void check_find_table_skips(bool xsdt)
{
    bool low = !xsdt;
    uint8_t *bad = sdt("FACP", FADT_V1_LEN, low);
    bad[40] = 0x77; /* now fails its checksum */
    uint8_t *good = sdt("FACP", FADT_V1_LEN, low);
    uint8_t *good2 = sdt("FACP", FADT_V1_LEN, low);
    uint8_t *apic = sdt("APIC", SDT_HDR + 8, low);
    uint8_t *shortlen = sdt("SSDT", SDT_HDR, low);
    wr32(shortlen + SDT_OFF_LENGTH, SDT_HDR - 1); /* shorter than a header */
    seal(shortlen);
    const uint8_t *entries[] = { bad, NULL, shortlen, apic, good, good2 };
    uint8_t *rt = root(xsdt, low, 6, entries);
    struct acpi_info ai;
    memset(&ai, 0, sizeof(ai));
    ai.root = pa(rt);
    ai.xsdt = xsdt;
    assert_int_equal(acpi_find_table(&ai, "FACP"), pa(good));
    assert_int_equal(acpi_find_table(&ai, "APIC"), pa(apic));
    assert_int_equal(acpi_find_table(&ai, "SSDT"), 0);
    assert_int_equal(acpi_find_table(&ai, "MCFG"), 0);
}

static void test_find_table_skips_corrupt_xsdt(void **state)
{
    (void)state;
    check_find_table_skips(true);
}

static void test_find_table_skips_corrupt_rsdt(void **state)
{
    (void)state;
    check_find_table_skips(false);
}

static void test_find_table_edges(void **state)
{
    (void)state;
    struct acpi_info ai;
    memset(&ai, 0, sizeof(ai));
    assert_int_equal(acpi_find_table(&ai, "FACP"), 0); /* no root */

    /* an empty root, and one whose length cuts the last entry in half */
    uint8_t *f = sdt("FACP", FADT_V1_LEN, false);
    ai.root = pa(root(true, false, 0, NULL));
    ai.xsdt = true;
    assert_int_equal(acpi_find_table(&ai, "FACP"), 0);
    const uint8_t *entries[] = { f };
    uint8_t *x = root(true, false, 1, entries);
    wr32(x + SDT_OFF_LENGTH, SDT_HDR + 4);
    ai.root = pa(x);
    assert_int_equal(acpi_find_table(&ai, "FACP"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_checksum, teardown),
        cmocka_unit_test_teardown(test_init_xsdt_x_dsdt, teardown),
        cmocka_unit_test_teardown(test_init_rsdt_dsdt32, teardown),
        cmocka_unit_test_teardown(test_init_x_dsdt_zero_uses_dsdt32, teardown),
        cmocka_unit_test_teardown(test_init_falls_back_to_rsdt, teardown),
        cmocka_unit_test_teardown(test_init_rejects_bad_rsdp, teardown),
        cmocka_unit_test_teardown(test_init_rejects_bad_roots, teardown),
        cmocka_unit_test_teardown(test_init_no_fadt, teardown),
        cmocka_unit_test_teardown(test_init_bad_dsdt, teardown),
        cmocka_unit_test_teardown(test_find_table_skips_corrupt_xsdt, teardown),
        cmocka_unit_test_teardown(test_find_table_skips_corrupt_rsdt, teardown),
        cmocka_unit_test_teardown(test_find_table_edges, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

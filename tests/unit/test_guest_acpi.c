/*
 * Unit tests for the guest's ACPI copy (guest/acpi_copy.c), read back from
 * guest memory: RSDP and XSDT structure and checksums, the tables left out,
 * the FADT pointing at the copied DSDT/FACS, the MADT cut to one processor,
 * the devices found, an RSDT-only host, and hosts without usable ACPI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest/acpi_copy.h"
#include "tests/unit/guest_env.h"
#include "tests/unit/host_log.h"

static const struct fake_acpi_opts acpi_default = { 0 };

struct table {
    uint8_t b[1024];
    uint32_t len;
    gpa_t gpa;
};

static bool sum_ok(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s == 0;
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Read the guest table at gpa; require it inside the ACPI area and its
 * checksum valid. */
static void read_table(struct guest_env *g, gpa_t gpa, struct table *t)
{
    const struct guest_layout *l = &g->layout;
    const struct e820_entry *area = &l->e820[l->n_e820 - 1];
    assert_int_equal(area->type, E820_ACPI);
    t->gpa = gpa;
    t->len = (uint32_t)genv_rd(g, gpa + 4, 4);
    assert_true(t->len >= 36 && t->len <= sizeof(t->b));
    assert_true(gpa >= area->addr && gpa + t->len <= area->addr + area->size);
    genv_read(g, gpa, t->b, t->len);
    if (!sum_ok(t->b, t->len))
        fail_msg("guest %.4s at 0x%llx: bad checksum", (const char *)t->b,
                 (unsigned long long)gpa);
}

/* The XSDT's entries, in order. */
static size_t xsdt_entries(struct guest_env *g, uint64_t *out, size_t cap)
{
    gpa_t rsdp = g->layout.acpi_rsdp_gpa;
    struct table x;
    read_table(g, genv_rd(g, rsdp + 24, 8), &x);
    assert_memory_equal(x.b, "XSDT", 4);
    size_t n = (x.len - 36) / 8;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++)
        out[i] = le(x.b + 36 + i * 8, 8);
    return n;
}

static gpa_t find_table(struct guest_env *g, const char *sig)
{
    uint64_t e[16];
    size_t n = xsdt_entries(g, e, 16);
    for (size_t i = 0; i < n; i++)
        if (genv_rd(g, e[i], 4) == le((const uint8_t *)sig, 4))
            return e[i];
    return 0;
}

static void rsdp_and_xsdt(void **state)
{
    (void)state;
    host_log_clear();
    struct guest_env *g = genv_new(256 * MiB, false, &acpi_default);
    genv_build_ok(g);
    gpa_t rsdp = g->layout.acpi_rsdp_gpa;
    assert_int_equal(rsdp, 0x10060000); /* first byte of the ACPI area */
    uint8_t r[36];
    genv_read(g, rsdp, r, sizeof(r));
    assert_memory_equal(r, "RSD PTR ", 8);
    assert_memory_equal(r + 9, "PVOEM1", 6);
    assert_int_equal(r[15], 2);
    assert_int_equal(le(r + 16, 4), 0);  /* no RSDT */
    assert_int_equal(le(r + 20, 4), 36);
    assert_true(sum_ok(r, 20));
    assert_true(sum_ok(r, 36));

    struct table x;
    read_table(g, le(r + 24, 8), &x);
    assert_int_equal(x.gpa, rsdp + 48);
    assert_int_equal(x.b[8], 1);
    assert_memory_equal(x.b + 10, "PVTEST", 6);
    uint64_t e[16];
    size_t n = xsdt_entries(g, e, 16);
    const char *want[] = { "FACP", "APIC", "HPET", "SSDT" };
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        struct table t;
        read_table(g, e[i], &t);
        assert_memory_equal(t.b, want[i], 4);
        assert_int_equal(e[i] % 16, 0);
    }
    /* Unchanged tables are byte-for-byte copies. */
    struct table t;
    read_table(g, e[2], &t);
    assert_memory_equal(t.b, hpa_va(g->acpi.hpet), t.len);
    read_table(g, e[3], &t);
    assert_int_equal(t.len, 60);
    assert_memory_equal(t.b, hpa_va(g->acpi.ssdt), t.len);
    assert_int_equal(find_table(g, "MCFG"), 0);
    assert_int_equal(find_table(g, "SRAT"), 0);
    assert_true(host_log_contains("leaves out host MCFG"));
    assert_true(host_log_contains("leaves out host SRAT"));
    genv_free(g);
}

/* FADT: X_DSDT and X_FIRMWARE_CTRL point to the copies; the 32-bit fields
 * the host left 0 stay 0; every other byte is the host's. */
static void fadt_points_to_copies(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(256 * MiB, false, &acpi_default);
    genv_build_ok(g);
    struct table f, d;
    read_table(g, find_table(g, "FACP"), &f);
    assert_int_equal(f.len, 276);
    gpa_t dsdt = le(f.b + 140, 8), facs = le(f.b + 132, 8);
    assert_int_equal(le(f.b + 40, 4), 0);
    assert_int_equal(le(f.b + 36, 4), 0);
    read_table(g, dsdt, &d);
    assert_memory_equal(d.b, hpa_va(g->acpi.dsdt), d.len);
    assert_int_equal(facs % 64, 0);
    uint8_t fc[64];
    genv_read(g, facs, fc, sizeof(fc));
    assert_memory_equal(fc, hpa_va(g->acpi.facs), 64);
    const uint8_t *host = hpa_va(g->acpi.fadt);
    for (uint32_t i = 0; i < f.len; i++)
        if (i != 9 && !(i >= 132 && i < 148) && f.b[i] != host[i])
            fail_msg("FADT byte %u changed", i);
    genv_free(g);
}

/* Processor entries of the guest MADT: count, and the one kept. */
static unsigned madt_cpus(const struct table *m, const uint8_t **kept)
{
    unsigned n = 0;
    for (uint32_t off = 44; off + 2 <= m->len; off += m->b[off + 1]) {
        assert_true(m->b[off + 1] >= 2);
        if (m->b[off] == 0 || m->b[off] == 9) {
            n++;
            *kept = m->b + off;
        }
    }
    return n;
}

static void madt_one_processor(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(256 * MiB, false, &acpi_default);
    genv_build_ok(g);
    struct table m;
    read_table(g, find_table(g, "APIC"), &m);
    const uint8_t *host = hpa_va(g->acpi.madt), *cpu = NULL;
    assert_int_equal(m.len, 44 + 8 + 12 + 10 + 6);
    assert_memory_equal(m.b + 10, host + 10, 34); /* OEM ..., LAPIC address, flags */
    assert_int_equal(madt_cpus(&m, &cpu), 1);
    assert_memory_equal(cpu, host + 44, 8);       /* CPU 0, APIC ID 2 */
    /* IOAPIC, ISO, LAPIC NMI follow, unchanged. */
    assert_memory_equal(m.b + 52, host + 60, 12 + 10 + 6);
    genv_free(g);

    struct fake_acpi_opts o = { .first_cpu_disabled = true };
    g = genv_new(256 * MiB, false, &o);
    genv_build_ok(g);
    read_table(g, find_table(g, "APIC"), &m);
    assert_int_equal(madt_cpus(&m, &cpu), 1);
    assert_int_equal(cpu[3], 3); /* the first enabled: APIC ID 3 */
    genv_free(g);

    o = (struct fake_acpi_opts){ .x2apic = true };
    g = genv_new(256 * MiB, false, &o);
    genv_build_ok(g);
    read_table(g, find_table(g, "APIC"), &m);
    assert_int_equal(m.len, 44 + 16 + 12 + 10 + 6);
    assert_int_equal(madt_cpus(&m, &cpu), 1);
    assert_int_equal(cpu[0], 9);
    assert_int_equal(le(cpu + 4, 4), 0x100);
    genv_free(g);
}

/* acpi_copy_* directly: exact size, the boot CPU chosen by APIC ID, an area
 * too small. */
static void copy_api(void **state)
{
    (void)state;
    struct fake_acpi fa;
    fake_acpi_build(&fa, &acpi_default);
    struct acpi_host h;
    acpi_copy_scan(fa.rsdp, 3, &h);
    assert_true(h.present);
    /* RSDP 36->48, XSDT 36+4*8 ->128 (FACS align), FACS 64, DSDT 57 -> 256,
     * FADT 276 -> 544, MADT 80 -> 624, HPET 56 -> 688, SSDT 60 = 748. */
    assert_int_equal(h.guest_size, 748);

    struct mm_env *env = mm_env_new(&s2pt_format_npt);
    assert_int_equal(mm_add_anon(&env->mm, 0x100000, 0x102000, "acpi"), 0);
    gpa_t rsdp = 1;
    assert_int_equal(acpi_copy_write(&h, &env->mm, 0x100000, 747, &rsdp), -PV_ENOSPC);
    assert_int_equal(rsdp, 0);
    assert_int_equal(acpi_copy_write(&h, &env->mm, 0x100000, 748, &rsdp), 0);
    assert_int_equal(rsdp, 0x100000);
    uint8_t madt[80];
    assert_int_equal(mm_read(&env->mm, 0x100000 + 544, madt, sizeof(madt)), 0);
    assert_memory_equal(madt, "APIC", 4);
    assert_true(sum_ok(madt, sizeof(madt)));
    assert_int_equal(madt[44], 0);
    assert_int_equal(madt[44 + 3], 3); /* APIC ID 3 kept, not the first */
    assert_int_equal(madt[52], 1);     /* then the IOAPIC */
    mm_env_free(env);
    fake_acpi_free(&fa);
}

static void devices_found(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(256 * MiB, false, &acpi_default);
    genv_build_ok(g);
    const struct guest_devices *d = &g->layout.dev;
    assert_int_equal(d->pm1a_cnt, FAKE_PM1A_CNT);
    assert_int_equal(d->pm1b_cnt, 0);
    /* the fixed-hardware blocks the port policy lets through */
    assert_int_equal(d->pm_port[PM_BLK_PM1A_EVT], FAKE_PM1A_CNT - 4);
    assert_int_equal(d->pm_len[PM_BLK_PM1A_EVT], 4);
    assert_int_equal(d->pm_port[PM_BLK_PM1A_CNT], FAKE_PM1A_CNT);
    assert_int_equal(d->pm_len[PM_BLK_PM1A_CNT], 2);
    assert_int_equal(d->pm_port[PM_BLK_PM_TMR], FAKE_PM1A_CNT + 4);
    assert_int_equal(d->pm_len[PM_BLK_PM_TMR], 4);
    assert_int_equal(d->pm_port[PM_BLK_GPE0], FAKE_PM1A_CNT + 0x1C);
    assert_int_equal(d->pm_len[PM_BLK_GPE0], 16);
    assert_int_equal(d->pm_port[PM_BLK_PM1B_EVT], 0);
    assert_int_equal(d->pm_port[PM_BLK_PM2_CNT], 0);
    assert_int_equal(d->pm_port[PM_BLK_GPE1], 0);
    assert_true(d->s5_found);
    assert_int_equal(d->s5_typa, FAKE_S5_TYPA);
    assert_int_equal(d->s5_typb, FAKE_S5_TYPB);
    assert_int_equal(d->lapic, FAKE_LAPIC);
    assert_int_equal(d->ioapic, FAKE_IOAPIC);
    assert_int_equal(d->hpet, FAKE_HPET);
    genv_free(g);
}

/* A host with only an RSDT and 32-bit FADT pointers still gives the guest
 * an XSDT; the FADT's 32-bit fields point at the copies, the X_ ones stay 0. */
static void rsdt_host(void **state)
{
    (void)state;
    struct fake_acpi_opts o = { .low32 = true, .rsdt = true };
    struct guest_env *g = genv_new(256 * MiB, false, &o);
    genv_build_ok(g);
    uint64_t e[16];
    assert_int_equal(xsdt_entries(g, e, 16), 4);
    struct table f, d;
    read_table(g, find_table(g, "FACP"), &f);
    assert_int_equal(le(f.b + 132, 8), 0);
    assert_int_equal(le(f.b + 140, 8), 0);
    read_table(g, le(f.b + 40, 4), &d);
    assert_memory_equal(d.b, "DSDT", 4);
    uint64_t facs = le(f.b + 36, 4);
    assert_int_equal(genv_rd(g, facs, 4), le((const uint8_t *)"FACS", 4));
    assert_true(g->layout.dev.s5_found);
    genv_free(g);
}

/* No RSDP (Bochs' OVMF) or a broken one: no guest ACPI, PC defaults. */
static void no_usable_acpi(void **state)
{
    (void)state;
    host_log_clear();
    struct guest_env *g = genv_new(64 * MiB, false, NULL);
    genv_build_ok(g);
    const struct guest_devices *d = &g->layout.dev;
    assert_int_equal(g->layout.acpi_rsdp_gpa, 0);
    assert_int_equal(d->lapic, 0xfee00000);
    assert_int_equal(d->ioapic, 0xfec00000);
    assert_int_equal(d->hpet, 0);
    assert_int_equal(d->pm1a_cnt, 0);
    assert_false(d->s5_found);
    for (size_t i = 0; i < g->layout.n_e820; i++)
        assert_int_not_equal(g->layout.e820[i].type, E820_ACPI);
    assert_null(genv_region(g, 0xfed00000));
    assert_true(host_log_contains("host has no RSDP"));
    genv_free(g);

    host_log_clear();
    struct fake_acpi_opts o = { .bad_rsdp_checksum = true };
    g = genv_new(64 * MiB, false, &o);
    genv_build_ok(g);
    assert_int_equal(g->layout.acpi_rsdp_gpa, 0);
    assert_int_equal(genv_rd(g, 0x7000 + 0x70, 8), 0);
    assert_int_equal(g->layout.dev.hpet, 0);
    assert_true(host_log_contains("host tables unusable"));
    genv_free(g);
}

/* A host table with a bad checksum is dropped, with a warning. */
static void bad_host_table_dropped(void **state)
{
    (void)state;
    host_log_clear();
    struct guest_env *g = genv_new(256 * MiB, false, &acpi_default);
    ((uint8_t *)hpa_va(g->acpi.ssdt))[40] ^= 1;
    genv_build_ok(g);
    assert_int_equal(find_table(g, "SSDT"), 0);
    assert_int_not_equal(find_table(g, "HPET"), 0);
    assert_true(host_log_contains("bad length or checksum"));
    genv_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rsdp_and_xsdt),
        cmocka_unit_test(fadt_points_to_copies),
        cmocka_unit_test(madt_one_processor),
        cmocka_unit_test(copy_api),
        cmocka_unit_test(devices_found),
        cmocka_unit_test(rsdt_host),
        cmocka_unit_test(no_usable_acpi),
        cmocka_unit_test(bad_host_table_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

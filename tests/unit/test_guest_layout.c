/*
 * Unit tests for the guest-physical layout (guest/layout.c through
 * guest_build): exact e820 tables and regions for a small and a large
 * guest, RAM totals, kernel and initrd placement, device pages, the
 * memory/placement errors, and guest_layout_describe().
 *
 * With the synthetic host ACPI tables the guest copy takes one page, so
 * the ACPI area is the last page below low_end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest/layout.h"
#include "tests/unit/guest_env.h"
#include "tests/unit/host_log.h"

static const struct fake_acpi_opts acpi_default = { 0 };

struct want_region {
    gpa_t start, end;
    enum region_kind kind;
    uint32_t rights;
    const char *name;
};

static void expect_regions(struct guest_env *g, const struct want_region *w, size_t n)
{
    const struct region_set *set = &g->mm->mm.regions;
    const struct region *r = region_first(set);
    char buf[128];
    for (size_t i = 0; i < n; i++, r = region_next(set, r)) {
        if (!r)
            fail_msg("region %zu missing: want [0x%llx-0x%llx) %s", i,
                     (unsigned long long)w[i].start, (unsigned long long)w[i].end,
                     w[i].name);
        region_format(r, buf, sizeof(buf));
        if (r->start != w[i].start || r->end != w[i].end || r->kind != w[i].kind ||
            r->rights != w[i].rights || strcmp(r->name, w[i].name))
            fail_msg("region %zu is %s; want [0x%llx-0x%llx) %s %s", i, buf,
                     (unsigned long long)w[i].start, (unsigned long long)w[i].end,
                     region_kind_name(w[i].kind), w[i].name);
    }
    if (r) {
        region_format(r, buf, sizeof(buf));
        fail_msg("extra region %s", buf);
    }
}

static void expect_e820(const struct guest_layout *l, const struct e820_entry *w,
                        size_t n)
{
    assert_int_equal(l->n_e820, n);
    for (size_t i = 0; i < n; i++)
        if (l->e820[i].addr != w[i].addr || l->e820[i].size != w[i].size ||
            l->e820[i].type != w[i].type)
            fail_msg("e820[%zu] = 0x%llx+0x%llx type %u; want 0x%llx+0x%llx type %u",
                     i, (unsigned long long)l->e820[i].addr,
                     (unsigned long long)l->e820[i].size, l->e820[i].type,
                     (unsigned long long)w[i].addr, (unsigned long long)w[i].size,
                     w[i].type);
}

/* Sum of RAM-backed regions (everything but passthrough). */
static uint64_t region_ram(struct guest_env *g)
{
    uint64_t sum = 0;
    const struct region_set *set = &g->mm->mm.regions;
    for (const struct region *r = region_first(set); r; r = region_next(set, r))
        if (r->kind != REGION_PASSTHROUGH)
            sum += r->end - r->start;
    return sum;
}

static uint64_t e820_ram(const struct guest_layout *l)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < l->n_e820; i++)
        if (l->e820[i].type == E820_RAM || l->e820[i].type == E820_ACPI)
            sum += l->e820[i].size;
    return sum;
}

/* 256M: low_end = 1M + 256M - 0x9f000 = 0x10061000; ACPI in its last page;
 * initrd (0x507b bytes, 6 pages) right below it. */
static void small_guest_exact(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(256 * MiB, true, &acpi_default);
    genv_build_ok(g);

    const struct want_region wr[] = {
        { 0, 0x9f000, REGION_ANON, ACC_RWX, "ram-low" },
        { 0x100000, 0x1000000, REGION_ANON, ACC_RWX, "ram" },
        { 0x1000000, 0x1400000, REGION_FILE_PRIVATE, ACC_RWX, "kernel" },
        { 0x1400000, 0x1005a000, REGION_ANON, ACC_RWX, "ram" },
        { 0x1005a000, 0x10060000, REGION_FILE_PRIVATE, ACC_RWX, "initrd" },
        { 0x10060000, 0x10061000, REGION_ANON, ACC_RWX, "acpi" },
        { 0xfec00000, 0xfec01000, REGION_PASSTHROUGH, ACC_RW, "ioapic" },
        { 0xfed00000, 0xfed01000, REGION_PASSTHROUGH, ACC_RW, "hpet" },
        { 0xfee00000, 0xfee01000, REGION_PASSTHROUGH, ACC_RW, "lapic" },
    };
    expect_regions(g, wr, sizeof(wr) / sizeof(wr[0]));
    const struct e820_entry we[] = {
        { 0, 0x9f000, E820_RAM },
        { 0x9f000, 0x61000, E820_RESERVED },
        { 0x100000, 0x10060000 - 0x100000, E820_RAM },
        { 0x10060000, 0x1000, E820_ACPI },
    };
    expect_e820(&g->layout, we, sizeof(we) / sizeof(we[0]));

    /* Backings: kernel = relocated staged image, initrd = staged initrd,
     * devices = host address, uncached. */
    const struct region *k = genv_region(g, 0x1000000);
    assert_int_equal(k->backing.image.data, va_hpa(g->kernel));
    assert_int_equal(k->backing.image.offset, 0);
    assert_int_equal(k->backing.image.size, g->kopts.pm_size);
    const struct region *i = genv_region(g, 0x1005a000);
    assert_int_equal(i->backing.image.data, va_hpa(g->initrd));
    assert_int_equal(i->backing.image.size, GENV_INITRD_SIZE);
    const struct region *d = genv_region(g, 0xfee00000);
    assert_int_equal(d->backing.host.hpa, 0xfee00000);
    assert_int_equal(d->backing.host.memtype, MT_UC);

    assert_int_equal(g->layout.ram_below_4g, 256 * MiB);
    assert_int_equal(g->layout.ram_above_4g, 0);
    assert_int_equal(region_ram(g), 256 * MiB);
    assert_int_equal(e820_ram(&g->layout), 256 * MiB);
    assert_int_equal(g->layout.kernel_gpa, 0x1000000);
    assert_int_equal(g->layout.kernel_size, 0x400000);
    assert_int_equal(g->layout.initrd_gpa, 0x1005a000);
    assert_int_equal(g->layout.initrd_size, GENV_INITRD_SIZE);
    assert_int_equal(g->layout.zero_page_gpa, 0x7000);
    assert_int_equal(g->layout.cmdline_gpa, 0x20000);
    assert_int_equal(g->layout.acpi_rsdp_gpa, 0x10060000);
    genv_free(g);
}

/* 6G: RAM to 3G, ACPI in the page below 3G, the rest above 4G; the initrd
 * is held below initrd_addr_max (2G). */
static void large_guest_exact(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(6 * GiB, true, &acpi_default);
    genv_build_ok(g);
    uint64_t high = 6 * GiB - 0x9f000 - (3 * GiB - 0x100000);
    const struct want_region wr[] = {
        { 0, 0x9f000, REGION_ANON, ACC_RWX, "ram-low" },
        { 0x100000, 0x1000000, REGION_ANON, ACC_RWX, "ram" },
        { 0x1000000, 0x1400000, REGION_FILE_PRIVATE, ACC_RWX, "kernel" },
        { 0x1400000, 0x7fffa000, REGION_ANON, ACC_RWX, "ram" },
        { 0x7fffa000, 0x80000000, REGION_FILE_PRIVATE, ACC_RWX, "initrd" },
        { 0x80000000, 0xbffff000, REGION_ANON, ACC_RWX, "ram" },
        { 0xbffff000, 0xc0000000, REGION_ANON, ACC_RWX, "acpi" },
        { 0xfec00000, 0xfec01000, REGION_PASSTHROUGH, ACC_RW, "ioapic" },
        { 0xfed00000, 0xfed01000, REGION_PASSTHROUGH, ACC_RW, "hpet" },
        { 0xfee00000, 0xfee01000, REGION_PASSTHROUGH, ACC_RW, "lapic" },
        { 4 * GiB, 4 * GiB + high, REGION_ANON, ACC_RWX, "ram-high" },
    };
    expect_regions(g, wr, sizeof(wr) / sizeof(wr[0]));
    const struct e820_entry we[] = {
        { 0, 0x9f000, E820_RAM },
        { 0x9f000, 0x61000, E820_RESERVED },
        { 0x100000, 0xbffff000 - 0x100000, E820_RAM },
        { 0xbffff000, 0x1000, E820_ACPI },
        { 4 * GiB, high, E820_RAM },
    };
    expect_e820(&g->layout, we, sizeof(we) / sizeof(we[0]));
    assert_int_equal(g->layout.ram_below_4g, 3 * GiB - 0x61000);
    assert_int_equal(g->layout.ram_above_4g, high);
    assert_int_equal(g->layout.ram_below_4g + g->layout.ram_above_4g, 6 * GiB);
    assert_int_equal(region_ram(g), 6 * GiB);
    assert_int_equal(e820_ram(&g->layout), 6 * GiB);
    genv_free(g);
}

/* Without ACPI: no ACPI area, RAM to low_end, LAPIC + IOAPIC defaults. */
static void no_acpi_layout(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(64 * MiB, false, NULL);
    genv_build_ok(g);
    gpa_t low_end = 0x100000 + 64 * MiB - 0x9f000;
    const struct want_region wr[] = {
        { 0, 0x9f000, REGION_ANON, ACC_RWX, "ram-low" },
        { 0x100000, 0x1000000, REGION_ANON, ACC_RWX, "ram" },
        { 0x1000000, 0x1400000, REGION_FILE_PRIVATE, ACC_RWX, "kernel" },
        { 0x1400000, low_end, REGION_ANON, ACC_RWX, "ram" },
        { 0xfec00000, 0xfec01000, REGION_PASSTHROUGH, ACC_RW, "ioapic" },
        { 0xfee00000, 0xfee01000, REGION_PASSTHROUGH, ACC_RW, "lapic" },
    };
    expect_regions(g, wr, sizeof(wr) / sizeof(wr[0]));
    const struct e820_entry we[] = {
        { 0, 0x9f000, E820_RAM },
        { 0x9f000, 0x61000, E820_RESERVED },
        { 0x100000, low_end - 0x100000, E820_RAM },
    };
    expect_e820(&g->layout, we, sizeof(we) / sizeof(we[0]));
    assert_int_equal(region_ram(g), 64 * MiB);
    assert_int_equal(g->layout.initrd_gpa, 0);
    assert_int_equal(g->layout.initrd_size, 0);
    genv_free(g);
}

/* Relocatable: pref_address rounded up to kernel_alignment; not
 * relocatable: exactly pref_address. init_size rounds up to a page. */
static void kernel_placement(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(128 * MiB, false, NULL);
    g->kopts.pref = 0x1100000;
    g->kopts.init_size = 0x300001;
    genv_build_ok(g);
    assert_int_equal(g->layout.kernel_gpa, 0x1200000);
    assert_int_equal(g->layout.kernel_size, 0x301000);
    assert_int_equal(genv_region(g, 0x1200000)->end, 0x1501000);
    assert_int_equal(g->entry.rip, 0x1200200);
    genv_free(g);

    g = genv_new(128 * MiB, false, NULL);
    g->kopts.pref = 0x1100000;
    g->kopts.relocatable = 0;
    genv_build_ok(g);
    assert_int_equal(g->layout.kernel_gpa, 0x1100000);
    assert_int_equal(genv_region(g, 0x1100000)->kind, REGION_FILE_PRIVATE);
    genv_free(g);
}

/* The initrd ends at or below initrd_addr_max + 1, page aligned. */
static void initrd_below_addr_max(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(256 * MiB, true, NULL);
    g->kopts.initrd_addr_max = 0x37fffff;
    genv_build_ok(g);
    assert_int_equal(g->layout.initrd_gpa, 0x37fa000);
    const struct region *r = genv_region(g, 0x37fa000);
    assert_string_equal(r->name, "initrd");
    assert_int_equal(r->end, 0x3800000);
    genv_free(g);
}

static void expect_build_error(struct guest_env *g, const char *msg)
{
    assert_int_equal(genv_build(g), -PV_EINVAL);
    assert_string_equal(g->err, msg);
    /* Nothing was created, and the staged kernel is untouched. */
    assert_null(region_first(&g->mm->mm.regions));
    assert_memory_equal(g->kernel, g->kfile, g->in.kernel.size);
    genv_free(g);
}

static void memory_errors(void **state)
{
    (void)state;
    expect_build_error(genv_new(8 * MiB, false, NULL),
                       "memory 8M: below the 16M minimum");
    expect_build_error(genv_new(2ull << 40, false, NULL),
                       "memory 2T: above the 1T maximum");
    expect_build_error(genv_new(16 * MiB + 512, false, NULL),
                       "memory 16777728: not a multiple of 4K");
    /* 16M: low RAM ends at 0x1061000, the ACPI page below it. */
    expect_build_error(genv_new(16 * MiB, false, &acpi_default),
                       "memory 16M: the kernel needs [0x1000000, 0x1400000) but "
                       "usable RAM below 3G ends at 0x1060000");
    struct guest_env *g = genv_new(64 * MiB, false, NULL);
    g->kopts.relocatable = 0;
    g->kopts.pref = 0xc0000000;
    expect_build_error(g, "memory 64M: the kernel needs [0xc0000000, 0xc0400000) "
                          "but usable RAM below 3G ends at 0x4061000");
}

static void initrd_does_not_fit(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(256 * MiB, true, &acpi_default);
    g->kopts.initrd_addr_max = 0x1404fff;
    expect_build_error(g, "memory 256M: no room for initrd /initrd.img (20603) "
                          "between the kernel's end 0x1400000 and 0x1405000");
    /* 24M: low RAM ends at 0x1861000; the kernel leaves 4 pages. */
    g = genv_new(24 * MiB, true, NULL);
    g->kopts.init_size = 0x85d000;
    expect_build_error(g, "memory 24M: no room for initrd /initrd.img (20603) "
                          "between the kernel's end 0x185d000 and 0x1861000");
}

/* Device pages: never over guest RAM, never over host RAM; duplicates and
 * zero bases skipped; unaligned bases use their page. */
static void device_pages(void **state)
{
    (void)state;
    struct fake_kernel_opts ko = fake_kernel_defaults();
    struct bzimage_info bi;
    uint64_t size;
    uint8_t *img = fake_bzimage(&ko, &size);
    assert_int_equal(bzimage_parse(img, size, &bi, NULL, 0), 0);
    struct layout_mmio mmio[] = {
        { 0xfee00000, "lapic" }, { 0xfec00000, "ioapic" },
        { 0xfec00000, "ioapic" }, { 0, "hpet" }, { 0xfed00010, "hpet" },
    };
    struct mem_range ranges[] = { { 0xfed40000, 0x1000, MEM_ACPI_NVS } };
    struct memmap map = { ranges, 1, 1 };
    struct layout_input in = { .memory = 64 * MiB, .kernel = &bi, .mmio = mmio,
                               .n_mmio = 5, .host_map = &map };
    struct layout_plan plan;
    struct guest_layout gl;
    char err[256];
    assert_int_equal(layout_compute(&in, &plan, &gl, err, sizeof(err)), 0);
    /* ram-low, legacy ROM, ram, kernel, ram (+ acpi none) then 3 devices */
    assert_int_equal(plan.n, 5 + 3);
    assert_int_equal(plan.r[1].start, GUEST_LEGACY_START);
    assert_int_equal(plan.r[1].end, GUEST_LEGACY_START + GUEST_LEGACY_SIZE);
    assert_int_equal(plan.r[1].backing, LAYOUT_LEGACY_ROM);
    assert_int_equal(plan.r[5].start, 0xfec00000);
    assert_int_equal(plan.r[6].start, 0xfed00000);
    assert_int_equal(plan.r[6].end, 0xfed01000);
    assert_int_equal(plan.r[7].start, 0xfee00000);
    assert_int_equal(plan.r[7].backing, LAYOUT_PASSTHROUGH);

    mmio[4].base = 0x2000000;
    assert_int_equal(layout_compute(&in, &plan, &gl, err, sizeof(err)), -PV_EINVAL);
    assert_string_equal(err, "host hpet at 0x2000000 lies in guest RAM");
    in.memory = 6 * GiB;
    mmio[4].base = 4 * GiB + 0x10000;
    assert_int_equal(layout_compute(&in, &plan, &gl, err, sizeof(err)), -PV_EINVAL);
    assert_string_equal(err, "host hpet at 0x100010000 lies in guest RAM");
    mmio[4].base = 0xfed40000;
    assert_int_equal(layout_compute(&in, &plan, &gl, err, sizeof(err)), -PV_EINVAL);
    assert_string_equal(err, "host hpet at 0xfed40000 is host memory (acpi-nvs), "
                             "not a device");
    ranges[0].type = MEM_RESERVED; /* a device range the firmware reserved */
    assert_int_equal(layout_compute(&in, &plan, &gl, err, sizeof(err)), 0);
    free(img);
}

struct lines {
    char text[16][160];
    size_t n;
};

static void collect(void *ctx, const char *line)
{
    struct lines *l = ctx;
    assert_true(l->n < 16);
    snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", line);
}

static void describe_lines(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(256 * MiB, true, &acpi_default);
    genv_build_ok(g);
    struct lines l = { .n = 0 };
    guest_layout_describe(&g->layout, collect, &l);
    const char *want[] = {
        "guest e820 0x0000000000-0x000009f000 ram",
        "guest e820 0x000009f000-0x0000100000 reserved",
        "guest e820 0x0000100000-0x0010060000 ram",
        "guest e820 0x0010060000-0x0010061000 acpi",
        "guest ram below-4g=256M above-4g=0",
        "guest kernel at 0x1000000 size 0x400000 entry 0x1000200",
        "guest initrd at 0x1005a000 size 20603",
        "guest boot zero-page 0x7000 cmdline 0x20000 acpi-rsdp 0x10060000",
        "guest devices lapic 0xfee00000 ioapic 0xfec00000 hpet 0xfed00000 "
        "pm1a 0x604 pm1b 0x0 s5 5/6",
    };
    assert_int_equal(l.n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < l.n; i++)
        assert_string_equal(l.text[i], want[i]);
    genv_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_guest_exact),
        cmocka_unit_test(large_guest_exact),
        cmocka_unit_test(no_acpi_layout),
        cmocka_unit_test(kernel_placement),
        cmocka_unit_test(initrd_below_addr_max),
        cmocka_unit_test(memory_errors),
        cmocka_unit_test(initrd_does_not_fit),
        cmocka_unit_test(device_pages),
        cmocka_unit_test(describe_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

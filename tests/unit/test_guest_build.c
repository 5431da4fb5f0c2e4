/*
 * Unit tests for guest_build()'s boot data, read back through mm_read as
 * the guest would see it: the zero page, the command line, the identity
 * page tables, the GDT, the entry state, the kernel and initrd bytes behind
 * their file-private regions, and the argument / command line errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest/bootparams.h"
#include "guest/entry.h"
#include "guest/layout.h"
#include "tests/unit/guest_env.h"

static const struct fake_acpi_opts acpi_default = { 0 };

static void zero_page_fields(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(256 * MiB, true, &acpi_default);
    genv_build_ok(g);
    uint8_t bp[4096];
    genv_read(g, 0x7000, bp, sizeof(bp));
    uint64_t zp = 0x7000;

    /* Copied from the file: the header bytes the loader does not own. */
    assert_int_equal(genv_rd(g, zp + BZ_OFF_BOOT_FLAG, 2), 0xaa55);
    assert_memory_equal(bp + BZ_OFF_HEADER, "HdrS", 4);
    assert_int_equal(genv_rd(g, zp + BZ_OFF_VERSION, 2), 0x020f);
    assert_int_equal(bp[BZ_OFF_SETUP_SECTS], 4);
    assert_int_equal(genv_rd(g, zp + BZ_OFF_INIT_SIZE, 4), 0x400000);
    assert_int_equal(genv_rd(g, zp + BZ_OFF_PREF_ADDRESS, 8), 0x1000000);
    assert_int_equal(genv_rd(g, zp + 0x264, 4), 0x5a5a5a5a);
    /* Written by the loader. */
    assert_int_equal(bp[BZ_OFF_TYPE_OF_LOADER], 0xff);
    assert_int_equal(bp[BZ_OFF_LOADFLAGS], BZ_LOADED_HIGH | BZ_CAN_USE_HEAP);
    assert_int_equal(genv_rd(g, zp + BZ_OFF_HEAP_END_PTR, 2), 0xde00);
    assert_int_equal(genv_rd(g, zp + BZ_OFF_CMD_LINE_PTR, 4), 0x20000);
    assert_int_equal(genv_rd(g, zp + BP_OFF_EXT_CMD_LINE_PTR, 4), 0);
    assert_int_equal(genv_rd(g, zp + BZ_OFF_RAMDISK_IMAGE, 4), 0x1005a000);
    assert_int_equal(genv_rd(g, zp + BZ_OFF_RAMDISK_SIZE, 4), GENV_INITRD_SIZE);
    assert_int_equal(genv_rd(g, zp + BP_OFF_EXT_RAMDISK_IMAGE, 4), 0);
    assert_int_equal(genv_rd(g, zp + BP_OFF_EXT_RAMDISK_SIZE, 4), 0);
    assert_int_equal(genv_rd(g, zp + BZ_OFF_SETUP_DATA, 8), 0);
    assert_int_equal(genv_rd(g, zp + BP_OFF_ACPI_RSDP_ADDR, 8), 0x10060000);
    assert_int_equal(bp[BP_OFF_SENTINEL], 0);
    /* Nothing but the header between 0x26c and the e820 count. */
    for (size_t i = 0x26c; i < BP_OFF_E820_TABLE; i++)
        assert_int_equal(bp[i], 0);

    /* e820: exactly the layout's table. */
    assert_int_equal(bp[BP_OFF_E820_ENTRIES], g->layout.n_e820);
    assert_int_equal(g->layout.n_e820, 4);
    for (size_t i = 0; i < g->layout.n_e820; i++) {
        uint64_t e = zp + BP_OFF_E820_TABLE + i * 20;
        assert_int_equal(genv_rd(g, e, 8), g->layout.e820[i].addr);
        assert_int_equal(genv_rd(g, e + 8, 8), g->layout.e820[i].size);
        assert_int_equal(genv_rd(g, e + 16, 4), g->layout.e820[i].type);
    }
    assert_int_equal(genv_rd(g, zp + BP_OFF_E820_TABLE + 3 * 20 + 16, 4), E820_ACPI);
    assert_int_equal(genv_rd(g, zp + BP_OFF_E820_TABLE + 4 * 20, 8), 0);

    /* The command line, NUL-terminated, at cmd_line_ptr. */
    char cmd[64];
    genv_read(g, 0x20000, cmd, sizeof(cmd));
    assert_string_equal(cmd, "console=ttyS0 root=/dev/ram0");
    genv_free(g);
}

/* Without an initrd or ACPI the corresponding fields are zero; an empty
 * command line is an empty string. */
static void zero_page_minimal(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(64 * MiB, false, NULL);
    g->cfg.options[0] = '\0';
    g->kopts.loadflags = BZ_LOADED_HIGH | BZ_KASLR_FLAG | BZ_QUIET_FLAG;
    genv_build_ok(g);
    assert_int_equal(genv_rd(g, 0x7000 + BZ_OFF_RAMDISK_IMAGE, 4), 0);
    assert_int_equal(genv_rd(g, 0x7000 + BZ_OFF_RAMDISK_SIZE, 4), 0);
    assert_int_equal(genv_rd(g, 0x7000 + BP_OFF_ACPI_RSDP_ADDR, 8), 0);
    assert_int_equal(genv_rd(g, 0x7000 + BZ_OFF_LOADFLAGS, 1),
                     BZ_LOADED_HIGH | BZ_QUIET_FLAG | BZ_CAN_USE_HEAP);
    assert_int_equal(genv_rd(g, 0x7000 + BP_OFF_E820_ENTRIES, 1), 3);
    assert_int_equal(genv_rd(g, 0x20000, 1), 0);
    genv_free(g);
}

/* Walk the guest's page tables for va as the CPU would (4-level, 2 MiB). */
static uint64_t walk(struct guest_env *g, uint64_t cr3, uint64_t va)
{
    uint64_t pml4e = genv_rd(g, cr3 + ((va >> 39) & 511) * 8, 8);
    assert_true(pml4e & GUEST_PTE_P);
    uint64_t pdpte = genv_rd(g, (pml4e & ~0xfffull) + ((va >> 30) & 511) * 8, 8);
    assert_true(pdpte & GUEST_PTE_P);
    assert_false(pdpte & GUEST_PTE_PS);
    uint64_t pde = genv_rd(g, (pdpte & ~0xfffull) + ((va >> 21) & 511) * 8, 8);
    assert_int_equal(pde & 0xfff, GUEST_PTE_P | GUEST_PTE_RW | GUEST_PTE_PS);
    return (pde & ~0x1fffffull) | (va & 0x1fffff);
}

static void page_tables_identity(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(256 * MiB, true, &acpi_default);
    genv_build_ok(g);
    uint64_t cr3 = g->entry.cr3;
    assert_int_equal(cr3, 0x10000);
    const uint64_t va[] = { 0, 0x7000, 0x20000, 0x1000200, 0x1005a123,
                            0x10060000, 0x7fffffff, 0xc0000000, 0xfee00300,
                            0xffffffff };
    for (size_t i = 0; i < sizeof(va) / sizeof(va[0]); i++)
        assert_int_equal(walk(g, cr3, va[i]), va[i]);
    /* Exactly the first 4 GiB: PML4[0] and PDPT[0..3] only. */
    assert_int_equal(genv_rd(g, 0x10000, 8), 0x11000 | GUEST_PTE_P | GUEST_PTE_RW);
    for (unsigned i = 1; i < 512; i++)
        assert_int_equal(genv_rd(g, 0x10000 + i * 8, 8), 0);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(genv_rd(g, 0x11000 + i * 8, 8),
                         (0x12000 + i * 0x1000) | GUEST_PTE_P | GUEST_PTE_RW);
    for (unsigned i = 4; i < 512; i++)
        assert_int_equal(genv_rd(g, 0x11000 + i * 8, 8), 0);
    assert_int_equal(genv_rd(g, 0x15000 + 511 * 8, 8),
                     0xffe00000 | GUEST_PTE_P | GUEST_PTE_RW | GUEST_PTE_PS);
    genv_free(g);
}

static void gdt_and_entry_state(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(256 * MiB, false, &acpi_default);
    genv_build_ok(g);
    const struct guest_entry *e = &g->entry;
    assert_int_equal(e->rip, 0x1000200);
    assert_int_equal(e->rsi, 0x7000);
    assert_int_equal(e->rsp, 0x7000);
    assert_int_equal(e->rflags, 0x2);
    assert_int_equal(e->cr0, 0x80000031); /* PG | NE | ET | PE */
    assert_int_equal(e->cr3, 0x10000);
    assert_int_equal(e->cr4, 0x20);       /* PAE */
    assert_int_equal(e->efer, 0x500);     /* LMA | LME */
    assert_int_equal(e->pat, 0x0007040600070406ull);
    assert_int_equal(e->cs, 0x10);
    assert_int_equal(e->ds, 0x18);
    assert_int_equal(e->gdt_base, 0x5000);
    assert_int_equal(e->gdt_limit, 31);

    assert_int_equal(genv_rd(g, 0x5000, 8), 0);
    assert_int_equal(genv_rd(g, 0x5008, 8), 0);
    /* 64-bit code: P, DPL 0, S, execute/read, accessed, L, G, limit 4G */
    assert_int_equal(genv_rd(g, 0x5010, 8), 0x00af9b000000ffffull);
    /* data: P, DPL 0, S, read/write, accessed, D/B, G, limit 4G */
    assert_int_equal(genv_rd(g, 0x5018, 8), 0x00cf93000000ffffull);
    /* The stack page is RAM and writable. */
    const struct region *r = genv_region(g, e->rsp - 8);
    assert_non_null(r);
    assert_int_equal(r->kind, REGION_ANON);
    genv_free(g);
}

/* The kernel region reads as the file's protected-mode part, then zeros
 * (the rest of init_size); the initrd region as the initrd. The staged
 * images stay unmodified by guest writes (copy on write). */
static void kernel_and_initrd_bytes(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(256 * MiB, true, NULL);
    genv_build_ok(g);
    uint64_t pm = g->kopts.pm_size, setup = fake_setup_size(&g->kopts);
    uint8_t *buf = malloc(pm + 2 * PAGE_SIZE + GENV_INITRD_SIZE);
    assert_non_null(buf);
    genv_read(g, 0x1000000, buf, pm + 2 * PAGE_SIZE);
    assert_memory_equal(buf, g->kfile + setup, pm);
    for (uint64_t i = pm; i < pm + 2 * PAGE_SIZE; i++)
        assert_int_equal(buf[i], 0);
    genv_read(g, 0x1400000 - 16, buf, 16); /* last bytes of init_size */
    for (int i = 0; i < 16; i++)
        assert_int_equal(buf[i], 0);
    /* startup_64 is image byte 0x200. */
    assert_int_equal(genv_rd(g, g->entry.rip, 1), fake_pm_byte(0x200));

    genv_read(g, g->layout.initrd_gpa, buf, GENV_INITRD_SIZE);
    for (uint64_t i = 0; i < GENV_INITRD_SIZE; i++)
        assert_int_equal(buf[i], genv_initrd_byte(i));
    uint8_t tail[PAGE_SIZE];
    genv_read(g, g->layout.initrd_gpa + GENV_INITRD_SIZE,
              tail, (size_t)(ALIGN_UP(GENV_INITRD_SIZE, PAGE_SIZE) - GENV_INITRD_SIZE));
    for (uint64_t i = 0; i < ALIGN_UP(GENV_INITRD_SIZE, PAGE_SIZE) - GENV_INITRD_SIZE; i++)
        assert_int_equal(tail[i], 0);

    uint8_t x = 0x77;
    assert_int_equal(mm_write(&g->mm->mm, 0x1000000, &x, 1), 0);
    assert_int_equal(genv_rd(g, 0x1000000, 1), 0x77);
    assert_int_equal(g->kernel[0], fake_pm_byte(0)); /* staged copy intact */
    free(buf);
    genv_free(g);
}

static void cmdline_too_long(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(64 * MiB, false, NULL);
    g->kopts.cmdline_size = 10;
    genv_stage_kernel(g);
    assert_int_equal(genv_build(g), -PV_EINVAL);
    assert_string_equal(g->err, "options: the command line is 28 bytes, the kernel "
                                "takes at most 10");
    assert_null(region_first(&g->mm->mm.regions));
    assert_memory_equal(g->kernel, g->kfile, g->in.kernel.size);
    genv_free(g);

    /* Exactly cmdline_size bytes fit. */
    g = genv_new(64 * MiB, false, NULL);
    g->kopts.cmdline_size = 28;
    genv_build_ok(g);
    genv_free(g);
}

static void bad_inputs(void **state)
{
    (void)state;
    /* A bad kernel is named by its path; nothing changes. */
    struct guest_env *g = genv_new(64 * MiB, false, NULL);
    g->kopts.magic = 0;
    genv_stage_kernel(g);
    assert_int_equal(genv_build(g), -PV_EINVAL);
    assert_string_equal(g->err, "linux /vmlinuz: not a bzImage (no HdrS signature)");
    assert_memory_equal(g->kernel, g->kfile, g->in.kernel.size);
    assert_null(region_first(&g->mm->mm.regions));
    genv_free(g);

    /* mm must be empty. */
    g = genv_new(64 * MiB, false, NULL);
    genv_stage_kernel(g);
    assert_int_equal(mm_add_anon(&g->mm->mm, 0, PAGE_SIZE, "x"), 0);
    assert_int_equal(genv_build(g), -PV_EINVAL);
    assert_string_equal(g->err, "guest: guest memory is not empty");
    assert_int_equal(mm_remove_range(&g->mm->mm, 0, PAGE_SIZE), 0);

    /* The staged kernel must be page aligned to back a region. */
    g->in.kernel.base += 16;
    assert_int_equal(genv_build(g), -PV_EINVAL);
    assert_string_equal(g->err, "guest: kernel not staged at a page-aligned address");
    g->in.kernel.base -= 16;
    assert_int_equal(guest_build(NULL, &g->in, &g->entry, &g->layout, g->err,
                                 sizeof(g->err)), -PV_EINVAL);
    assert_string_equal(g->err, "guest: missing argument");
    genv_free(g);
}

/* Out of frames while writing boot data: reported, not a crash. */
static void out_of_frames(void **state)
{
    (void)state;
    struct guest_env *g = genv_new(64 * MiB, false, NULL);
    genv_stage_kernel(g);
    /* Take every free frame but one (the root table exists already). */
    struct frame_pool *fp = &g->mm->fp;
    size_t n = frame_free_count(fp);
    hpa_t *taken = calloc(n, sizeof(*taken));
    assert_non_null(taken);
    for (size_t i = 0; i + 1 < n; i++) {
        struct frame *f = frame_alloc(fp, 0);
        assert_non_null(f);
        taken[i] = frame_hpa(fp, f);
    }
    int rc = genv_build(g);
    assert_int_equal(rc, -PV_ENOMEM);
    assert_non_null(strstr(g->err, "out of frames"));
    mm_destroy(&g->mm->mm);
    for (size_t i = 0; i + 1 < n; i++)
        frame_put(fp, frame_of(fp, taken[i]));
    free(taken);
    /* mm_env_free wants an mm: start a fresh empty one. */
    assert_int_equal(mm_init(&g->mm->mm, fp, &s2pt_format_ept, true, g->mm->regions,
                             MM_ENV_REGIONS, NULL, 0, mm_env_inv, g->mm), 0);
    genv_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zero_page_fields),
        cmocka_unit_test(zero_page_minimal),
        cmocka_unit_test(page_tables_identity),
        cmocka_unit_test(gdt_and_entry_state),
        cmocka_unit_test(kernel_and_initrd_bytes),
        cmocka_unit_test(cmdline_too_long),
        cmocka_unit_test(bad_inputs),
        cmocka_unit_test(out_of_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Fixture for the guest construction tests: a real frame pool + guest_mm
 * (mm_env.h), a synthetic staged kernel and initrd, synthetic host ACPI
 * tables (guest_fake.h), and helpers to read guest memory and regions.
 * Include after <cmocka.h>.
 */
#ifndef PV_TESTS_UNIT_GUEST_ENV_H
#define PV_TESTS_UNIT_GUEST_ENV_H

#include "guest/guest.h"
#include "tests/unit/guest_fake.h"
#include "tests/unit/mm_env.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define GENV_INITRD_SIZE (5 * 4096 + 123)

struct guest_env {
    struct mm_env *mm;
    struct pv_config cfg;
    struct fake_kernel_opts kopts;
    uint8_t *kernel;      /* staged (relocated by guest_build) */
    uint8_t *kfile;       /* pristine copy of the file */
    uint8_t *initrd;
    struct fake_acpi acpi;
    bool has_acpi;
    struct mem_range host_ranges[4];
    struct memmap host_map;
    struct guest_input in;
    struct guest_entry entry;
    struct guest_layout layout;
    char err[256];
};

static inline uint8_t genv_initrd_byte(uint64_t i) { return (uint8_t)(0xc3 ^ (i * 29u)); }

/* A guest of memory bytes; initrd and host ACPI (with opts) optional. */
static inline struct guest_env *genv_new(uint64_t memory, bool initrd,
                                         const struct fake_acpi_opts *acpi)
{
    struct guest_env *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    g->mm = mm_env_new(&s2pt_format_ept);
    config_defaults(&g->cfg);
    strcpy(g->cfg.linux_path, "/vmlinuz");
    strcpy(g->cfg.options, "console=ttyS0 root=/dev/ram0");
    g->cfg.memory = g->cfg.frames = memory;
    g->kopts = fake_kernel_defaults();
    if (initrd) {
        strcpy(g->cfg.initrd_path, "/initrd.img");
        g->initrd = aligned_alloc(PAGE_SIZE, ALIGN_UP(GENV_INITRD_SIZE, PAGE_SIZE));
        assert_non_null(g->initrd);
        memset(g->initrd, 0, ALIGN_UP(GENV_INITRD_SIZE, PAGE_SIZE));
        for (uint64_t i = 0; i < GENV_INITRD_SIZE; i++)
            g->initrd[i] = genv_initrd_byte(i);
        g->in.initrd = (struct staged_file){ va_hpa(g->initrd), GENV_INITRD_SIZE,
                                             ALIGN_UP(GENV_INITRD_SIZE, PAGE_SIZE) };
    }
    if (acpi) {
        fake_acpi_build(&g->acpi, acpi);
        g->has_acpi = true;
        g->in.acpi_rsdp = g->acpi.rsdp;
    }
    g->host_map = (struct memmap){ g->host_ranges, 0, 4 };
    g->in.cfg = &g->cfg;
    g->in.host_map = &g->host_map;
    return g;
}

/* Stage the kernel from g->kopts (call again after changing them). */
static inline void genv_stage_kernel(struct guest_env *g)
{
    uint64_t size;
    free(g->kernel);
    free(g->kfile);
    g->kernel = fake_bzimage(&g->kopts, &size);
    g->kfile = malloc(size);
    assert_non_null(g->kfile);
    memcpy(g->kfile, g->kernel, size);
    g->in.kernel = (struct staged_file){ va_hpa(g->kernel), size, ALIGN_UP(size, PAGE_SIZE) };
}

static inline int genv_build(struct guest_env *g)
{
    if (!g->kernel)
        genv_stage_kernel(g);
    g->err[0] = '\0';
    return guest_build(&g->mm->mm, &g->in, &g->entry, &g->layout, g->err,
                       sizeof(g->err));
}

/* Build and require success. */
static inline void genv_build_ok(struct guest_env *g)
{
    int rc = genv_build(g);
    if (rc != 0)
        fail_msg("guest_build: %d: %s", rc, g->err);
    assert_true(mm_check(&g->mm->mm));
}

static inline void genv_free(struct guest_env *g)
{
    mm_env_free(g->mm);
    if (g->has_acpi)
        fake_acpi_free(&g->acpi);
    free(g->kernel);
    free(g->kfile);
    free(g->initrd);
    free(g);
}

static inline void genv_read(struct guest_env *g, gpa_t gpa, void *buf, size_t n)
{
    int rc = mm_read(&g->mm->mm, gpa, buf, n);
    if (rc != 0)
        fail_msg("mm_read 0x%llx+%zu: %d", (unsigned long long)gpa, n, rc);
}

static inline uint64_t genv_rd(struct guest_env *g, gpa_t gpa, int n)
{
    uint8_t b[8] = { 0 };
    genv_read(g, gpa, b, (size_t)n);
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static inline const struct region *genv_region(struct guest_env *g, gpa_t gpa)
{
    return region_lookup(&g->mm->mm.regions, gpa);
}

#endif

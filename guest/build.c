/*
 * guest_build(): the guest from the configuration, the staged files and the
 * host's firmware facts (see guest.h). Steps, in order:
 *   1. parse the bzImage header (nothing modified yet)
 *   2. read the host ACPI tables: devices, size of the guest copy
 *   3. choose the layout; check the command line fits
 *   4. relocate the staged kernel in place (the first modification: every
 *      error the configuration can cause has been reported by then)
 *   5. create the regions, write the ACPI copy, page tables + GDT, command
 *      line, zero page (all through mm_write, i.e. the fault path)
 */
#include "guest/guest.h"

#include <string.h>

#include "guest/acpi_copy.h"
#include "guest/bootparams.h"
#include "guest/bzimage.h"
#include "guest/entry.h"
#include "guest/layout.h"
#include "guest/size.h"
#include "vmm/lib/fmt.h"

#define WHY_MAX 192
#define DESCRIBE_LINE_MAX 160

static const char *pv_err_name(int rc)
{
    switch (rc) {
    case -PV_EINVAL: return "invalid access";
    case -PV_ENOENT: return "no region (open bus)";
    case -PV_ENOMEM: return "out of frames";
    case -PV_ENOSPC: return "area too small";
    case -PV_EIO: return "unresolvable fault";
    default: return "error";
    }
}

static int mm_failed(char *err, size_t len, const char *what, int rc)
{
    if (err && len)
        pv_snprintf(err, len, "guest: writing the %s failed: %s (%d)", what,
                    pv_err_name(rc), rc);
    return rc;
}

/* Device pages the guest gets: LAPIC, every IOAPIC, HPET (0s skipped). */
static size_t mmio_list(const struct acpi_host *h, struct layout_mmio *m)
{
    size_t n = 0;
    m[n++] = (struct layout_mmio){ h->dev.lapic, "lapic" };
    for (size_t i = 0; i < h->n_ioapic; i++)
        m[n++] = (struct layout_mmio){ h->ioapic[i], "ioapic" };
    m[n++] = (struct layout_mmio){ h->dev.hpet, "hpet" };
    return n;
}

static bool args_ok(struct guest_mm *mm, const struct guest_input *in,
                    struct guest_entry *entry, struct guest_layout *layout,
                    char *err, size_t len)
{
    const char *why = NULL;
    if (!mm || !in || !in->cfg || !entry || !layout)
        why = "guest: missing argument";
    else if (region_first(&mm->regions))
        why = "guest: guest memory is not empty";
    else if (!in->kernel.base || !IS_ALIGNED(in->kernel.base, PAGE_SIZE))
        why = "guest: kernel not staged at a page-aligned address";
    else if (in->initrd.size && !IS_ALIGNED(in->initrd.base, PAGE_SIZE))
        why = "guest: initrd not staged at a page-aligned address";
    if (why && err && len)
        pv_snprintf(err, len, "%s", why);
    return !why;
}

int guest_build(struct guest_mm *mm, const struct guest_input *in,
                struct guest_entry *entry, struct guest_layout *layout,
                char *err, size_t err_len)
{
    if (!args_ok(mm, in, entry, layout, err, err_len))
        return -PV_EINVAL;
    const struct pv_config *cfg = in->cfg;
    uint8_t *kimg = hpa_va(in->kernel.base);
    char why[WHY_MAX];
    int rc;

    memset(layout, 0, sizeof(*layout));
    struct bzimage_info k;
    if (bzimage_parse(kimg, in->kernel.size, &k, why, sizeof(why)) < 0) {
        if (err && err_len)
            pv_snprintf(err, err_len, "linux %s: %s", cfg->linux_path, why);
        return -PV_EINVAL;
    }

    struct acpi_host host;
    acpi_copy_scan(in->acpi_rsdp, in->boot_apic_id, &host);

    struct layout_mmio mmio[2 + ACPI_COPY_IOAPIC_MAX];
    struct layout_input li = {
        .initrd_path = cfg->initrd_path,
        .memory = cfg->memory,
        .kernel = &k,
        .initrd_size = in->initrd.size,
        .acpi_size = host.guest_size,
        .mmio = mmio,
        .n_mmio = mmio_list(&host, mmio),
        .host_map = in->host_map,
    };
    struct layout_plan plan;
    rc = layout_compute(&li, &plan, layout, err, err_len);
    if (rc < 0)
        return rc;
    layout->dev = host.dev;

    rc = bootparams_check_cmdline(&k, cfg->options, err, err_len);
    if (rc < 0)
        return rc;

    rc = bzimage_relocate_in_place(kimg, in->kernel.size, &k);
    if (rc < 0) {
        if (err && err_len)
            pv_snprintf(err, err_len, "linux %s: cannot relocate the staged image",
                        cfg->linux_path);
        return rc;
    }
    rc = layout_apply(mm, &plan, in->legacy_rom, in->kernel.base, k.pm_size, in->initrd.base,
                      in->initrd.size, err, err_len);
    if (rc < 0)
        return rc;
    rc = acpi_copy_write(&host, mm, plan.acpi_gpa, plan.acpi_size,
                         &layout->acpi_rsdp_gpa);
    if (rc < 0)
        return mm_failed(err, err_len, "ACPI tables", rc);
    rc = entry_build(mm, layout->kernel_gpa, layout->zero_page_gpa, entry);
    if (rc < 0)
        return mm_failed(err, err_len, "page tables and GDT", rc);
    rc = bootparams_write_cmdline(mm, &k, cfg->options, NULL, 0);
    if (rc < 0)
        return mm_failed(err, err_len, "command line", rc);
    rc = bootparams_write(mm, &k, layout);
    if (rc < 0)
        return mm_failed(err, err_len, "zero page", rc);
    return 0;
}

/* ---- describe ----------------------------------------------------------- */

static const char *e820_name(uint32_t type)
{
    switch (type) {
    case E820_RAM: return "ram";
    case E820_RESERVED: return "reserved";
    case E820_ACPI: return "acpi";
    case E820_NVS: return "nvs";
    default: return "unknown";
    }
}

void guest_layout_describe(const struct guest_layout *l,
                           void (*emit)(void *ctx, const char *line), void *ctx)
{
    char line[DESCRIBE_LINE_MAX], lo[SIZE_STR_MAX], hi[SIZE_STR_MAX];
    if (!l || !emit)
        return;
    for (size_t i = 0; i < l->n_e820; i++) {
        const struct e820_entry *e = &l->e820[i];
        pv_snprintf(line, sizeof(line), "guest e820 0x%010llx-0x%010llx %s",
                    (unsigned long long)e->addr,
                    (unsigned long long)(e->addr + e->size), e820_name(e->type));
        emit(ctx, line);
    }
    format_size(l->ram_below_4g, lo, sizeof(lo));
    format_size(l->ram_above_4g, hi, sizeof(hi));
    pv_snprintf(line, sizeof(line), "guest ram below-4g=%s above-4g=%s", lo, hi);
    emit(ctx, line);
    pv_snprintf(line, sizeof(line),
                "guest kernel at 0x%llx size 0x%llx entry 0x%llx",
                (unsigned long long)l->kernel_gpa,
                (unsigned long long)l->kernel_size,
                (unsigned long long)(l->kernel_gpa + GUEST_ENTRY64_OFFSET));
    emit(ctx, line);
    if (l->initrd_size)
        pv_snprintf(line, sizeof(line), "guest initrd at 0x%llx size %llu",
                    (unsigned long long)l->initrd_gpa,
                    (unsigned long long)l->initrd_size);
    else
        pv_snprintf(line, sizeof(line), "guest initrd none");
    emit(ctx, line);
    pv_snprintf(line, sizeof(line),
                "guest boot zero-page 0x%llx cmdline 0x%llx acpi-rsdp 0x%llx",
                (unsigned long long)l->zero_page_gpa,
                (unsigned long long)l->cmdline_gpa,
                (unsigned long long)l->acpi_rsdp_gpa);
    emit(ctx, line);
    const struct guest_devices *d = &l->dev;
    pv_snprintf(line, sizeof(line),
                "guest devices lapic 0x%llx ioapic 0x%llx hpet 0x%llx pm1a 0x%x "
                "pm1b 0x%x s5 %s%u/%u",
                (unsigned long long)d->lapic, (unsigned long long)d->ioapic,
                (unsigned long long)d->hpet, d->pm1a_cnt, d->pm1b_cnt,
                d->s5_found ? "" : "none ", d->s5_typa, d->s5_typb);
    emit(ctx, line);
}

/* The guest-physical layout; see layout.h for the map it produces. */
#include "guest/layout.h"

#include <string.h>

#include "guest/size.h"
#include "vmm/lib/fmt.h"


static int plan_add(struct layout_plan *p, gpa_t start, gpa_t end,
                    enum layout_backing b, const char *name)
{
    if (start >= end)
        return 0;
    if (p->n == LAYOUT_REGIONS_MAX)
        return -PV_ENOMEM;
    p->r[p->n++] = (struct layout_region){ start, end, b, name };
    return 0;
}

/* Insertion sort by start: the plan is short. */
static void plan_sort(struct layout_plan *p)
{
    for (size_t i = 1; i < p->n; i++) {
        struct layout_region r = p->r[i];
        size_t j = i;
        for (; j > 0 && p->r[j - 1].start > r.start; j--)
            p->r[j] = p->r[j - 1];
        p->r[j] = r;
    }
}

static void e820_add(struct guest_layout *gl, uint64_t addr, uint64_t size,
                     uint32_t type)
{
    if (!size)
        return;
    if (gl->n_e820) {
        struct e820_entry *prev = &gl->e820[gl->n_e820 - 1];
        if (prev->type == type && prev->addr + prev->size == addr) {
            prev->size += size;
            return;
        }
    }
    if (gl->n_e820 < GUEST_E820_MAX)
        gl->e820[gl->n_e820++] = (struct e820_entry){ addr, size, type };
}

/* Host memory kinds that are RAM: a device page there is a lie. */
static bool host_ram_type(enum mem_type t)
{
    return t != MEM_RESERVED && t != MEM_MMIO && t != MEM_UNUSABLE &&
           t < MEM_TYPE_COUNT;
}

static const struct mem_range *host_ram_at(const struct memmap *m, uint64_t base,
                                           uint64_t size)
{
    for (size_t i = 0; m && i < m->n; i++) {
        const struct mem_range *r = &m->r[i];
        if (host_ram_type(r->type) && base < r->base + r->size &&
            r->base < base + size)
            return r;
    }
    return NULL;
}

static bool planned(const struct layout_plan *p, gpa_t start)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->r[i].start == start)
            return true;
    return false;
}

/* Device pages: in the hole (never over guest RAM), not host RAM. */
static int plan_mmio(const struct layout_input *in, struct layout_plan *p,
                     uint64_t high, char *err, size_t len)
{
    if (in->n_mmio > LAYOUT_MMIO_MAX)
        return pv_fail(err, len, "too many device pages to pass through (%zu, at most %d)",
                    in->n_mmio, LAYOUT_MMIO_MAX);
    for (size_t i = 0; i < in->n_mmio; i++) {
        const struct layout_mmio *d = &in->mmio[i];
        gpa_t page = ALIGN_DOWN(d->base, PAGE_SIZE);
        gpa_t end = page + GUEST_MMIO_SIZE;
        if (!d->base || planned(p, page))
            continue;
        if (page < p->low_end || (end > GUEST_4G && page < GUEST_4G + high))
            return pv_fail(err, len, "host %s at 0x%llx lies in guest RAM", d->name,
                        (unsigned long long)d->base);
        const struct mem_range *r = host_ram_at(in->host_map, page, GUEST_MMIO_SIZE);
        if (r)
            return pv_fail(err, len,
                        "host %s at 0x%llx is host memory (%s), not a device",
                        d->name, (unsigned long long)d->base,
                        mem_type_name(r->type));
        if (plan_add(p, page, end, LAYOUT_PASSTHROUGH, d->name) < 0)
            return pv_fail(err, len, "too many guest regions");
    }
    return 0;
}

static uint64_t kernel_load_address(const struct bzimage_info *k)
{
    if (!k->relocatable)
        return k->pref_address;
    uint64_t align = k->kernel_alignment < PAGE_SIZE ? PAGE_SIZE : k->kernel_alignment;
    return ALIGN_UP(k->pref_address, align);
}

/* The RAM pieces below 3G around kernel, initrd and ACPI area. */
static int plan_low(const struct layout_input *in, struct layout_plan *p,
                    struct guest_layout *gl, const char *mem, char *err,
                    size_t len)
{
    const struct bzimage_info *k = in->kernel;
    gpa_t usable_end = p->low_end - p->acpi_size;
    gpa_t kstart = kernel_load_address(k);
    gpa_t kend = kstart + ALIGN_UP((uint64_t)k->init_size, PAGE_SIZE);

    if (k->pref_address >= GUEST_MMIO_HOLE || kstart < GUEST_HIGH_START ||
        kend > usable_end)
        return pv_fail(err, len,
                    "memory %s: the kernel needs [0x%llx, 0x%llx) but usable RAM "
                    "below 3G ends at 0x%llx",
                    mem, (unsigned long long)kstart, (unsigned long long)kend,
                    (unsigned long long)usable_end);

    gpa_t istart = kend, iend = kend;
    if (in->initrd_size) {
        uint64_t limit = (uint64_t)k->initrd_addr_max + 1;
        limit = ALIGN_DOWN(limit < usable_end ? limit : usable_end, PAGE_SIZE);
        char isz[SIZE_STR_MAX];
        format_size(in->initrd_size, isz, sizeof(isz));
        if (in->initrd_size > limit ||
            ALIGN_DOWN(limit - in->initrd_size, PAGE_SIZE) < kend)
            return pv_fail(err, len,
                        "memory %s: no room for initrd %s (%s) between the kernel's "
                        "end 0x%llx and 0x%llx",
                        mem, in->initrd_path ? in->initrd_path : "", isz,
                        (unsigned long long)kend, (unsigned long long)limit);
        istart = ALIGN_DOWN(limit - in->initrd_size, PAGE_SIZE);
        iend = istart + ALIGN_UP(in->initrd_size, PAGE_SIZE);
        gl->initrd_gpa = istart;
        gl->initrd_size = in->initrd_size;
    }
    gl->kernel_gpa = kstart;
    gl->kernel_size = kend - kstart;

    /* Cannot overflow LAYOUT_REGIONS_MAX: at most 7 pieces here. */
    plan_add(p, 0, GUEST_LOW_RAM_END, LAYOUT_ANON, "ram-low");
    plan_add(p, GUEST_HIGH_START, kstart, LAYOUT_ANON, "ram");
    plan_add(p, kstart, kend, LAYOUT_KERNEL, "kernel");
    plan_add(p, kend, istart, LAYOUT_ANON, "ram");
    plan_add(p, istart, iend, LAYOUT_INITRD, "initrd");
    plan_add(p, iend, usable_end, LAYOUT_ANON, "ram");
    plan_add(p, usable_end, p->low_end, LAYOUT_ANON, "acpi");
    return 0;
}

int layout_compute(const struct layout_input *in, struct layout_plan *plan,
                   struct guest_layout *gl, char *err, size_t len)
{
    char mem[SIZE_STR_MAX], lim[SIZE_STR_MAX];
    format_size(in->memory, mem, sizeof(mem));
    memset(plan, 0, sizeof(*plan));

    if (in->memory < CONFIG_MEMORY_MIN) {
        format_size(CONFIG_MEMORY_MIN, lim, sizeof(lim));
        return pv_fail(err, len, "memory %s: below the %s minimum", mem, lim);
    }
    if (in->memory > CONFIG_MEMORY_MAX) {
        format_size(CONFIG_MEMORY_MAX, lim, sizeof(lim));
        return pv_fail(err, len, "memory %s: above the %s maximum", mem, lim);
    }
    if (!IS_ALIGNED(in->memory, PAGE_SIZE))
        return pv_fail(err, len, "memory %s: not a multiple of 4K", mem);

    uint64_t rest = in->memory - GUEST_LOW_RAM_END;
    uint64_t low_max = GUEST_MMIO_HOLE - GUEST_HIGH_START;
    uint64_t low = rest < low_max ? rest : low_max, high = rest - low;
    plan->low_end = GUEST_HIGH_START + low;
    plan->acpi_size = ALIGN_UP(in->acpi_size, PAGE_SIZE);
    if (plan->acpi_size >= low)
        return pv_fail(err, len, "memory %s: no room for %llu bytes of guest ACPI tables",
                    mem, (unsigned long long)in->acpi_size);
    plan->acpi_gpa = plan->acpi_size ? plan->low_end - plan->acpi_size : 0;

    gl->initrd_gpa = gl->initrd_size = 0;
    int rc = plan_add(plan, GUEST_LOW_RAM_END, GUEST_HIGH_START, LAYOUT_LEGACY_ROM, "legacy");
    if (rc == 0)
        rc = plan_low(in, plan, gl, mem, err, len);
    if (rc == 0 && high)
        rc = plan_add(plan, GUEST_4G, GUEST_4G + high, LAYOUT_ANON, "ram-high");
    if (rc == 0)
        rc = plan_mmio(in, plan, high, err, len);
    if (rc < 0)
        return rc;
    plan_sort(plan);

    gl->ram_below_4g = GUEST_LOW_RAM_END + low;
    gl->ram_above_4g = high;
    gl->zero_page_gpa = GUEST_ZERO_PAGE_GPA;
    gl->cmdline_gpa = GUEST_CMDLINE_GPA;
    gl->n_e820 = 0;
    gpa_t usable_end = plan->low_end - plan->acpi_size;
    e820_add(gl, 0, GUEST_LOW_RAM_END, E820_RAM);
    e820_add(gl, GUEST_LOW_RAM_END, GUEST_HIGH_START - GUEST_LOW_RAM_END,
             E820_RESERVED);
    e820_add(gl, GUEST_HIGH_START, usable_end - GUEST_HIGH_START, E820_RAM);
    e820_add(gl, usable_end, plan->acpi_size, E820_ACPI);
    e820_add(gl, GUEST_4G, high, E820_RAM);
    return 0;
}

static const char *insert_error(int rc)
{
    switch (rc) {
    case -PV_EEXIST: return "overlaps another region";
    case -PV_ENOMEM: return "out of region descriptors";
    case -PV_EINVAL: return "unaligned or beyond the guest-physical limit";
    default: return "cannot be created";
    }
}

int layout_apply(struct guest_mm *mm, const struct layout_plan *plan, hpa_t legacy_rom,
                 hpa_t kernel_image, uint64_t kernel_size, hpa_t initrd_image,
                 uint64_t initrd_size, char *err, size_t len)
{
    for (size_t i = 0; i < plan->n; i++) {
        const struct layout_region *r = &plan->r[i];
        int rc;
        switch (r->backing) {
        case LAYOUT_KERNEL:
            rc = mm_add_image(mm, r->start, r->end, kernel_image, 0, kernel_size,
                              r->name);
            break;
        case LAYOUT_INITRD:
            rc = mm_add_image(mm, r->start, r->end, initrd_image, 0, initrd_size,
                              r->name);
            break;
        case LAYOUT_PASSTHROUGH:
            rc = mm_add_passthrough(mm, r->start, r->end, r->start, MT_UC, r->name);
            break;
        case LAYOUT_LEGACY_ROM:
            if (!legacy_rom)
                continue; /* no backing offered: the hole stays open bus */
            rc = mm_add_rom(mm, r->start, r->end, legacy_rom, r->end - r->start, r->name);
            break;
        default:
            rc = mm_add_anon(mm, r->start, r->end, r->name);
            break;
        }
        if (rc < 0) {
            if (err && len)
                pv_snprintf(err, len, "guest region %s [0x%llx, 0x%llx): %s",
                            r->name, (unsigned long long)r->start,
                            (unsigned long long)r->end, insert_error(rc));
            return rc;
        }
    }
    return 0;
}

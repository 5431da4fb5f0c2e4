/* Vendor-neutral memory map and its summary; see memmap.h. */
#include "vmm/memmap.h"
#include "vmm/lib/fmt.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)

static const char *const names[MEM_TYPE_COUNT] = {
    [MEM_CONVENTIONAL] = "conventional", [MEM_LOADER] = "loader",
    [MEM_BOOT_SERVICES] = "boot-services", [MEM_RUNTIME] = "runtime",
    [MEM_RESERVED] = "reserved", [MEM_ACPI_RECLAIM] = "acpi-reclaim",
    [MEM_ACPI_NVS] = "acpi-nvs", [MEM_MMIO] = "mmio",
    [MEM_UNUSABLE] = "unusable", [MEM_PERSISTENT] = "persistent",
};

const char *mem_type_name(enum mem_type t)
{
    return (unsigned)t < MEM_TYPE_COUNT ? names[t] : "?";
}

int memmap_add(struct memmap *m, uint64_t base, uint64_t size, enum mem_type t)
{
    if (m->n) {
        struct mem_range *last = &m->r[m->n - 1];
        if (last->type == t && last->base + last->size == base) {
            last->size += size;
            return 0;
        }
    }
    if (m->n == m->cap)
        return -1;
    m->r[m->n++] = (struct mem_range){ base, size, t };
    return 0;
}

static int is_ram(enum mem_type t)
{
    return t == MEM_CONVENTIONAL || t == MEM_LOADER || t == MEM_BOOT_SERVICES ||
           t == MEM_RUNTIME || t == MEM_ACPI_RECLAIM || t == MEM_ACPI_NVS;
}

void memmap_summarize(const struct memmap *m, struct memmap_summary *s)
{
    *s = (struct memmap_summary){ .entries = m->n };
    for (size_t i = 0; i < m->n; i++) {
        const struct mem_range *r = &m->r[i];
        uint64_t end = r->base + r->size;
        if ((unsigned)r->type < MEM_TYPE_COUNT)
            s->bytes[r->type] += r->size;
        if (end > s->top)
            s->top = end;
        if (is_ram(r->type) && end > s->top_ram)
            s->top_ram = end;
    }
}

int memmap_summary_format(const struct memmap_summary *s, char *buf, size_t len)
{
    size_t n = (size_t)pv_snprintf(buf, len, "memmap: %zu entries", s->entries);
    for (int t = 0; t < MEM_TYPE_COUNT; t++) {
        if (!s->bytes[t] || n >= len)
            continue;
        /* approximate on purpose: this line is for people */
        uint64_t b = s->bytes[t];
        if (b >= MIB)
            n += (size_t)pv_snprintf(buf + n, len - n, " %s=%lluM", names[t],
                                     (unsigned long long)(b / MIB));
        else
            n += (size_t)pv_snprintf(buf + n, len - n, " %s=%lluK", names[t],
                                     (unsigned long long)(b / KIB));
    }
    if (n < len)
        n += (size_t)pv_snprintf(buf + n, len - n, " top-ram=0x%llx",
                                 (unsigned long long)s->top_ram);
    return (int)n;
}

/*
 * The firmware memory map in vendor-neutral form. efi/ converts the UEFI
 * map into these entries; the core and guest construction only see this.
 */
#ifndef PV_VMM_MEMMAP_H
#define PV_VMM_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

enum mem_type {
    MEM_CONVENTIONAL = 0, /* free RAM */
    MEM_LOADER,           /* RAM held by pagevisor (image, pool, staged files) */
    MEM_BOOT_SERVICES,    /* RAM the firmware used until ExitBootServices */
    MEM_RUNTIME,          /* firmware runtime code/data: keep */
    MEM_RESERVED,
    MEM_ACPI_RECLAIM,     /* ACPI tables */
    MEM_ACPI_NVS,
    MEM_MMIO,             /* memory-mapped I/O the firmware declared */
    MEM_UNUSABLE,
    MEM_PERSISTENT,
    MEM_TYPE_COUNT,
};

struct mem_range {
    uint64_t base;
    uint64_t size;
    enum mem_type type;
};

struct memmap {
    struct mem_range *r;
    size_t n, cap;
};

struct memmap_summary {
    uint64_t bytes[MEM_TYPE_COUNT];
    uint64_t top_ram;       /* end of the highest RAM-like range */
    uint64_t top;           /* end of the highest range of any kind */
    size_t entries;
};

const char *mem_type_name(enum mem_type t);
/* Append a range, merging with the previous one when adjacent and of the
 * same type. Returns -1 when the array is full. */
int memmap_add(struct memmap *m, uint64_t base, uint64_t size, enum mem_type t);
void memmap_summarize(const struct memmap *m, struct memmap_summary *s);
/* One line of totals: "memmap: conventional 1.8G loader 300M ...". */
int memmap_summary_format(const struct memmap_summary *s, char *buf, size_t len);

#endif

/*
 * Page allocations, the memory map, ExitBootServices and the RSDP.
 *
 * Contract: until exit_boot_services() succeeds, every page allocation made
 * through alloc_pages() can be undone by alloc_release_all(), so a failing
 * app leaves the firmware as it found it.
 */
#include "efi/efi_glue.h"
#include "vmm/lib/log.h"

#include <string.h>

#define EFI_PAGE 4096ull
#define MAX_ALLOCS (16 + FRAME_RANGES_MAX)
#define LOW_MEMORY_END 0x100000ull /* real-mode memory stays the firmware's */
#define MAP_MAX_DESCS 1024
#define EBS_RETRIES 8
#define MAP_SLACK_DESCS 32 /* room for the map to grow between calls */
#define EFI_PERSISTENT_MEMORY 14 /* EfiPersistentMemory (UEFI 2.5) */

static struct { uint64_t base, pages; } allocs[MAX_ALLOCS];
static int nallocs;

static void remember(uint64_t base, uint64_t pages)
{
    allocs[nallocs].base = base;
    allocs[nallocs].pages = pages;
    nallocs++;
}

EFI_STATUS alloc_pages(uint64_t bytes, uint64_t align, uint64_t *out)
{
    if (nallocs == MAX_ALLOCS)
        return EFI_OUT_OF_RESOURCES;
    if (align < EFI_PAGE)
        align = EFI_PAGE;
    uint64_t pages = (bytes + EFI_PAGE - 1) / EFI_PAGE;
    uint64_t extra = (align - EFI_PAGE) / EFI_PAGE;
    EFI_PHYSICAL_ADDRESS a = 0;
    EFI_STATUS st = uefi_call_wrapper(g_bs->AllocatePages, 4, AllocateAnyPages,
                                      EfiLoaderData, pages + extra, &a);
    if (EFI_ERROR(st))
        return st;
    /* Give back the unaligned head and the unused tail. */
    uint64_t aligned = (a + align - 1) & ~(align - 1);
    uint64_t head = (aligned - a) / EFI_PAGE;
    if (head)
        uefi_call_wrapper(g_bs->FreePages, 2, a, head);
    if (extra - head)
        uefi_call_wrapper(g_bs->FreePages, 2, aligned + pages * EFI_PAGE, extra - head);
    remember(aligned, pages);
    *out = aligned;
    return EFI_SUCCESS;
}

void alloc_release_all(void)
{
    while (nallocs > 0) {
        nallocs--;
        uefi_call_wrapper(g_bs->FreePages, 2, allocs[nallocs].base, allocs[nallocs].pages);
    }
}

static enum mem_type convert_type(UINT32 t)
{
    switch (t) {
    case EfiConventionalMemory: return MEM_CONVENTIONAL;
    case EfiLoaderCode:
    case EfiLoaderData: return MEM_LOADER;
    case EfiBootServicesCode:
    case EfiBootServicesData: return MEM_BOOT_SERVICES;
    case EfiRuntimeServicesCode:
    case EfiRuntimeServicesData: return MEM_RUNTIME;
    case EfiACPIReclaimMemory: return MEM_ACPI_RECLAIM;
    case EfiACPIMemoryNVS: return MEM_ACPI_NVS;
    case EfiMemoryMappedIO:
    case EfiMemoryMappedIOPortSpace: return MEM_MMIO;
    case EfiUnusableMemory: return MEM_UNUSABLE;
    case EFI_PERSISTENT_MEMORY: return MEM_PERSISTENT;
    default: return MEM_RESERVED;
    }
}

/* Convert a UEFI map into m, sorted by address (the firmware's order is
 * not guaranteed). No allocation: safe after ExitBootServices. */
static void convert_map(const UINT8 *buf, UINTN size, UINTN desc_size, struct memmap *m)
{
    m->n = 0;
    UINTN count = size / desc_size;
    /* selection by ascending base: maps are small (~100 entries) */
    uint64_t last = 0;
    int first = 1;
    for (UINTN k = 0; k < count; k++) {
        const EFI_MEMORY_DESCRIPTOR *best = NULL;
        for (UINTN i = 0; i < count; i++) {
            const EFI_MEMORY_DESCRIPTOR *d = (const void *)(buf + i * desc_size);
            if (!first && d->PhysicalStart <= last)
                continue;
            if (!best || d->PhysicalStart < best->PhysicalStart)
                best = d;
        }
        if (!best)
            break;
        first = 0;
        last = best->PhysicalStart;
        if (memmap_add(m, best->PhysicalStart, best->NumberOfPages * EFI_PAGE,
                       convert_type(best->Type)) < 0)
            break;
    }
}

/* Fetch the map into a pool buffer with slack; caller frees. */
static EFI_STATUS get_map(UINT8 **buf, UINTN *cap, UINTN *size, UINTN *key, UINTN *dsize)
{
    UINT32 ver;
    *size = 0;
    EFI_STATUS st = uefi_call_wrapper(g_bs->GetMemoryMap, 5, size, NULL, key, dsize, &ver);
    if (st != EFI_BUFFER_TOO_SMALL)
        return EFI_ERROR(st) ? st : EFI_LOAD_ERROR;
    *cap = *size * 2 + MAP_SLACK_DESCS * *dsize;
    st = uefi_call_wrapper(g_bs->AllocatePool, 3, EfiLoaderData, *cap, (void **)buf);
    if (EFI_ERROR(st))
        return st;
    *size = *cap;
    st = uefi_call_wrapper(g_bs->GetMemoryMap, 5, size, (EFI_MEMORY_DESCRIPTOR *)*buf,
                           key, dsize, &ver);
    if (EFI_ERROR(st))
        uefi_call_wrapper(g_bs->FreePool, 1, *buf);
    return st;
}

EFI_STATUS memmap_snapshot(struct memmap *m)
{
    UINT8 *buf;
    UINTN cap, size, key, dsize;
    EFI_STATUS st = get_map(&buf, &cap, &size, &key, &dsize);
    if (EFI_ERROR(st))
        return st;
    convert_map(buf, size, dsize, m);
    uefi_call_wrapper(g_bs->FreePool, 1, buf);
    return EFI_SUCCESS;
}

/* Free conventional memory above LOW_MEMORY_END, as (base, pages) pairs. */
static struct { uint64_t base, pages; } cand[MAP_MAX_DESCS];

static uint32_t free_ranges(const UINT8 *buf, UINTN size, UINTN dsize, uint64_t *total)
{
    uint32_t n = 0;
    *total = 0;
    for (UINTN i = 0; i < size / dsize && n < MAP_MAX_DESCS; i++) {
        const EFI_MEMORY_DESCRIPTOR *d = (const void *)(buf + i * dsize);
        uint64_t b = d->PhysicalStart, e = b + d->NumberOfPages * EFI_PAGE;
        if (d->Type != EfiConventionalMemory || e <= LOW_MEMORY_END)
            continue;
        if (b < LOW_MEMORY_END)
            b = LOW_MEMORY_END;
        cand[n].base = b;
        cand[n].pages = (e - b) / EFI_PAGE;
        *total += cand[n].pages;
        n++;
    }
    return n;
}

EFI_STATUS alloc_frame_ranges(uint64_t pages, struct hpa_range *out, uint32_t max,
                              uint32_t *nout, uint64_t *avail)
{
    UINT8 *buf;
    UINTN cap, size, key, dsize;
    *nout = 0;
    *avail = 0;
    EFI_STATUS st = get_map(&buf, &cap, &size, &key, &dsize);
    if (EFI_ERROR(st))
        return st;
    uint64_t total;
    uint32_t nc = free_ranges(buf, size, dsize, &total);
    uefi_call_wrapper(g_bs->FreePool, 1, buf);
    uint64_t reserve = EFI_FIRMWARE_RESERVE / EFI_PAGE;
    *avail = total > reserve ? total - reserve : 0;
    if (pages > *avail)
        return EFI_OUT_OF_RESOURCES;
    const uint64_t huge = 2ull << 20;
    uint64_t left = pages;
    while (left && *nout < max && nallocs < MAX_ALLOCS) {
        uint32_t best = nc;
        for (uint32_t i = 0; i < nc; i++)
            if (cand[i].pages && (best == nc || cand[i].pages > cand[best].pages))
                best = i;
        if (best == nc)
            break;
        uint64_t take = cand[best].pages < left ? cand[best].pages : left;
        uint64_t start = cand[best].base, end = start + cand[best].pages * EFI_PAGE;
        uint64_t aligned = (start + huge - 1) & ~(huge - 1);
        if (take < cand[best].pages && aligned + take * EFI_PAGE <= end)
            start = aligned; /* whole 2 MiB blocks for huge mappings */
        cand[best].pages = 0;
        EFI_PHYSICAL_ADDRESS a = start;
        st = uefi_call_wrapper(g_bs->AllocatePages, 4, AllocateAddress, EfiLoaderData, take,
                               &a);
        if (EFI_ERROR(st))
            continue; /* taken since the snapshot: try the next range */
        remember(a, take);
        out[*nout].base = a;
        out[*nout].size = take * EFI_PAGE;
        (*nout)++;
        left -= take;
    }
    return left ? EFI_OUT_OF_RESOURCES : EFI_SUCCESS;
}

/*
 * The map key changes whenever the firmware allocates (an event may fire
 * between GetMemoryMap and ExitBootServices), so EBS can fail with
 * EFI_INVALID_PARAMETER; the spec allows only GetMemoryMap and EBS after
 * that, hence the retry loop with a buffer sized up front. Nothing here may
 * print through the firmware (that could allocate); serial logging is ours.
 */
EFI_STATUS exit_boot_services(EFI_HANDLE image, struct boot_info *bi)
{
    UINT8 *buf;
    UINTN cap, size, key, dsize;
    UINT32 ver;
    EFI_STATUS st = get_map(&buf, &cap, &size, &key, &dsize);
    if (EFI_ERROR(st))
        return st;
    for (uint32_t attempt = 1; attempt <= EBS_RETRIES; attempt++) {
        st = uefi_call_wrapper(g_bs->ExitBootServices, 2, image, key);
        if (st == EFI_SUCCESS) {
            bi->ebs_attempts = attempt;
            g_bs = NULL; /* boot services are gone */
            g_st = NULL;
            bi->memmap.r = bi->ranges;
            bi->memmap.cap = BOOT_MEMMAP_MAX;
            convert_map(buf, size, dsize, &bi->memmap);
            return EFI_SUCCESS;
        }
        pv_warn("ExitBootServices attempt %u: stale map key, retrying", attempt);
        size = cap;
        st = uefi_call_wrapper(g_bs->GetMemoryMap, 5, &size, (EFI_MEMORY_DESCRIPTOR *)buf,
                               &key, &dsize, &ver);
        if (EFI_ERROR(st))
            return st;
    }
    return EFI_ABORTED;
}

uint64_t find_rsdp(void)
{
    EFI_GUID acpi20 = ACPI_20_TABLE_GUID;
    EFI_GUID acpi10 = ACPI_TABLE_GUID;
    uint64_t v1 = 0;
    for (UINTN i = 0; i < g_st->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &g_st->ConfigurationTable[i];
        if (!memcmp(&t->VendorGuid, &acpi20, sizeof(EFI_GUID)))
            return (uint64_t)(uintptr_t)t->VendorTable;
        if (!memcmp(&t->VendorGuid, &acpi10, sizeof(EFI_GUID)))
            v1 = (uint64_t)(uintptr_t)t->VendorTable;
    }
    return v1;
}

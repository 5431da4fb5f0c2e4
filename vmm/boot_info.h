/*
 * What the UEFI front end hands the hypervisor core after ExitBootServices.
 * Plain data only: no firmware types, no pointers into firmware memory that
 * is reclaimed at ExitBootServices. Every buffer named here was allocated as
 * EfiLoaderData and stays the hypervisor's.
 */
#ifndef PV_VMM_BOOT_INFO_H
#define PV_VMM_BOOT_INFO_H

#include "ept/frame.h"
#include "guest/config.h"
#include "vmm/arch/cpufeat.h"
#include "vmm/memmap.h"

#include <stdint.h>

#define BOOT_INFO_MAGIC 0x31666e6976617670ull /* "pvainfo1" */
#define BOOT_MEMMAP_MAX 512

/* A file from the ESP staged in memory: size bytes at base, zero-filled to
 * the end of its last page (so partial pages read as zeros past the end). */
struct staged_file {
    uint64_t base;
    uint64_t size;
    uint64_t alloc;           /* bytes allocated (page multiple) */
};

struct boot_info {
    uint64_t magic;
    struct pv_config cfg;
    struct cpu_features cpu;
    enum virt_kind virt;

    struct memmap memmap;     /* final map, taken at ExitBootServices */
    struct mem_range ranges[BOOT_MEMMAP_MAX];
    uint32_t ebs_attempts;

    uint64_t acpi_rsdp;       /* 0 if the firmware published none */

    struct staged_file kernel, initrd;

    /* The frame pool (sizes from swap/mem_plan.h): its metadata and the
     * host ranges that hold its frames, in no particular order. */
    uint64_t pool_meta_base, pool_meta_size;
    struct hpa_range pool_ranges[FRAME_RANGES_MAX];
    uint32_t pool_nranges;
    uint64_t stack_base, stack_size; /* hypervisor stack */
    uint64_t pt_base, pt_size;       /* room for the identity page tables */
    uint64_t heap_base, heap_size;   /* boot-time allocations (vmm/heap.c) */
    uint64_t image_base, image_size; /* pagevisor.efi as loaded */
};

/* Entered on the hypervisor's own stack with interrupts off; never returns. */
__attribute__((noreturn)) void hv_main(struct boot_info *bi);

/* Switch to the stack whose top is stack_top and call fn(bi) (vmm/entry.S). */
__attribute__((noreturn)) void hv_enter(struct boot_info *bi, uint64_t stack_top,
                                        void (*fn)(struct boot_info *));

#endif

/*
 * The guest-physical layout: where RAM, the kernel, the initrd, the guest
 * ACPI tables, the boot data and the passed-through devices live, as
 * regions for ept/mm and as the e820 table Linux is given.
 *
 *   0x0000_0000-0x0009_f000  ram-low (anon). Fixed boot data inside it:
 *       0x5000   boot GDT (null, null, __BOOT_CS 0x10, __BOOT_DS 0x18)
 *       0x6000-0x7000  entry stack (rsp = 0x7000)
 *       0x7000   zero page (struct boot_params)
 *       0x10000  identity page tables: PML4, PDPT at +0x1000, 4 PDs at
 *                +0x2000..+0x5fff (first 4 GiB, 2 MiB pages)
 *       0x20000  kernel command line (at most 4 KiB)
 *     All below 1 MiB, which Linux reserves for itself at boot, and never
 *     in the way of the kernel, initrd or ACPI copy.
 *   0x0009_f000-0x0010_0000  legacy hole: no region (open bus), e820
 *       reserved
 *   0x0010_0000-low_end      RAM, low_end = min(1M + memory - 0x9f000, 3G),
 *       cut into pieces:
 *         "ram"    anon, below/between the others
 *         "kernel" file-private, at the kernel's load address (pref_address,
 *                  rounded up to kernel_alignment if relocatable), init_size
 *                  bytes rounded up to a page, backed by the relocated
 *                  staged image (past the image: anon-like, the bss)
 *         "initrd" file-private, page aligned, as high as it goes below
 *                  initrd_addr_max and the ACPI area, above the kernel
 *         "acpi"   anon, the guest ACPI copy, at the very top (e820 ACPI)
 *   0xC000_0000-4G           32-bit PCI/MMIO hole: open bus except one
 *       4 KiB passthrough page (UC, hpa == gpa) each for the LAPIC, every
 *       IOAPIC and the HPET
 *   4G-4G + rest             "ram-high" anon, what did not fit below 3G
 *
 * The RAM regions add up to exactly `memory`. e820 lists RAM (kernel and
 * initrd are RAM to Linux; contiguous RAM is merged), the legacy hole as
 * reserved and the ACPI area as ACPI (type 3); nothing for the devices.
 */
#ifndef PV_GUEST_LAYOUT_H
#define PV_GUEST_LAYOUT_H

#include "guest/bzimage.h"
#include "guest/guest.h"

#define GUEST_GDT_GPA 0x5000ull
#define GUEST_STACK_TOP 0x7000ull       /* stack page 0x6000-0x7000 */
#define GUEST_ZERO_PAGE_GPA 0x7000ull
#define GUEST_PT_GPA 0x10000ull         /* PML4; PDPT and PDs follow */
#define GUEST_CMDLINE_GPA 0x20000ull
#define GUEST_CMDLINE_MAX 0x1000ull     /* bytes reserved, NUL included */

#define GUEST_LOW_RAM_END 0x9f000ull    /* end of ram-low (640K - 4K EBDA) */
#define GUEST_HIGH_START 0x100000ull    /* 1 MiB */
#define GUEST_MMIO_HOLE 0xC0000000ull   /* 3 GiB: 32-bit PCI/MMIO hole */
#define GUEST_4G 0x100000000ull
#define GUEST_MMIO_SIZE PAGE_SIZE       /* each passed-through device page */

#define LAYOUT_REGIONS_MAX 24
#define LAYOUT_MMIO_MAX 16

enum layout_backing {
    LAYOUT_ANON,
    LAYOUT_KERNEL,      /* the relocated staged kernel */
    LAYOUT_INITRD,      /* the staged initrd */
    LAYOUT_PASSTHROUGH, /* host range at the same address, UC */
    LAYOUT_LEGACY_ROM,  /* all-ones ROM over the legacy hole */
};

struct layout_region {
    gpa_t start, end;
    enum layout_backing backing;
    const char *name;
};

/* A host device page to pass through (base is rounded down to a page). */
struct layout_mmio {
    uint64_t base;
    const char *name;   /* "lapic", "ioapic", "hpet" */
};

struct layout_input {
    const char *initrd_path;       /* for messages */
    uint64_t memory;               /* guest RAM bytes (config "memory") */
    const struct bzimage_info *kernel;
    uint64_t initrd_size;          /* 0: none */
    uint64_t acpi_size;            /* bytes of guest ACPI tables, 0: none */
    const struct layout_mmio *mmio;
    size_t n_mmio;
    const struct memmap *host_map; /* device pages must not be host RAM;
                                      NULL: not checked */
};

/* The regions to create, in address order, and where the ACPI area is. */
struct layout_plan {
    struct layout_region r[LAYOUT_REGIONS_MAX];
    size_t n;
    gpa_t low_end;              /* end of RAM below the MMIO hole */
    gpa_t acpi_gpa;             /* 0 when no ACPI area */
    uint64_t acpi_size;         /* page multiple */
};

/*
 * Chooses the layout. Fills *plan and, in *gl, the RAM totals, kernel and
 * initrd placement, the fixed boot addresses and the e820 table (gl's
 * acpi_rsdp_gpa and dev are left alone). Returns 0, or -PV_EINVAL with one
 * line in err naming the key, e.g.
 *     memory 16M: the kernel needs [0x1000000, 0x2000000) but RAM below 3G ends at 0x10a1000
 *     memory 64M: no room for initrd /initrd.img (80M) between the kernel's end 0x1400000 and 0x4000000
 */
int layout_compute(const struct layout_input *in, struct layout_plan *plan,
                   struct guest_layout *gl, char *err, size_t len);

/*
 * Creates the plan's regions in mm: kernel regions backed by kernel_image
 * (kernel_size bytes), initrd regions by initrd_image (initrd_size bytes).
 * Returns 0, or a -PV_* code with one line in err.
 */
int layout_apply(struct guest_mm *mm, const struct layout_plan *plan, hpa_t legacy_rom,
                 hpa_t kernel_image, uint64_t kernel_size, hpa_t initrd_image,
                 uint64_t initrd_size, char *err, size_t len);

#endif

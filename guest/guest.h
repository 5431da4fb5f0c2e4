/*
 * Guest construction: turn the configuration, the staged kernel/initrd and
 * the host's firmware facts into a guest memory layout (ept/ regions), the
 * guest's boot data in its memory, and the vCPU state for Linux's 64-bit
 * boot protocol entry. Vendor-neutral: the vCPU backends (vmm/svm, vmm/vmx)
 * load struct guest_entry into their VMCB/VMCS; the generic exit handlers
 * use struct guest_devices to know what to trap.
 *
 * Everything here is host-testable: the host side is described by
 * struct guest_input (pointers follow ept/types.h's address model).
 */
#ifndef PV_GUEST_GUEST_H
#define PV_GUEST_GUEST_H

#include "ept/mm.h"
#include "guest/config.h"
#include "vmm/boot_info.h"
#include "vmm/memmap.h"

/* Segment selectors of the boot GDT (Linux's __BOOT_CS / __BOOT_DS). */
#define GUEST_BOOT_CS 0x10
#define GUEST_BOOT_DS 0x18

/* vCPU state at the 64-bit entry (Documentation/x86/boot.rst, "64-bit
 * boot protocol"): long mode, paging on with an identity map covering the
 * kernel, zero page, command line and initrd, flat 64-bit CS and data
 * segments from a GDT in guest memory, interrupts off, RSI = zero page. */
struct guest_entry {
    uint64_t rip, rsp, rsi, rflags;
    uint64_t cr0, cr3, cr4, efer;
    uint64_t gdt_base;
    uint16_t gdt_limit;
    uint16_t cs, ds;          /* selectors into that GDT */
    uint64_t pat;             /* guest IA32_PAT at entry (power-on value) */
};

/* The ACPI fixed-hardware register blocks the FADT names (ACPI 6.5,
 * 4.8.3): the guest's power-management hardware, reached through I/O ports
 * (vmm/io_policy.c lets exactly these through). */
enum guest_pm_block {
    PM_BLK_PM1A_EVT, PM_BLK_PM1B_EVT, PM_BLK_PM1A_CNT, PM_BLK_PM1B_CNT,
    PM_BLK_PM2_CNT, PM_BLK_PM_TMR, PM_BLK_GPE0, PM_BLK_GPE1,
    PM_BLK_COUNT,
};

/* Host devices the guest drives directly or that the vCPU layer traps. */
struct guest_devices {
    uint16_t pm_port[PM_BLK_COUNT]; /* I/O base of each block, 0 = absent */
    uint8_t pm_len[PM_BLK_COUNT];   /* its length in ports */
    uint16_t pm1a_cnt, pm1b_cnt; /* ACPI PM1 control ports (0 = none): a write
                                    with SLP_EN and the S5 type is power-off */
    uint8_t s5_typa, s5_typb;
    bool s5_found;
    uint64_t lapic, ioapic, hpet; /* MMIO bases passed through (0 = none) */
};

/* What the host offers (from struct boot_info). */
struct guest_input {
    const struct pv_config *cfg;
    const struct memmap *host_map;   /* firmware map at ExitBootServices */
    uint64_t acpi_rsdp;              /* host RSDP, 0 if none */
    struct staged_file kernel;       /* bzImage as read from the ESP */
    struct staged_file initrd;       /* size 0 if none */
    /* hpa of at least GUEST_LEGACY_SIZE bytes of 0xFF backing the legacy
     * area [640K - 4K, 1M) as ROM: reads see what open bus gives, without
     * an exit per access (firmware-area scans read it a lot); writes are
     * dropped. 0: the area is left with no region (open bus). */
    uint64_t legacy_rom;
    /* APIC ID of the CPU the vCPU runs on: the processor entry the guest's
     * MADT keeps. ACPI_APIC_ID_ANY (guest/acpi_copy.h): the first enabled. */
    uint32_t boot_apic_id;
};
#define GUEST_LEGACY_START 0x9F000ull
#define GUEST_LEGACY_SIZE (0x100000ull - GUEST_LEGACY_START)

/* The guest-physical layout chosen (for logging, the monitor and tests). */
#define GUEST_E820_MAX 32
struct e820_entry {
    uint64_t addr, size;
    uint32_t type;                   /* E820_* */
};
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3
#define E820_NVS 4

struct guest_layout {
    uint64_t ram_below_4g, ram_above_4g; /* bytes of RAM in each part */
    uint64_t kernel_gpa, kernel_size;    /* protected-mode kernel, init_size */
    uint64_t initrd_gpa, initrd_size;
    uint64_t zero_page_gpa, cmdline_gpa, acpi_rsdp_gpa;
    struct e820_entry e820[GUEST_E820_MAX];
    size_t n_e820;
    struct guest_devices dev;
};

/*
 * Build the guest in mm (which must be empty): regions, boot data written
 * through mm_write, entry state. On error returns a negative -PV_* code and
 * writes one line naming the problem into err ("linux: not a bzImage (no
 * HdrS signature)", "memory 64G: no room below ...").
 * The staged kernel buffer is modified in place (see guest/bzimage.h).
 */
int guest_build(struct guest_mm *mm, const struct guest_input *in,
                struct guest_entry *entry, struct guest_layout *layout,
                char *err, size_t err_len);

/* Emit the layout as lines ("guest e820 0x0000000000-0x000009f000 ram",
 * "guest kernel at 0x1000000 ...") through emit. */
void guest_layout_describe(const struct guest_layout *l,
                           void (*emit)(void *ctx, const char *line), void *ctx);

#endif

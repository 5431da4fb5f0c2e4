/*
 * The zero page (struct boot_params, Documentation/x86/zero-page.rst) and
 * the kernel command line, written into guest memory.
 *
 * Zero page at GUEST_ZERO_PAGE_GPA (layout.h): all zero except
 *   hdr (0x1f1 .. 0x202 + jump displacement)  copied from the bzImage, then
 *       type_of_loader  0xFF (undefined loader)
 *       loadflags       the file's, KASLR_FLAG cleared (the kernel sets it),
 *                       CAN_USE_HEAP set
 *       heap_end_ptr    0xde00 (conventional; the real-mode setup that would
 *                       use it never runs)
 *       cmd_line_ptr    GUEST_CMDLINE_GPA (+ ext_cmd_line_ptr 0x0c8 = bits
 *                       63..32)
 *       ramdisk_image/size   the initrd (+ ext_ 0x0c0/0x0c4), 0 without one
 *       setup_data      0 (no setup_data chain)
 *       hardware_subarch 0 (PC)
 *   acpi_rsdp_addr (0x070)   the guest ACPI copy's RSDP, 0 without one
 *   e820_entries (0x1e8), e820_table (0x2d0)   the layout's e820
 * The command line is cfg "options" verbatim, NUL-terminated at
 * GUEST_CMDLINE_GPA; nothing is appended.
 */
#ifndef PV_GUEST_BOOTPARAMS_H
#define PV_GUEST_BOOTPARAMS_H

#include "guest/bzimage.h"
#include "guest/guest.h"

/* struct boot_params offsets */
#define BP_SIZE 0x1000u
#define BP_OFF_ACPI_RSDP_ADDR 0x070      /* u64 */
#define BP_OFF_EXT_RAMDISK_IMAGE 0x0c0   /* u32: bits 63..32 */
#define BP_OFF_EXT_RAMDISK_SIZE 0x0c4    /* u32 */
#define BP_OFF_EXT_CMD_LINE_PTR 0x0c8    /* u32 */
#define BP_OFF_E820_ENTRIES 0x1e8        /* u8 */
#define BP_OFF_SENTINEL 0x1ef            /* u8: must stay 0 */
#define BP_OFF_HDR BZ_HDR_START          /* struct setup_header */
#define BP_OFF_E820_TABLE 0x2d0          /* struct boot_e820_entry[128] */
#define BP_E820_ENTRY_SIZE 20u           /* u64 addr, u64 size, u32 type */
#define BP_E820_MAX 128u

#define BP_TYPE_OF_LOADER_UNDEFINED 0xffu
#define BP_HEAP_END_PTR 0xde00u

/*
 * Returns 0 if options fits the kernel's cmdline_size and the reserved
 * GUEST_CMDLINE_MAX, else -PV_EINVAL with one line in err:
 *     options: the command line is 3000 bytes, the kernel takes at most 2047
 */
int bootparams_check_cmdline(const struct bzimage_info *k, const char *options,
                             char *err, size_t len);

/*
 * Writes options (NUL-terminated) at GUEST_CMDLINE_GPA after
 * bootparams_check_cmdline(). Returns 0, its error, or mm_write's.
 */
int bootparams_write_cmdline(struct guest_mm *mm, const struct bzimage_info *k,
                             const char *options, char *err, size_t len);

/*
 * Builds the zero page from the kernel header and the layout (its e820,
 * initrd, cmdline_gpa, acpi_rsdp_gpa) and writes it at l->zero_page_gpa.
 * Returns 0 or mm_write's error (-PV_*).
 */
int bootparams_write(struct guest_mm *mm, const struct bzimage_info *k,
                     const struct guest_layout *l);

#endif

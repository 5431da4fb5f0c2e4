/*
 * Internal interface of the UEFI front end. efi/ is the only code that sees
 * gnu-efi types; everything it hands on is in vmm/boot_info.h.
 */
#ifndef PV_EFI_GLUE_H
#define PV_EFI_GLUE_H

#include <efi.h>

#include "vmm/boot_info.h"

extern EFI_SYSTEM_TABLE *g_st;
extern EFI_BOOT_SERVICES *g_bs;

/* ---- console (efi/console.c) ---- */
/* Print an ASCII line on the UEFI text console (ConOut) only. */
void con_line(const char *s);
/* Log on the serial console AND print on the UEFI console: for the banner
 * and for errors a person at the screen must see. */
void say(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- page allocations that can be undone (efi/memory.c) ---- */
/* Allocate bytes (rounded up to pages) aligned to align as EfiLoaderData.
 * Every allocation is remembered so alloc_release_all() can give it back
 * when the app fails before ExitBootServices. */
EFI_STATUS alloc_pages(uint64_t bytes, uint64_t align, uint64_t *out);
void alloc_release_all(void);
/* Allocate `pages` pages of conventional memory for the frame pool in as
 * few host ranges as the memory map allows (largest free ranges first, the
 * last one cut to what is still needed, 2 MiB aligned where it can be), at
 * most max ranges, leaving EFI_FIRMWARE_RESERVE bytes to the firmware.
 * *avail: pages that could have been had. EFI_OUT_OF_RESOURCES when
 * pages > *avail or the map is too fragmented for max ranges. */
#define EFI_FIRMWARE_RESERVE (8ull << 20)
EFI_STATUS alloc_frame_ranges(uint64_t pages, struct hpa_range *out, uint32_t max,
                              uint32_t *n, uint64_t *avail);
/* Snapshot of the current UEFI memory map, converted (pre-EBS summary). */
EFI_STATUS memmap_snapshot(struct memmap *m);
/* ExitBootServices with the stale-map-key retry; fills bi->memmap. */
EFI_STATUS exit_boot_services(EFI_HANDLE image, struct boot_info *bi);
/* ACPI RSDP from the configuration tables (2.0 preferred), or 0. */
uint64_t find_rsdp(void);

/* ---- files on the ESP (efi/file.c) ---- */
struct esp {
    EFI_FILE_HANDLE root;
    CHAR16 dir[256];          /* folder of pagevisor.efi, "\\EFI\\BOOT\\" */
    uint64_t image_base, image_size;
};
EFI_STATUS esp_open(EFI_HANDLE image, struct esp *esp);
void esp_close(struct esp *esp);
/* Read NAME from the binary's folder into a pool buffer (caller frees with
 * FreePool). */
EFI_STATUS esp_read_beside(struct esp *esp, const char *name, char **buf, UINTN *size);
/* Stage an absolute ESP path ("/vmlinuz") into page allocations. */
EFI_STATUS esp_stage(struct esp *esp, const char *path, struct staged_file *out);

#endif

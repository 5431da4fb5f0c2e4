/*
 * Linux bzImage: validation of the setup header for the 64-bit boot
 * protocol (Documentation/x86/boot.rst) and relocation of the staged file so
 * that its protected-mode part can back a file-private region directly.
 *
 * A bzImage file is: the boot sector and real-mode setup code, (setup_sects
 * + 1) * 512 bytes with the setup header at 0x1f1, followed by the
 * protected-mode kernel (the compressed kernel and its decompressor), whose
 * byte 0x200 is the 64-bit entry point startup_64. pagevisor never runs the
 * real-mode part; it only needs the header and the protected-mode bytes.
 */
#ifndef PV_GUEST_BZIMAGE_H
#define PV_GUEST_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- offsets in the file (and in struct boot_params, which embeds the
 *      setup header at the same offset) -------------------------------- */
#define BZ_OFF_SETUP_SECTS 0x1f1      /* u8: setup sectors after the boot sector */
#define BZ_OFF_SYSSIZE 0x1f4          /* u32: protected-mode size in 16-byte units */
#define BZ_OFF_BOOT_FLAG 0x1fe        /* u16: 0xAA55 */
#define BZ_OFF_JUMP 0x200             /* u16: short jump over the header (0xEB xx) */
#define BZ_OFF_JUMP_DISP 0x201        /* u8: its displacement: header ends at 0x202 + it */
#define BZ_OFF_HEADER 0x202           /* u32: "HdrS" */
#define BZ_OFF_VERSION 0x206          /* u16: boot protocol version */
#define BZ_OFF_TYPE_OF_LOADER 0x210   /* u8 */
#define BZ_OFF_LOADFLAGS 0x211        /* u8 */
#define BZ_OFF_RAMDISK_IMAGE 0x218    /* u32 */
#define BZ_OFF_RAMDISK_SIZE 0x21c     /* u32 */
#define BZ_OFF_HEAP_END_PTR 0x224     /* u16 */
#define BZ_OFF_CMD_LINE_PTR 0x228     /* u32 */
#define BZ_OFF_INITRD_ADDR_MAX 0x22c  /* u32: highest byte address of the initrd */
#define BZ_OFF_KERNEL_ALIGNMENT 0x230 /* u32 */
#define BZ_OFF_RELOCATABLE 0x234      /* u8 */
#define BZ_OFF_XLOADFLAGS 0x236       /* u16 */
#define BZ_OFF_CMDLINE_SIZE 0x238     /* u32: max command line length, NUL excluded */
#define BZ_OFF_HARDWARE_SUBARCH 0x23c /* u32 */
#define BZ_OFF_SETUP_DATA 0x250       /* u64 */
#define BZ_OFF_PREF_ADDRESS 0x258     /* u64 */
#define BZ_OFF_INIT_SIZE 0x260        /* u32: linear memory the kernel needs */

#define BZ_SECTOR_SIZE 512u
#define BZ_SETUP_SECTS_DEFAULT 4u     /* setup_sects 0 means 4 */
#define BZ_BOOT_FLAG 0xAA55u
#define BZ_HEADER_MAGIC 0x53726448u   /* "HdrS" little-endian */
#define BZ_PROTOCOL_MIN 0x020cu       /* 2.12: xloadflags, 64-bit entry */
#define BZ_ENTRY64_OFFSET 0x200u      /* startup_64 in the protected-mode part */

/* The setup header as copied into boot_params: from BZ_OFF_SETUP_SECTS to
 * 0x202 + the jump displacement. It must hold the fields read here (up to
 * init_size) and end before boot_params' next field (edd_mbr_sig_buffer). */
#define BZ_HDR_START BZ_OFF_SETUP_SECTS
#define BZ_HDR_END_MIN (BZ_OFF_INIT_SIZE + 4u)
#define BZ_HDR_END_MAX 0x290u
#define BZ_HDR_MAX (BZ_HDR_END_MAX - BZ_HDR_START)

/* loadflags */
#define BZ_LOADED_HIGH 0x01u   /* protected-mode code loaded at 0x100000+ */
#define BZ_KASLR_FLAG 0x02u    /* set by the kernel itself */
#define BZ_QUIET_FLAG 0x20u
#define BZ_CAN_USE_HEAP 0x80u  /* heap_end_ptr is valid */
/* xloadflags */
#define BZ_XLF_KERNEL_64 0x0001u           /* has the 64-bit entry at 0x200 */
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G 0x0002u

/* What bzimage_parse() learned. hdr[] keeps the header bytes as they were in
 * the file, since bzimage_relocate_in_place() overwrites them. */
struct bzimage_info {
    uint8_t hdr[BZ_HDR_MAX];  /* file bytes [BZ_HDR_START, hdr_end) */
    uint32_t hdr_end;         /* 0x202 + jump displacement */
    uint16_t version;         /* 0x020f = 2.15 */
    uint8_t loadflags;
    uint16_t xloadflags;
    uint64_t setup_size;      /* (setup_sects + 1) * 512: pm part's file offset */
    uint64_t pm_size;         /* protected-mode bytes: file size - setup_size */
    bool relocatable;
    uint64_t pref_address;
    uint32_t init_size;       /* >= pm_size */
    uint32_t kernel_alignment;/* power of two when relocatable */
    uint32_t cmdline_size;
    uint32_t initrd_addr_max;
    bool relocated;           /* set by bzimage_relocate_in_place() */
};

/*
 * Validates img[0..size) as a bzImage that can be entered through the 64-bit
 * boot protocol and fills *out. Returns 0, or -PV_EINVAL after writing one
 * line naming the problem into err (no prefix: the caller adds "linux
 * /path: "), e.g.
 *     not a bzImage (no HdrS signature)
 *     boot protocol 2.11 is older than 2.12 (no 64-bit entry)
 *     kernel has no 64-bit entry point (XLF_KERNEL_64 clear)
 *     truncated: setup needs 17408 bytes, file has 4096
 * Reads img only; err may be NULL or len 0. The EFI front end calls this
 * before ExitBootServices so that a bad kernel is refused while the
 * firmware can still report it.
 */
int bzimage_parse(const uint8_t *img, uint64_t size, struct bzimage_info *out,
                  char *err, size_t len);

/*
 * Moves the protected-mode part (info->pm_size bytes at info->setup_size) to
 * img[0] and zeroes the bytes after it up to size, so that img becomes the
 * image behind the guest's kernel region: image byte N is the kernel's load
 * address + N. The staged buffer is modified: the setup header survives only
 * in info->hdr. img must be the buffer info was parsed from, page aligned
 * (the staged file's base) for the region to map it. Returns 0, or
 * -PV_EINVAL if info does not describe a size-byte image or was already
 * relocated.
 */
int bzimage_relocate_in_place(uint8_t *img, uint64_t size,
                              struct bzimage_info *info);

#endif

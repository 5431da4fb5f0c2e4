/* bzImage header validation and relocation; see bzimage.h. */
#include "guest/bzimage.h"

#include <string.h>

#include "vmm/lib/types.h"
#include "vmm/lib/fmt.h"

#define BZ_JUMP_SHORT_OPCODE 0xebu /* jmp rel8 over the header */

static uint8_t rd8(const uint8_t *p, uint32_t off) { return p[off]; }
static uint16_t rd16(const uint8_t *p, uint32_t off)
{
    return (uint16_t)(p[off] | (p[off + 1] << 8));
}
static uint32_t rd32(const uint8_t *p, uint32_t off)
{
    return (uint32_t)rd16(p, off) | ((uint32_t)rd16(p, off + 2) << 16);
}
static uint64_t rd64(const uint8_t *p, uint32_t off)
{
    return (uint64_t)rd32(p, off) | ((uint64_t)rd32(p, off + 4) << 32);
}


static bool is_pow2(uint64_t x) { return x && !(x & (x - 1)); }

/* The header proper: magic, protocol version, where it ends, 64-bit entry. */
static int check_header(const uint8_t *img, struct bzimage_info *out,
                        char *err, size_t len)
{
    if (rd16(img, BZ_OFF_BOOT_FLAG) != BZ_BOOT_FLAG)
        return pv_fail(err, len, "not a bzImage (no 0xAA55 boot flag at 0x%x)",
                    BZ_OFF_BOOT_FLAG);
    if (rd32(img, BZ_OFF_HEADER) != BZ_HEADER_MAGIC)
        return pv_fail(err, len, "not a bzImage (no HdrS signature)");
    out->version = rd16(img, BZ_OFF_VERSION);
    if (out->version < BZ_PROTOCOL_MIN)
        return pv_fail(err, len,
                    "boot protocol %u.%u is older than %u.%u (no 64-bit entry)",
                    out->version >> 8, out->version & 0xffu,
                    BZ_PROTOCOL_MIN >> 8, BZ_PROTOCOL_MIN & 0xffu);
    if (rd8(img, BZ_OFF_JUMP) != BZ_JUMP_SHORT_OPCODE)
        return pv_fail(err, len, "setup header: no short jump at 0x%x", BZ_OFF_JUMP);
    out->hdr_end = BZ_OFF_HEADER + rd8(img, BZ_OFF_JUMP_DISP);
    if (out->hdr_end < BZ_HDR_END_MIN)
        return pv_fail(err, len, "setup header ends at 0x%x, before the end of init_size (0x%x)",
                    out->hdr_end, BZ_HDR_END_MIN);
    if (out->hdr_end > BZ_HDR_END_MAX)
        return pv_fail(err, len,
                    "setup header ends at 0x%x, past boot_params' header space (0x%x)",
                    out->hdr_end, BZ_HDR_END_MAX);
    out->xloadflags = rd16(img, BZ_OFF_XLOADFLAGS);
    if (!(out->xloadflags & BZ_XLF_KERNEL_64))
        return pv_fail(err, len, "kernel has no 64-bit entry point (XLF_KERNEL_64 clear)");
    out->loadflags = rd8(img, BZ_OFF_LOADFLAGS);
    if (!(out->loadflags & BZ_LOADED_HIGH))
        return pv_fail(err, len, "kernel does not load at 1M (LOADED_HIGH clear in loadflags)");
    return 0;
}

/* Where the protected-mode part is, and that the file holds all of it. */
static int check_extent(const uint8_t *img, uint64_t size,
                        struct bzimage_info *out, char *err, size_t len)
{
    uint32_t sects = rd8(img, BZ_OFF_SETUP_SECTS);
    if (sects == 0)
        sects = BZ_SETUP_SECTS_DEFAULT;
    out->setup_size = (uint64_t)(sects + 1) * BZ_SECTOR_SIZE;
    if (out->setup_size > size)
        return pv_fail(err, len, "truncated: setup needs %llu bytes, file has %llu",
                    (unsigned long long)out->setup_size, (unsigned long long)size);
    out->pm_size = size - out->setup_size;
    if (out->pm_size == 0)
        return pv_fail(err, len, "no protected-mode kernel after the %llu-byte setup",
                    (unsigned long long)out->setup_size);
    uint64_t sys = (uint64_t)rd32(img, BZ_OFF_SYSSIZE) * 16u;
    if (sys > out->pm_size)
        return pv_fail(err, len,
                    "truncated: protected-mode kernel needs %llu bytes (syssize), "
                    "file has %llu after the setup",
                    (unsigned long long)sys, (unsigned long long)out->pm_size);
    if (out->pm_size <= BZ_ENTRY64_OFFSET)
        return pv_fail(err, len,
                    "protected-mode kernel of %llu bytes ends before its 64-bit "
                    "entry at 0x%x",
                    (unsigned long long)out->pm_size, BZ_ENTRY64_OFFSET);
    return 0;
}

/* Where and how much memory the kernel wants. */
static int check_placement(const uint8_t *img, struct bzimage_info *out,
                           char *err, size_t len)
{
    out->relocatable = rd8(img, BZ_OFF_RELOCATABLE) != 0;
    out->pref_address = rd64(img, BZ_OFF_PREF_ADDRESS);
    out->init_size = rd32(img, BZ_OFF_INIT_SIZE);
    out->kernel_alignment = rd32(img, BZ_OFF_KERNEL_ALIGNMENT);
    out->cmdline_size = rd32(img, BZ_OFF_CMDLINE_SIZE);
    out->initrd_addr_max = rd32(img, BZ_OFF_INITRD_ADDR_MAX);

    if (out->init_size < out->pm_size)
        return pv_fail(err, len,
                    "init_size 0x%x is smaller than the protected-mode kernel (%llu bytes)",
                    out->init_size, (unsigned long long)out->pm_size);
    if (!IS_ALIGNED(out->pref_address, PAGE_SIZE))
        return pv_fail(err, len, "pref_address 0x%llx is not page aligned",
                    (unsigned long long)out->pref_address);
    if (out->pref_address < (1ull << 20))
        return pv_fail(err, len, "pref_address 0x%llx is below 1M",
                    (unsigned long long)out->pref_address);
    if (out->relocatable && !is_pow2(out->kernel_alignment))
        return pv_fail(err, len, "kernel_alignment 0x%x is not a power of two",
                    out->kernel_alignment);
    return 0;
}

int bzimage_parse(const uint8_t *img, uint64_t size, struct bzimage_info *out,
                  char *err, size_t len)
{
    memset(out, 0, sizeof(*out));
    if (!img || size < BZ_HDR_END_MIN)
        return pv_fail(err, len,
                    "too small for a bzImage (%llu bytes, the setup header alone needs %u)",
                    (unsigned long long)size, BZ_HDR_END_MIN);
    int rc = check_header(img, out, err, len);
    if (rc == 0)
        rc = check_extent(img, size, out, err, len);
    if (rc == 0)
        rc = check_placement(img, out, err, len);
    if (rc < 0)
        return rc;
    /* hdr_end <= BZ_HDR_END_MAX < 2 sectors <= setup_size <= size. */
    memcpy(out->hdr, img + BZ_HDR_START, out->hdr_end - BZ_HDR_START);
    return 0;
}

int bzimage_relocate_in_place(uint8_t *img, uint64_t size,
                              struct bzimage_info *info)
{
    if (!img || !info || info->relocated || info->pm_size == 0 ||
        info->setup_size + info->pm_size != size)
        return -PV_EINVAL;
    memmove(img, img + info->setup_size, (size_t)info->pm_size);
    memset(img + info->pm_size, 0, (size_t)(size - info->pm_size));
    info->relocated = true;
    return 0;
}

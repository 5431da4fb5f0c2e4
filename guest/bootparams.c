/* Zero page and command line; see bootparams.h. */
#include "guest/bootparams.h"

#include <string.h>

#include "guest/layout.h"
#include "vmm/lib/fmt.h"

static void wr8(uint8_t *bp, uint32_t off, uint8_t v) { bp[off] = v; }
static void wr16(uint8_t *bp, uint32_t off, uint16_t v) { memcpy(bp + off, &v, 2); }
static void wr32(uint8_t *bp, uint32_t off, uint32_t v) { memcpy(bp + off, &v, 4); }
static void wr64(uint8_t *bp, uint32_t off, uint64_t v) { memcpy(bp + off, &v, 8); }

static uint32_t lo32(uint64_t v) { return (uint32_t)v; }
static uint32_t hi32(uint64_t v) { return (uint32_t)(v >> 32); }

int bootparams_check_cmdline(const struct bzimage_info *k, const char *options,
                             char *err, size_t len)
{
    size_t n = strlen(options);
    if (n > k->cmdline_size || n + 1 > GUEST_CMDLINE_MAX) {
        uint64_t max = k->cmdline_size < GUEST_CMDLINE_MAX - 1 ? k->cmdline_size
                                                               : GUEST_CMDLINE_MAX - 1;
        if (err && len)
            pv_snprintf(err, len,
                        "options: the command line is %zu bytes, the kernel takes "
                        "at most %llu",
                        n, (unsigned long long)max);
        return -PV_EINVAL;
    }
    return 0;
}

int bootparams_write_cmdline(struct guest_mm *mm, const struct bzimage_info *k,
                             const char *options, char *err, size_t len)
{
    int rc = bootparams_check_cmdline(k, options, err, len);
    if (rc < 0)
        return rc;
    return mm_write(mm, GUEST_CMDLINE_GPA, options, strlen(options) + 1);
}

static void put_e820(uint8_t *bp, const struct guest_layout *l)
{
    size_t n = l->n_e820 < BP_E820_MAX ? l->n_e820 : BP_E820_MAX;
    for (size_t i = 0; i < n; i++) {
        uint32_t off = BP_OFF_E820_TABLE + (uint32_t)i * BP_E820_ENTRY_SIZE;
        wr64(bp, off, l->e820[i].addr);
        wr64(bp, off + 8, l->e820[i].size);
        wr32(bp, off + 16, l->e820[i].type);
    }
    wr8(bp, BP_OFF_E820_ENTRIES, (uint8_t)n);
}

int bootparams_write(struct guest_mm *mm, const struct bzimage_info *k,
                     const struct guest_layout *l)
{
    uint8_t bp[BP_SIZE];
    memset(bp, 0, sizeof(bp));

    /* The header as the kernel shipped it, then the loader's fields. */
    memcpy(bp + BP_OFF_HDR, k->hdr, k->hdr_end - BZ_HDR_START);
    uint8_t loadflags = (uint8_t)((k->loadflags & ~BZ_KASLR_FLAG) | BZ_CAN_USE_HEAP);
    wr8(bp, BZ_OFF_TYPE_OF_LOADER, BP_TYPE_OF_LOADER_UNDEFINED);
    wr8(bp, BZ_OFF_LOADFLAGS, loadflags);
    wr16(bp, BZ_OFF_HEAP_END_PTR, BP_HEAP_END_PTR);
    wr32(bp, BZ_OFF_CMD_LINE_PTR, lo32(l->cmdline_gpa));
    wr32(bp, BP_OFF_EXT_CMD_LINE_PTR, hi32(l->cmdline_gpa));
    wr32(bp, BZ_OFF_RAMDISK_IMAGE, lo32(l->initrd_gpa));
    wr32(bp, BP_OFF_EXT_RAMDISK_IMAGE, hi32(l->initrd_gpa));
    wr32(bp, BZ_OFF_RAMDISK_SIZE, lo32(l->initrd_size));
    wr32(bp, BP_OFF_EXT_RAMDISK_SIZE, hi32(l->initrd_size));
    wr64(bp, BZ_OFF_SETUP_DATA, 0);
    wr32(bp, BZ_OFF_HARDWARE_SUBARCH, 0);

    wr64(bp, BP_OFF_ACPI_RSDP_ADDR, l->acpi_rsdp_gpa);
    put_e820(bp, l);
    return mm_write(mm, l->zero_page_gpa, bp, sizeof(bp));
}

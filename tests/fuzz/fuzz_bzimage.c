/*
 * libFuzzer target for the bzImage header check (guest/bzimage.c): the
 * kernel file comes from the ESP, which whoever prepares the disk controls.
 *
 * Input: an options byte, then either the whole file (options bit 0 clear)
 * or, over a valid header template, a 2-byte file-size adjustment and
 * bytes that overwrite the setup header from 0x1f1 on (bit 0 set), so the
 * fuzzer gets past the magic numbers. The image sits in a heap buffer of
 * exactly its size (AddressSanitizer sees any read past the file), and the
 * error buffer's length comes from the options (0, 1, short, long).
 *
 * Checked: a refusal writes a terminated, non-empty message when there is
 * room; an acceptance is self-consistent (setup + protected-mode sizes =
 * file size, the 64-bit entry inside the file, the header's end within
 * boot_params' space, init_size covering the kernel, the saved header
 * equal to the file's) and relocation moves exactly the protected-mode
 * bytes to the front and zeroes the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/bzimage.h"
#include "vmm/lib/types.h"

#define MAX_FILE (64u * 1024u)
#define TEMPLATE_SETUP_SECTS 1u
#define TEMPLATE_BASE_SIZE 0x1000u
#define OPT_TEMPLATE 0x01u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz_bzimage: %s\n", what);
    abort();
}

static void put16(uint8_t *p, uint32_t off, uint16_t v)
{
    p[off] = (uint8_t)v;
    p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t off, uint32_t v)
{
    put16(p, off, (uint16_t)v);
    put16(p, off + 2, (uint16_t)(v >> 16));
}

/* A header the parser accepts, for a file of size bytes. */
static void template(uint8_t *img, size_t size)
{
    uint32_t setup = (TEMPLATE_SETUP_SECTS + 1) * BZ_SECTOR_SIZE;
    img[BZ_OFF_SETUP_SECTS] = TEMPLATE_SETUP_SECTS;
    put16(img, BZ_OFF_BOOT_FLAG, BZ_BOOT_FLAG);
    img[BZ_OFF_JUMP] = 0xEB;
    img[BZ_OFF_JUMP_DISP] = (uint8_t)(BZ_HDR_END_MIN + 4 - BZ_OFF_HEADER);
    put32(img, BZ_OFF_HEADER, BZ_HEADER_MAGIC);
    put16(img, BZ_OFF_VERSION, 0x020f);
    img[BZ_OFF_LOADFLAGS] = BZ_LOADED_HIGH;
    put16(img, BZ_OFF_XLOADFLAGS, BZ_XLF_KERNEL_64 | BZ_XLF_CAN_BE_LOADED_ABOVE_4G);
    put32(img, BZ_OFF_SYSSIZE, (uint32_t)((size - setup) / 16));
    img[BZ_OFF_RELOCATABLE] = 1;
    put32(img, BZ_OFF_KERNEL_ALIGNMENT, 0x200000);
    put32(img, BZ_OFF_PREF_ADDRESS, 0x1000000);
    put32(img, BZ_OFF_INIT_SIZE, (uint32_t)size * 4);
    put32(img, BZ_OFF_CMDLINE_SIZE, 2047);
}

static void check_accepted(const uint8_t *img, size_t size, struct bzimage_info *info)
{
    if (info->setup_size + info->pm_size != size)
        die("setup and protected-mode sizes do not add up to the file");
    if (info->setup_size < 2 * BZ_SECTOR_SIZE || info->setup_size % BZ_SECTOR_SIZE)
        die("setup size not whole sectors past the boot sector");
    if (info->pm_size <= BZ_ENTRY64_OFFSET)
        die("64-bit entry outside the file");
    if (info->hdr_end < BZ_HDR_END_MIN || info->hdr_end > BZ_HDR_END_MAX)
        die("header end out of bounds");
    if (info->init_size < info->pm_size)
        die("init_size smaller than the kernel");
    if (info->version < BZ_PROTOCOL_MIN || !(info->xloadflags & BZ_XLF_KERNEL_64))
        die("accepted without the 64-bit boot protocol");
    if (memcmp(info->hdr, img + BZ_HDR_START, info->hdr_end - BZ_HDR_START))
        die("saved header differs from the file");
    if (info->relocatable && (info->kernel_alignment & (info->kernel_alignment - 1)))
        die("relocatable with an alignment that is not a power of two");

    uint8_t *copy = malloc(size);
    if (!copy)
        abort();
    memcpy(copy, img, size);
    if (bzimage_relocate_in_place(copy, size, info) != 0)
        die("relocation of an accepted image failed");
    if (memcmp(copy, img + info->setup_size, info->pm_size))
        die("relocation did not move the protected-mode bytes");
    for (size_t i = info->pm_size; i < size; i++)
        if (copy[i])
            die("relocation left bytes after the kernel");
    if (bzimage_relocate_in_place(copy, size, info) != -PV_EINVAL)
        die("second relocation accepted");
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t err_lens[] = { 0, 1, 16, 200 };
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    size_t file;
    uint8_t *img;
    if (opt & OPT_TEMPLATE) {
        if (size < 2)
            return 0;
        file = TEMPLATE_BASE_SIZE + (size_t)(data[0] | data[1] << 8) % (MAX_FILE - TEMPLATE_BASE_SIZE);
        if ((opt >> 4) & 1)
            file = (size_t)(data[0] | data[1] << 8) % TEMPLATE_BASE_SIZE;  /* too small */
        data += 2;
        size -= 2;
        img = calloc(1, file ? file : 1);
        if (!img)
            abort();
        if (file >= TEMPLATE_BASE_SIZE)
            template(img, file);
        size_t room = file > BZ_OFF_SETUP_SECTS ? file - BZ_OFF_SETUP_SECTS : 0;
        memcpy(img + BZ_OFF_SETUP_SECTS, data, size < room ? size : room);
    } else {
        file = size > MAX_FILE ? MAX_FILE : size;
        img = malloc(file ? file : 1);
        if (!img)
            abort();
        memcpy(img, data, file);
    }

    size_t err_len = err_lens[(opt >> 1) & 3];
    char *err = err_len ? malloc(err_len) : NULL;
    if (err_len && !err)
        abort();
    if (err)
        memset(err, 'x', err_len);
    struct bzimage_info info;
    int rc = bzimage_parse(img, file, &info, err, err_len);
    if (rc == 0) {
        check_accepted(img, file, &info);
    } else {
        if (rc != -PV_EINVAL)
            die("refusal other than -PV_EINVAL");
        if (err && !memchr(err, 0, err_len))
            die("error message not terminated");
        if (err && err_len > 1 && err[0] == 0)
            die("refused without a message");
    }
    free(err);
    free(img);
    return 0;
}

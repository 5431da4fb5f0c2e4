/* Simulated guest layout and reference model for sim_mm (see sim_layout.h). */
#include "tests/sim/sim_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define STAGED_FILL 0xee /* staged bytes past an image's end: must never show */

static void *xalloc(size_t align, size_t size)
{
    void *p = aligned_alloc(align, ALIGN_UP(size, align));
    if (!p) {
        fprintf(stderr, "sim: out of host memory (%zu bytes)\n", size);
        exit(2);
    }
    return p;
}

static uint8_t *make_image(uint64_t bytes, uint64_t seed)
{
    uint64_t alloc = ALIGN_UP(bytes, PAGE_SIZE);
    uint8_t *img = xalloc(PAGE_SIZE, alloc);
    memset(img, STAGED_FILL, alloc);
    uint64_t x = seed | 1;
    for (uint64_t i = 0; i < bytes; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        img[i] = (uint8_t)x;
    }
    return img;
}

size_t sim_layout_build(struct sim_region *out, size_t cap, uint64_t seed)
{
    const struct sim_region proto[] = {
        { "ram-low", 0, 640 * KiB, SK_ANON, 4, 0, NULL, NULL, NULL },
        { "legacy-hole", 640 * KiB, 960 * KiB, SK_GAP, 1, 0, NULL, NULL, NULL },
        { "bios", 960 * KiB, 1 * MiB, SK_ROM, 2, 0xe000 + 0x321, NULL, NULL, NULL },
        { "ram", 1 * MiB, 16 * MiB, SK_ANON, 20, 0, NULL, NULL, NULL },
        { "kernel", 16 * MiB, 20 * MiB, SK_FILE, 10, 3 * MiB + 1234, NULL, NULL, NULL },
        { "ram-mid", 20 * MiB, 48 * MiB, SK_ANON, 20, 0, NULL, NULL, NULL },
        { "pci-hole", 48 * MiB, 52 * MiB, SK_GAP, 1, 0, NULL, NULL, NULL },
        { "dev", 0xfed00000, 0xfed01000, SK_MMIO, 2, 0, NULL, NULL, NULL },
        { "mmio-gap", 0xfed01000, 0xfed03000, SK_GAP, 1, 0, NULL, NULL, NULL },
        { "lapic", 0xfee00000, 0xfee04000, SK_PASS, 2, 0, NULL, NULL, NULL },
        { "ram-high", 4 * GiB, 4 * GiB + 16 * MiB, SK_ANON, 10, 0, NULL, NULL, NULL },
        { "above", 4 * GiB + 16 * MiB, 4 * GiB + 20 * MiB, SK_GAP, 1, 0, NULL, NULL, NULL },
    };
    size_t n = sizeof(proto) / sizeof(proto[0]);
    if (n > cap) {
        fprintf(stderr, "sim: layout needs %zu regions\n", n);
        exit(2);
    }
    for (size_t i = 0; i < n; i++) {
        struct sim_region *r = &out[i];
        *r = proto[i];
        uint64_t len = r->end - r->start;
        if (r->kind == SK_GAP)
            continue;
        r->ref = xalloc(PAGE_SIZE, len);
        r->init = xalloc(PAGE_SIZE, len);
        memset(r->init, 0, len);
        switch (r->kind) {
        case SK_FILE:
        case SK_ROM:
            r->image = make_image(r->image_size, seed + i);
            memcpy(r->init, r->image,
                   r->image_size < len ? r->image_size : len);
            break;
        case SK_PASS:
            r->image = make_image(len, seed ^ 0x9e3779b97f4a7c15ull);
            memcpy(r->init, r->image, len);
            break;
        case SK_MMIO:
            for (uint64_t o = DEV_REGS_END; o < DEV_ID_END; o++)
                r->init[o] = (uint8_t)((o & 0xff) ^ DEV_ID_XOR);
            break;
        default:
            break;
        }
        memcpy(r->ref, r->init, len);
    }
    return n;
}

void sim_layout_free(struct sim_region *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].ref);
        free(r[i].init);
        free(r[i].image);
    }
}

static void must(int rc, const struct sim_region *r)
{
    if (rc != 0) {
        fprintf(stderr, "sim: adding region %s failed (%d)\n", r->name, rc);
        exit(2);
    }
}

void sim_layout_register(struct guest_mm *mm, const struct sim_region *r,
                         size_t n, struct sim_dev *dev)
{
    for (size_t i = 0; i < n; i++, r++) {
        switch (r->kind) {
        case SK_ANON:
            must(mm_add_anon(mm, r->start, r->end, r->name), r);
            break;
        case SK_FILE:
            must(mm_add_image(mm, r->start, r->end, va_hpa(r->image), 0,
                              r->image_size, r->name), r);
            break;
        case SK_ROM:
            must(mm_add_rom(mm, r->start, r->end, va_hpa(r->image),
                            r->image_size, r->name), r);
            break;
        case SK_PASS:
            must(mm_add_passthrough(mm, r->start, r->end, va_hpa(r->image),
                                    MT_UC, r->name), r);
            break;
        case SK_MMIO:
            must(mm_add_mmio(mm, r->start, r->end, DEV_ID, dev, r->name), r);
            break;
        case SK_GAP:
            break;
        }
    }
}

const struct sim_region *sim_region_of(const struct sim_region *r, size_t n,
                                       gpa_t gpa)
{
    for (size_t i = 0; i < n; i++)
        if (gpa >= r[i].start && gpa < r[i].end)
            return &r[i];
    return NULL;
}

uint32_t sim_rights(const struct sim_region *r)
{
    switch (r->kind) {
    case SK_ANON:
    case SK_FILE:
        return ACC_RWX;
    case SK_ROM:
        return ACC_RX;
    case SK_PASS:
    case SK_MMIO:
        return ACC_RW;
    default:
        return 0;
    }
}

bool sim_ref_access(struct sim_region *r, gpa_t gpa, size_t len, uint32_t acc,
                    uint8_t *buf)
{
    if (r->kind == SK_GAP) {
        if (!(acc & ACC_W))
            memset(buf, 0xff, len); /* open bus reads all-ones */
        return true;
    }
    if (acc & ~sim_rights(r))
        return false;
    uint64_t off = gpa - r->start;
    if (!(acc & ACC_W)) {
        memcpy(buf, r->ref + off, len);
        return true;
    }
    for (size_t i = 0; i < len; i++)
        if (r->kind != SK_MMIO || off + i < DEV_REGS_END)
            r->ref[off + i] = buf[i];
    return true;
}

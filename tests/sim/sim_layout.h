/*
 * The simulated guest for sim_mm: a realistic, scaled-down guest-physical
 * layout, its reference byte model (what every gpa must contain), and the
 * tiny emulated device behind the MMIO window.
 *
 *   [0, 640K)              ram-low      anon
 *   [640K, 960K)           legacy-hole  open bus
 *   [960K, 1M)             bios         ROM (image with a partial last page
 *                                       and a page past its end)
 *   [1M, 16M)              ram          anon
 *   [16M, 20M)             kernel       file-private (3 MiB + 1234 bytes of
 *                                       image, then bss)
 *   [20M, 48M)             ram-mid      anon (whole 2 MiB blocks)
 *   [48M, 52M)             pci-hole     open bus (a sample of the hole)
 *   [0xfed00000, +4K)      dev          emulated MMIO register file
 *   [0xfed01000, +8K)      mmio-gap     open bus
 *   [0xfee00000, +16K)     lapic        passthrough (a host buffer)
 *   [4G, 4G+16M)           ram-high     anon
 *   [4G+16M, 4G+20M)       above        open bus
 */
#ifndef PV_TESTS_SIM_LAYOUT_H
#define PV_TESTS_SIM_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "ept/mm.h"

enum sim_kind { SK_ANON, SK_FILE, SK_ROM, SK_PASS, SK_MMIO, SK_GAP };

struct sim_region {
    const char *name;
    gpa_t start, end;
    enum sim_kind kind;
    unsigned weight;      /* relative chance random accesses land here */
    uint64_t image_size;  /* SK_FILE / SK_ROM: bytes of image */
    uint8_t *image;       /* SK_FILE / SK_ROM: staged image (page aligned,
                             garbage past image_size); SK_PASS: host range */
    uint8_t *ref;         /* reference contents (NULL for gaps) */
    uint8_t *init;        /* contents before any write (what a discarded
                             page reads as again) */
};

/* Emulated device: 64 eight-byte registers (read/write), an ID block
 * (read-only), the rest reads as zero and ignores writes. */
#define DEV_ID 7u
#define DEV_REGS_END 0x200u
#define DEV_ID_END 0x300u
#define DEV_ID_XOR 0xa5u

struct sim_dev {
    uint8_t regs[DEV_REGS_END];
    uint64_t reads, writes;
};

/* The device model, as the hypervisor's MMIO emulation would run it. */
static inline void sim_dev_access(struct sim_dev *d, uint64_t off, size_t len,
                                  bool write, uint8_t *buf)
{
    if (write)
        d->writes++;
    else
        d->reads++;
    for (size_t i = 0; i < len; i++, off++) {
        if (off < DEV_REGS_END) {
            if (write)
                d->regs[off] = buf[i];
            else
                buf[i] = d->regs[off];
        } else if (!write) {
            buf[i] = off < DEV_ID_END ? (uint8_t)((off & 0xff) ^ DEV_ID_XOR) : 0;
        }
    }
}

/* Build the regions (allocating images, host buffers and references) into
 * out[], return how many. seed varies the image contents. */
size_t sim_layout_build(struct sim_region *out, size_t cap, uint64_t seed);
void sim_layout_free(struct sim_region *r, size_t n);

/* Register every non-gap region with mm (dev ctx for the MMIO window). */
void sim_layout_register(struct guest_mm *mm, const struct sim_region *r,
                         size_t n, struct sim_dev *dev);

/* The region holding gpa (gaps included), or NULL outside the layout. */
const struct sim_region *sim_region_of(const struct sim_region *r, size_t n,
                                       gpa_t gpa);

/* Reference semantics of one access inside one page: a read fills buf with
 * what must be seen; a write records what must stay. Returns false when the
 * access is refused (ROM write, exec outside R-X/RWX memory). */
bool sim_ref_access(struct sim_region *r, gpa_t gpa, size_t len, uint32_t acc,
                    uint8_t *buf);

/* Rights the region grants (what mm_add_* gave it); 0 for gaps. */
uint32_t sim_rights(const struct sim_region *r);

#endif

/*
 * An emulated MMIO device as the exit layer sees it: the ctx of a guest
 * memory region of kind mmio (ept/mm.h mm_add_mmio, dev VDEV_MMIO_DEV)
 * points to one of these. The exit layer decodes the guest's load or store
 * (vmm/access_emul.c) and calls read or write with the offset inside the
 * region and the access size (1, 2, 4 or 8 bytes).
 */
#ifndef PV_VDEV_MMIO_DEV_H
#define PV_VDEV_MMIO_DEV_H

#include <stdint.h>

#define VDEV_MMIO_DEV 0x76646576u /* region mmio.dev of every mmio_dev region */

struct mmio_dev {
    uint64_t (*read)(void *ctx, uint64_t off, unsigned size);
    void (*write)(void *ctx, uint64_t off, unsigned size, uint64_t value);
    void *ctx;
};

#endif

/*
 * Basic types shared by ept/ and swap/.
 *
 * Address model: the hypervisor runs on identity page tables, so a host
 * physical address (hpa) is also a pointer it can dereference. Host-built
 * tests keep the same rule by using user-space virtual addresses of their
 * arenas as "host physical" addresses: they are page aligned and below 2^47,
 * which every stage-2 format can hold (address bits 12..51). hpa_va() and
 * va_hpa() are therefore plain casts in both builds.
 */
#ifndef PV_EPT_TYPES_H
#define PV_EPT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t gpa_t; /* guest-physical address */
typedef uint64_t hpa_t; /* host-physical address */

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define HUGE_2M_SHIFT 21
#define HUGE_2M (1ull << HUGE_2M_SHIFT)
#define HUGE_1G_SHIFT 30
#define HUGE_1G (1ull << HUGE_1G_SHIFT)
#define PAGES_PER_2M (HUGE_2M / PAGE_SIZE)

#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define ALIGN_UP(x, a) (((x) + (uint64_t)(a) - 1) & ~((uint64_t)(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((uint64_t)(a) - 1)) == 0)

/*
 * Access rights / access kinds, used both for what a region or mapping allows
 * and for what a faulting access attempted. Vendor-neutral: the stage-2
 * formats translate them to EPT R/W/X or NPT P/RW/NX bits.
 */
#define ACC_R 0x1u
#define ACC_W 0x2u
#define ACC_X 0x4u
#define ACC_RW (ACC_R | ACC_W)
#define ACC_RX (ACC_R | ACC_X)
#define ACC_RWX (ACC_R | ACC_W | ACC_X)

/*
 * Memory types for stage-2 leaves (values are the architectural PAT/MTRR
 * encodings, which is also what an EPT leaf's memory-type field takes).
 */
enum memtype {
    MT_UC = 0,
    MT_WC = 1,
    MT_WT = 4,
    MT_WP = 5,
    MT_WB = 6,
};

static inline void *hpa_va(hpa_t hpa) { return (void *)(uintptr_t)hpa; }
static inline hpa_t va_hpa(const void *va) { return (hpa_t)(uintptr_t)va; }

/* Error codes returned (negated) by ept/ and swap/ functions. */
enum pv_err {
    PV_OK = 0,
    PV_EINVAL = 1, /* bad argument (unaligned, empty range, ...) */
    PV_EEXIST = 2, /* overlaps something that exists */
    PV_ENOENT = 3, /* nothing there */
    PV_ENOMEM = 4, /* out of frames / descriptors */
    PV_EIO = 5,    /* device error */
    PV_ENOSPC = 6, /* out of swap slots */
    PV_ECORRUPT = 7, /* data failed verification */
};

#endif

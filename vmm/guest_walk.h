/*
 * Guest page-table walker: guest-virtual to guest-physical with the guest's
 * own paging structures, as the CPU would translate them, for fetching the
 * instruction at a faulting RIP (see vmm/insn.h).
 *
 * Supported: paging off (identity), 32-bit paging (4 KiB and, with
 * CR4.PSE, 4 MiB pages with PSE-36 high bits), PAE paging (4 KiB, 2 MiB),
 * 4-level and 5-level (CR4.LA57) long-mode paging (4 KiB, 2 MiB, 1 GiB).
 *
 * Pure apart from read_phys: no global state, nothing written. The walker
 * does not set accessed/dirty bits, does not check access rights (it
 * reports them) and ignores SMEP/SMAP/PKU and protection keys; it does not
 * know MAXPHYADDR, so it keeps address bits 51:12 as the entry holds them.
 */
#ifndef PV_VMM_GUEST_WALK_H
#define PV_VMM_GUEST_WALK_H

#include <stddef.h>
#include <stdint.h>

/* Read len bytes of guest-physical memory at gpa into dst. Returns 0, or a
 * negative PV_E* code that the walker passes back unchanged. */
typedef int (*guest_read_phys_fn)(void *ctx, uint64_t gpa, void *dst, size_t len);

/* Control-register and EFER bits that select the paging mode. */
#define GW_CR0_PG (1ull << 31)
#define GW_CR4_PSE (1ull << 4)
#define GW_CR4_PAE (1ull << 5)
#define GW_CR4_LA57 (1ull << 12)
#define GW_EFER_LMA (1ull << 10)
#define GW_EFER_NXE (1ull << 11)

/* Paging-structure entry bits (32-bit entries use the low 32 bits). */
#define GW_PTE_P (1ull << 0)
#define GW_PTE_RW (1ull << 1)
#define GW_PTE_US (1ull << 2)
#define GW_PTE_PS (1ull << 7)
#define GW_PTE_NX (1ull << 63)
#define GW_PTE_ADDR 0x000FFFFFFFFFF000ull   /* 64-bit / PAE entries */
#define GW_PTE32_ADDR 0xFFFFF000ull         /* 32-bit entries */
#define GW_PDE32_4M_ADDR 0xFFC00000ull      /* 32-bit PDE, PS=1: bits 31:22 */
#define GW_PDE32_4M_HI_SHIFT 13             /* PSE-36: PDE bits 20:13 ... */
#define GW_PDE32_4M_HI_MASK 0xFFull         /* ... are address bits 39:32 */
#define GW_PDPTE_PAE_RSVD 0x1E6ull          /* PAE PDPTE bits 2:1, 8:5 */
#define GW_CR3_PAE_ADDR 0xFFFFFFE0ull       /* PAE PDPT: 32-byte aligned */

/* *flags_out: rights granted by every level, and the page size. */
#define GW_F_WRITE (1u << 0)   /* R/W set at every level */
#define GW_F_USER (1u << 1)    /* U/S set at every level */
#define GW_F_NX (1u << 2)      /* XD set at some level (EFER.NXE=1) */
#define GW_F_2M (1u << 3)      /* a 2 MiB page */
#define GW_F_4M (1u << 4)      /* a 4 MiB page (32-bit paging, PSE) */
#define GW_F_1G (1u << 5)      /* a 1 GiB page */
#define GW_F_NOPAGING (1u << 6) /* CR0.PG=0: gpa == gva */

/*
 * Translate gva. Returns 0 with *gpa_out (and *flags_out if not NULL), or
 *   -PV_ENOENT  a paging-structure entry on the way is not present,
 *   -PV_EINVAL  gva is not canonical (long mode) or above 4 GiB (32-bit
 *               modes), a reserved bit is set (PS at a level that has no
 *               large pages, low bits of a large page's address, XD
 *               without EFER.NXE, PAE PDPTE reserved bits), or the control
 *               registers name no valid mode (EFER.LMA without CR4.PAE),
 *   whatever read_phys returned when it failed.
 */
int guest_walk(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
               uint64_t gva, guest_read_phys_fn read_phys, void *ctx,
               uint64_t *gpa_out, uint32_t *flags_out);

/* One paging-structure entry a walk read, for diagnostics. */
#define GW_LEVELS_MAX 5u
struct gw_step {
    unsigned level;   /* the root is the mode's top level (5, 4, 3 or 2); 1 = PT */
    uint64_t table;   /* guest-physical address of the table */
    unsigned index;   /* the entry's index in it */
    uint64_t entry;   /* the value read (32-bit entries zero-extended) */
};
struct gw_trace {
    unsigned steps;   /* entries read, top level first */
    struct gw_step step[GW_LEVELS_MAX];
};

/*
 * guest_walk, recording in *trace every entry it read, including the one
 * that ended a failed walk (not present, reserved bits). A walk that
 * failed before reading anything, or with paging off, records no step.
 */
int guest_walk_traced(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
                      uint64_t gva, guest_read_phys_fn read_phys, void *ctx,
                      uint64_t *gpa_out, uint32_t *flags_out, struct gw_trace *trace);

/*
 * Read up to len bytes of guest-virtual memory at gva (an instruction at
 * RIP), page by page. Returns the number of bytes read, which is less than
 * len when a later page does not translate or cannot be read, or the
 * negative error of the first page when not even one byte can be read.
 * len must be at most GW_FETCH_MAX.
 */
#define GW_FETCH_MAX 4096u
int guest_fetch(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
                uint64_t gva, guest_read_phys_fn read_phys, void *ctx,
                uint8_t *buf, size_t len);

#endif

/*
 * The vCPU state and guest-memory structures for Linux's 64-bit entry
 * (Documentation/x86/boot.rst, "64-bit boot protocol").
 *
 * In guest memory (addresses in layout.h):
 *   identity page tables for [0, 4 GiB) with 2 MiB pages at GUEST_PT_GPA:
 *       PML4[0] -> PDPT, PDPT[0..3] -> PD0..PD3, PDn[i] -> (n * 1G + i * 2M),
 *       entries present + writable (+ PS for the 2 MiB leaves), cacheable
 *       (the guest's MTRRs/PAT decide; PAT is at its power-on value)
 *   GDT at GUEST_GDT_GPA: null, null, __BOOT_CS (0x10: 64-bit code, DPL 0),
 *       __BOOT_DS (0x18: flat writable data), accessed bits preset so the
 *       CPU never writes the table
 * Registers (struct guest_entry):
 *   rip    kernel load address + 0x200 (startup_64)
 *   rsi    zero page;  rsp  GUEST_STACK_TOP (a page below the zero page;
 *          startup_64 switches to its own stack before it needs much)
 *   rflags 0x2 (IF clear)
 *   cr0    PE | ET | NE | PG (NE: native x87 errors, also a VMX fixed bit;
 *          WP, caching and FPU-emulation bits clear)
 *   cr3    GUEST_PT_GPA;  cr4  PAE;  efer  LME | LMA
 *   cs/ds  0x10 / 0x18, gdt_base/limit as above
 *   pat    0x0007040600070406 (power-on value)
 */
#ifndef PV_GUEST_ENTRY_H
#define PV_GUEST_ENTRY_H

#include "guest/guest.h"

/* Control register and EFER bits the entry state uses. */
#define GUEST_CR0_PE (1ull << 0)
#define GUEST_CR0_ET (1ull << 4)
#define GUEST_CR0_NE (1ull << 5)
#define GUEST_CR0_PG (1ull << 31)
#define GUEST_CR4_PAE (1ull << 5)
#define GUEST_EFER_LME (1ull << 8)
#define GUEST_EFER_LMA (1ull << 10)
#define GUEST_RFLAGS_FIXED (1ull << 1) /* reserved bit 1, always set */
#define GUEST_PAT_POWER_ON 0x0007040600070406ull

/* Page table entry bits. */
#define GUEST_PTE_P (1ull << 0)
#define GUEST_PTE_RW (1ull << 1)
#define GUEST_PTE_PS (1ull << 7)

/* Identity page tables: PML4, one PDPT, GUEST_PT_PDS page directories. */
#define GUEST_PT_PDS 4u
#define GUEST_PT_PAGES (2u + GUEST_PT_PDS)
#define GUEST_PT_ENTRIES 512u
#define GUEST_IDENTITY_LIMIT ((uint64_t)GUEST_PT_PDS << HUGE_1G_SHIFT)

/* Segment descriptor bits (Intel SDM vol. 3, 3.4.5). */
#define GUEST_DESC_LIMIT_LOW 0xffffull         /* limit 15:0 */
#define GUEST_DESC_LIMIT_HIGH (0xfull << 48)   /* limit 19:16 */
#define GUEST_DESC_TYPE_ACCESSED (1ull << 40)
#define GUEST_DESC_TYPE_RW (1ull << 41)        /* code: readable; data: writable */
#define GUEST_DESC_TYPE_CODE (1ull << 43)
#define GUEST_DESC_S (1ull << 44)              /* code/data, not system */
#define GUEST_DESC_P (1ull << 47)
#define GUEST_DESC_L (1ull << 53)              /* 64-bit code */
#define GUEST_DESC_DB (1ull << 54)             /* 32-bit default size */
#define GUEST_DESC_G (1ull << 55)              /* 4 KiB granularity */
#define GUEST_GDT_ENTRIES 4u

/* Entry point of the protected-mode kernel for the 64-bit protocol. */
#define GUEST_ENTRY64_OFFSET 0x200u

/*
 * Writes the page tables and the GDT into guest memory and fills *e for a
 * kernel loaded at kernel_gpa with its zero page at zero_page_gpa. Returns 0
 * or mm_write's error.
 */
int entry_build(struct guest_mm *mm, gpa_t kernel_gpa, gpa_t zero_page_gpa,
                struct guest_entry *e);

#endif

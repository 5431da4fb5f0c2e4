/*
 * Memory types from the MTRRs and the PAT (SDM vol. 3A, "Memory cache
 * control"): pure functions, host unit-tested with recorded MSR values.
 *
 * Why pagevisor cares, especially nested: VMX wants its VMXON region and
 * VMCS in the memory type IA32_VMX_BASIC names (write-back), and a
 * passthrough range must not be mapped cacheable where the host's MTRRs
 * say uncacheable. Under nested KVM the MTRRs pagevisor sees are the ones
 * the outer VM's firmware programmed; a VM booted without firmware (QEMU
 * -kernel) leaves IA32_MTRR_DEF_TYPE at 0, which makes all memory UC as
 * far as the MTRRs go, and a guest's IA32_PAT entry with a reserved
 * encoding makes VM entry fail, so it is checked before it is loaded.
 */
#ifndef PV_VMM_ARCH_MEMTYPE_H
#define PV_VMM_ARCH_MEMTYPE_H

#include <stdbool.h>
#include <stdint.h>

/* Encodings shared by the MTRRs and the PAT (UC- exists only in the PAT). */
#define MTYPE_UC 0x0u
#define MTYPE_WC 0x1u
#define MTYPE_WT 0x4u
#define MTYPE_WP 0x5u
#define MTYPE_WB 0x6u
#define MTYPE_UC_MINUS 0x7u
#define MTYPE_MIXED 0xFEu   /* a range the MTRRs do not cover with one type */

#define MSR_IA32_MTRRCAP 0x0FEu
#define MSR_IA32_MTRR_PHYSBASE0 0x200u   /* PHYSMASKn = PHYSBASEn + 1, n = 0.. */
#define MSR_IA32_MTRR_FIX64K_00000 0x250u
#define MSR_IA32_MTRR_FIX16K_80000 0x258u
#define MSR_IA32_MTRR_FIX16K_A0000 0x259u
#define MSR_IA32_MTRR_FIX4K_C0000 0x268u /* .. 0x26F: C0000 .. FFFFF */
#define MSR_IA32_MTRR_DEF_TYPE 0x2FFu
#define MSR_IA32_PAT_MSR 0x277u

#define MTRRCAP_VCNT 0xFFull
#define MTRRCAP_FIX (1ull << 8)
#define MTRR_DEF_TYPE_MASK 0xFFull
#define MTRR_DEF_FE (1ull << 10)
#define MTRR_DEF_E (1ull << 11)
#define MTRR_PHYS_TYPE_MASK 0xFFull
#define MTRR_PHYS_VALID (1ull << 11)
#define MTRR_PHYS_ADDR_MASK 0x000FFFFFFFFFF000ull
#define MTRR_FIXED_MSRS 11u
#define MTRR_MAX_VAR 16u
#define PAT_ENTRIES 8u
#define PAT_POWER_ON 0x0007040600070406ull /* WB WT UC- UC, twice */

struct mtrr_state {
    uint64_t cap, def_type;
    uint64_t fixed[MTRR_FIXED_MSRS];  /* 64K_00000, 16K_80000, 16K_A0000, 4K_C0000.. */
    uint64_t base[MTRR_MAX_VAR], mask[MTRR_MAX_VAR];
    uint64_t phys_addr_mask;          /* from CPUID 0x80000008 MAXPHYADDR */
};

/* "UC", "WC", "WT", "WP", "WB", "UC-", "mixed", or "reserved". */
const char *memtype_name(unsigned t);

/* Whether every PAT entry holds a defined encoding (a reserved one makes
 * WRMSR #GP and VM entry with "load IA32_PAT" fail). */
bool pat_valid(uint64_t pat);
/* The PAT entry a page-table entry selects with its PAT, PCD and PWT bits. */
unsigned pat_type(uint64_t pat, bool pat_bit, bool pcd, bool pwt);

/* Type of one physical address under the MTRRs (SDM precedence: disabled
 * = UC; fixed ranges below 1 MiB when enabled; overlapping variable ranges:
 * UC wins, WT wins over WB, any other overlap is undefined and reads as UC). */
unsigned mtrr_type(const struct mtrr_state *m, uint64_t addr);
/* The one type covering [base, base + len), or MTYPE_MIXED. */
unsigned mtrr_range_type(const struct mtrr_state *m, uint64_t base, uint64_t len);

/* Effective type of a page from its MTRR type and PAT type (SDM table
 * "Effective page-level memory types"). */
unsigned memtype_effective(unsigned mtrr, unsigned pat);

#endif

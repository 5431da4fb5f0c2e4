/*
 * AMD nested page table entry format (APM vol. 2, "Nested Paging": the
 * nested tables use the long-mode 4-level page-table format).
 *
 * Assumptions stated here because the walker relies on them:
 *  - An entry is not present when P (bit 0) is clear; every other bit of a
 *    not-present entry is then available to software.
 *  - All nested accesses are treated as user accesses, so U/S must be set in
 *    every level, tables included, or every guest access faults.
 *  - PS (bit 7) marks a leaf at levels 2 and 3 (must be 0 at level 4); in a
 *    4 KiB leaf bit 7 is the PAT bit, and in a 2 MiB / 1 GiB leaf bit 12 is.
 *    We never set a PAT bit, so the memory type is selected by PCD/PWT among
 *    the host PAT entries 0..3, assumed to be the power-on values
 *    (0 = WB, 1 = WT, 2 = UC-, 3 = UC). WC and WP have no encoding there and
 *    are mapped to UC (the safe side); memtype() of such a leaf reads MT_UC.
 *  - NX (bit 63) is honoured with the host's EFER.NXE set (the hypervisor
 *    enables it); the hardware sets A (bit 5) and D (bit 6, leaves only)
 *    whenever it uses an entry, so A/D tracking is always available.
 *  - Bits 51:12 hold the address (low address bits of a large leaf zero).
 */
#ifndef PV_EPT_S2PT_NPT_H
#define PV_EPT_S2PT_NPT_H

#include <stdint.h>

#define NPT_P         (1ull << 0)
#define NPT_RW        (1ull << 1)
#define NPT_US        (1ull << 2)
#define NPT_PWT       (1ull << 3)
#define NPT_PCD       (1ull << 4)
#define NPT_A         (1ull << 5)
#define NPT_D         (1ull << 6)
#define NPT_PS        (1ull << 7)
#define NPT_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */
#define NPT_NX        (1ull << 63)

/* Software bits: AVL bits 11:9, and anything in a not-present entry. */
#define NPT_SW_SWAP   (1ull << 9)  /* not present: holds a swap entry */
#define NPT_SW_NOACC  (1ull << 10) /* not present: leaf with all rights revoked */
#define NPT_SWP_OFFSET_SHIFT 12    /* swap offset in bits 51:12 */
#define NPT_SWP_TYPE_SHIFT   52    /* swap type in bits 56:52 */

#endif

/*
 * Intel EPT paging-structure entry format (SDM vol. 3C, "EPT Translation
 * Mechanism" / "Format of an EPT paging-structure entry").
 *
 * Assumptions stated here because the walker relies on them:
 *  - An entry is not present when bits 2:0 are all 0. With mode-based execute
 *    control, bit 10 (user execute) also makes an entry present, so software
 *    never uses bit 10 in a not-present entry. Bit 63 is "suppress #VE" when
 *    EPT-violation #VE is enabled; software never uses it either, which
 *    assumes #VE stays disabled (with it on, an all-zero entry would raise
 *    #VE in the guest instead of an EPT-violation exit).
 *  - Every other bit of a not-present entry is ignored by the processor, so
 *    swap entries and "no access" leaves are free to use them.
 *  - Bits 5:3 (memory type) and 6 (ignore PAT) exist only in leaves; bit 7
 *    marks a leaf at levels 2 and 3 (must be 0 at level 4, ignored at level 1).
 *  - Bits 8 (accessed) and 9 (dirty, leaves only) are written by the
 *    processor only when EPTP bit 6 enables A/D flags.
 *  - Bits 51:12 hold the address; a 2 MiB / 1 GiB leaf keeps the low address
 *    bits (20:12 / 29:12) zero (they are reserved there).
 */
#ifndef PV_EPT_S2PT_EPT_H
#define PV_EPT_S2PT_EPT_H

#include <stdint.h>

#define EPT_R             (1ull << 0)
#define EPT_W             (1ull << 1)
#define EPT_X             (1ull << 2)
#define EPT_RWX           (EPT_R | EPT_W | EPT_X)
#define EPT_MEMTYPE_SHIFT 3
#define EPT_MEMTYPE_MASK  (7ull << EPT_MEMTYPE_SHIFT)
#define EPT_IGNORE_PAT    (1ull << 6)
#define EPT_LARGE         (1ull << 7)
#define EPT_ACCESSED      (1ull << 8)
#define EPT_DIRTY         (1ull << 9)
#define EPT_USER_X        (1ull << 10) /* mode-based execute: never used */
#define EPT_ADDR_MASK     0x000ffffffffff000ull /* bits 51:12 */
#define EPT_SUPPRESS_VE   (1ull << 63)          /* never used */

/* Software bits (ignored by the processor where they are used). */
#define EPT_SW_SWAP       (1ull << 11) /* not present: holds a swap entry */
#define EPT_SW_NOACC      (1ull << 62) /* not present: leaf with all rights revoked */
#define EPT_SWP_OFFSET_SHIFT 12        /* swap offset in bits 51:12 */
#define EPT_SWP_TYPE_SHIFT   52        /* swap type in bits 56:52 */

#endif

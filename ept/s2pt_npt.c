/*
 * AMD NPT entry encoding for the shared stage-2 walker (bits and the
 * assumptions behind them: ept/s2pt_npt.h).
 *
 * P means readable, so NPT cannot express write-only or execute-only: any
 * non-empty rights are widened to include R. U/S is set everywhere because
 * nested accesses are user accesses. Tables get P|RW|US (NX clear) so that
 * the leaf alone decides the rights.
 */
#include "ept/s2pt_npt.h"

#include "ept/s2pt.h"

#define NPT_RIGHTS_BITS (NPT_P | NPT_RW | NPT_US | NPT_NX | NPT_SW_NOACC)
#define NPT_CACHE_BITS (NPT_PCD | NPT_PWT)

static uint64_t npt_make_table(hpa_t table)
{
    return (table & NPT_ADDR_MASK) | NPT_P | NPT_RW | NPT_US;
}

static uint64_t npt_set_rights(uint64_t e, uint32_t rights)
{
    e &= ~NPT_RIGHTS_BITS;
    if ((rights & ACC_RWX) == 0)
        return e | NPT_SW_NOACC;
    e |= NPT_P | NPT_US;
    if (rights & ACC_W)
        e |= NPT_RW;
    if (!(rights & ACC_X))
        e |= NPT_NX;
    return e;
}

static uint64_t npt_cache_bits(enum memtype mt)
{
    switch (mt) {
    case MT_WB:
        return 0;
    case MT_WT:
        return NPT_PWT;
    default: /* UC; WC and WP have no default-PAT encoding: UC is safe */
        return NPT_PCD | NPT_PWT;
    }
}

static uint64_t npt_make_leaf(hpa_t hpa, uint32_t rights, enum memtype mt,
                              int level)
{
    uint64_t e = (hpa & NPT_ADDR_MASK) | npt_cache_bits(mt);
    if (level > 1)
        e |= NPT_PS;
    return npt_set_rights(e, rights);
}

static uint64_t npt_make_swap(swp_entry_t s)
{
    return NPT_SW_SWAP |
           ((swp_offset(s) << NPT_SWP_OFFSET_SHIFT) & NPT_ADDR_MASK) |
           ((uint64_t)swp_type(s) << NPT_SWP_TYPE_SHIFT);
}

static bool npt_is_present(uint64_t e)
{
    return (e & NPT_P) != 0 || (e & NPT_SW_NOACC) != 0;
}

static bool npt_is_leaf(uint64_t e, int level)
{
    if (!npt_is_present(e))
        return false;
    return level == 1 || (level <= 3 && (e & NPT_PS));
}

static bool npt_is_swap(uint64_t e)
{
    return (e & (NPT_P | NPT_SW_NOACC)) == 0 && (e & NPT_SW_SWAP) != 0;
}

static swp_entry_t npt_swap_of(uint64_t e)
{
    return swp_entry((unsigned)(e >> NPT_SWP_TYPE_SHIFT),
                     (e & NPT_ADDR_MASK) >> NPT_SWP_OFFSET_SHIFT);
}

static hpa_t npt_addr(uint64_t e, int level)
{
    /* in a large leaf bit 12 is the PAT bit, not an address bit */
    if (level > 1 && (e & NPT_PS))
        return e & NPT_ADDR_MASK & ~(s2_level_size(level) - 1);
    return e & NPT_ADDR_MASK;
}

static uint32_t npt_rights(uint64_t e)
{
    if (!(e & NPT_P))
        return 0;
    uint32_t r = ACC_R;
    if (e & NPT_RW)
        r |= ACC_W;
    if (!(e & NPT_NX))
        r |= ACC_X;
    return r;
}

static enum memtype npt_memtype(uint64_t e)
{
    switch (e & NPT_CACHE_BITS) {
    case 0:
        return MT_WB;
    case NPT_PWT:
        return MT_WT;
    default: /* PCD alone selects UC- with the default PAT */
        return MT_UC;
    }
}

const struct s2pt_format s2pt_format_npt = {
    .name = "npt",
    .ad_capable = true,
    .make_table = npt_make_table,
    .make_leaf = npt_make_leaf,
    .make_swap = npt_make_swap,
    .is_present = npt_is_present,
    .is_leaf = npt_is_leaf,
    .is_swap = npt_is_swap,
    .swap_of = npt_swap_of,
    .addr = npt_addr,
    .rights = npt_rights,
    .set_rights = npt_set_rights,
    .memtype = npt_memtype,
    .accessed_bit = NPT_A,
    .dirty_bit = NPT_D,
    .present_mask = NPT_P | NPT_SW_NOACC,
    .hw_mask = NPT_P,
    .large_bit = NPT_PS,
    .swap_bit = NPT_SW_SWAP,
    .addr_mask = NPT_ADDR_MASK,
};

/*
 * Intel EPT entry encoding for the shared stage-2 walker (bits and the
 * assumptions behind them: ept/s2pt_ept.h).
 *
 * Leaves carry the memory type in bits 5:3. Ignore-PAT is set for every type
 * but WB: device and firmware ranges must get exactly the type the
 * hypervisor chose, whatever the guest's PAT says; for WB RAM the guest's
 * own PAT choice is respected (it may legitimately map RAM WC/UC).
 * Tables get R|W|X so that the leaf alone decides the rights.
 */
#include "ept/s2pt_ept.h"

#include "ept/s2pt.h"

static uint64_t ept_make_table(hpa_t table)
{
    return (table & EPT_ADDR_MASK) | EPT_RWX;
}

static uint64_t ept_rights_bits(uint32_t rights)
{
    uint64_t e = 0;
    if (rights & ACC_R)
        e |= EPT_R;
    if (rights & ACC_W)
        e |= EPT_W | EPT_R; /* write without read is a misconfiguration */
    if (rights & ACC_X)
        e |= EPT_X;         /* execute-only needs the CPU capability */
    return e;
}

static uint64_t ept_set_rights(uint64_t e, uint32_t rights)
{
    uint64_t bits = ept_rights_bits(rights);
    e &= ~(EPT_RWX | EPT_SW_NOACC);
    return e | (bits ? bits : EPT_SW_NOACC);
}

static uint64_t ept_make_leaf(hpa_t hpa, uint32_t rights, enum memtype mt,
                              int level)
{
    uint64_t e = (hpa & EPT_ADDR_MASK) |
                 (((uint64_t)mt << EPT_MEMTYPE_SHIFT) & EPT_MEMTYPE_MASK);
    if (mt != MT_WB)
        e |= EPT_IGNORE_PAT;
    if (level > 1)
        e |= EPT_LARGE;
    return ept_set_rights(e, rights);
}

static uint64_t ept_make_swap(swp_entry_t s)
{
    return EPT_SW_SWAP |
           ((swp_offset(s) << EPT_SWP_OFFSET_SHIFT) & EPT_ADDR_MASK) |
           ((uint64_t)swp_type(s) << EPT_SWP_TYPE_SHIFT);
}

static bool ept_is_present(uint64_t e)
{
    return (e & EPT_RWX) != 0 || (e & EPT_SW_NOACC) != 0;
}

static bool ept_is_leaf(uint64_t e, int level)
{
    if (!ept_is_present(e))
        return false;
    return level == 1 || (level <= 3 && (e & EPT_LARGE));
}

static bool ept_is_swap(uint64_t e)
{
    return (e & (EPT_RWX | EPT_SW_NOACC)) == 0 && (e & EPT_SW_SWAP) != 0;
}

static swp_entry_t ept_swap_of(uint64_t e)
{
    return swp_entry((unsigned)(e >> EPT_SWP_TYPE_SHIFT),
                     (e & EPT_ADDR_MASK) >> EPT_SWP_OFFSET_SHIFT);
}

static hpa_t ept_addr(uint64_t e, int level)
{
    (void)level; /* large leaves keep their low address bits zero */
    return e & EPT_ADDR_MASK;
}

static uint32_t ept_rights(uint64_t e)
{
    uint32_t r = 0;
    if (e & EPT_R)
        r |= ACC_R;
    if (e & EPT_W)
        r |= ACC_W;
    if (e & EPT_X)
        r |= ACC_X;
    return r;
}

static enum memtype ept_memtype(uint64_t e)
{
    return (enum memtype)((e & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT);
}

const struct s2pt_format s2pt_format_ept = {
    .name = "ept",
    .ad_capable = true,
    .make_table = ept_make_table,
    .make_leaf = ept_make_leaf,
    .make_swap = ept_make_swap,
    .is_present = ept_is_present,
    .is_leaf = ept_is_leaf,
    .is_swap = ept_is_swap,
    .swap_of = ept_swap_of,
    .addr = ept_addr,
    .rights = ept_rights,
    .set_rights = ept_set_rights,
    .memtype = ept_memtype,
    .accessed_bit = EPT_ACCESSED,
    .dirty_bit = EPT_DIRTY,
    .present_mask = EPT_RWX | EPT_SW_NOACC,
    .hw_mask = EPT_RWX,
    .large_bit = EPT_LARGE,
    .swap_bit = EPT_SW_SWAP,
    .addr_mask = EPT_ADDR_MASK,
};

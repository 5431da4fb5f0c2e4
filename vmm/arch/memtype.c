/* MTRR and PAT memory types; see memtype.h. */
#include "vmm/arch/memtype.h"

#define PAT_ENTRY_BITS 8u
#define PAT_ENTRY_MASK 0xFFull
#define ONE_MIB 0x100000ull
#define FIX64K_END 0x80000ull
#define FIX16K_END 0xC0000ull
#define FIX_TYPES_PER_MSR 8u
#define VAR_COUNT(m) ((unsigned)((m)->cap & MTRRCAP_VCNT) < MTRR_MAX_VAR \
                          ? (unsigned)((m)->cap & MTRRCAP_VCNT) : MTRR_MAX_VAR)

const char *memtype_name(unsigned t)
{
    switch (t) {
    case MTYPE_UC: return "UC";
    case MTYPE_WC: return "WC";
    case MTYPE_WT: return "WT";
    case MTYPE_WP: return "WP";
    case MTYPE_WB: return "WB";
    case MTYPE_UC_MINUS: return "UC-";
    case MTYPE_MIXED: return "mixed";
    default: return "reserved";
    }
}

static bool pat_encoding(unsigned t)
{
    return t == MTYPE_UC || t == MTYPE_WC || t == MTYPE_WT || t == MTYPE_WP || t == MTYPE_WB ||
           t == MTYPE_UC_MINUS;
}

bool pat_valid(uint64_t pat)
{
    for (unsigned i = 0; i < PAT_ENTRIES; i++)
        if (!pat_encoding((unsigned)((pat >> (i * PAT_ENTRY_BITS)) & PAT_ENTRY_MASK)))
            return false;
    return true;
}

unsigned pat_type(uint64_t pat, bool pat_bit, bool pcd, bool pwt)
{
    unsigned idx = (pat_bit ? 4u : 0u) | (pcd ? 2u : 0u) | (pwt ? 1u : 0u);
    return (unsigned)((pat >> (idx * PAT_ENTRY_BITS)) & PAT_ENTRY_MASK);
}

/* Below 1 MiB: 8 types per fixed MSR, 64 KiB / 16 KiB / 4 KiB each. */
static unsigned fixed_type(const struct mtrr_state *m, uint64_t addr)
{
    unsigned msr, sub;
    if (addr < FIX64K_END) {
        msr = 0, sub = (unsigned)(addr >> 16);
    } else if (addr < FIX16K_END) {
        uint64_t off = addr - FIX64K_END;
        msr = 1 + (unsigned)(off >> 17), sub = (unsigned)((off >> 14) & 7);
    } else {
        uint64_t off = addr - FIX16K_END;
        msr = 3 + (unsigned)(off >> 15), sub = (unsigned)((off >> 12) & 7);
    }
    return (unsigned)((m->fixed[msr] >> (sub * PAT_ENTRY_BITS)) & PAT_ENTRY_MASK);
}

unsigned mtrr_type(const struct mtrr_state *m, uint64_t addr)
{
    if (!(m->def_type & MTRR_DEF_E))
        return MTYPE_UC;
    if (addr < ONE_MIB && (m->def_type & MTRR_DEF_FE) && (m->cap & MTRRCAP_FIX))
        return fixed_type(m, addr);
    bool any = false, uc = false, wt = false, wb = false, other = false, rest = false;
    unsigned first = MTYPE_UC;
    uint64_t amask = m->phys_addr_mask & MTRR_PHYS_ADDR_MASK;
    for (unsigned i = 0; i < VAR_COUNT(m); i++) {
        if (!(m->mask[i] & MTRR_PHYS_VALID))
            continue;
        uint64_t mask = m->mask[i] & amask;
        if ((addr & mask) != (m->base[i] & mask))
            continue;
        unsigned t = (unsigned)(m->base[i] & MTRR_PHYS_TYPE_MASK);
        if (!any)
            first = t;
        any = true;
        uc |= t == MTYPE_UC, wt |= t == MTYPE_WT, wb |= t == MTYPE_WB;
        rest |= t != MTYPE_UC && t != MTYPE_WT && t != MTYPE_WB;
        other |= t != first;
    }
    if (!any)
        return (unsigned)(m->def_type & MTRR_DEF_TYPE_MASK);
    if (!other)
        return first;
    if (uc)
        return MTYPE_UC;
    if (wt && wb && !rest)
        return MTYPE_WT;
    return MTYPE_UC; /* undefined overlap: be safe */
}

/* The next address after addr where the MTRR type may change: a fixed
 * range's end below 1 MiB, else the next 4 KiB boundary where a variable
 * range starts or ends (contiguous masks, as firmware writes them). */
static uint64_t next_boundary(const struct mtrr_state *m, uint64_t addr, uint64_t end)
{
    if (addr < ONE_MIB && (m->def_type & MTRR_DEF_FE) && (m->cap & MTRRCAP_FIX)) {
        uint64_t step = addr < FIX64K_END ? 0x10000 : addr < FIX16K_END ? 0x4000 : 0x1000;
        return (addr & ~(step - 1)) + step;
    }
    uint64_t next = end, amask = m->phys_addr_mask & MTRR_PHYS_ADDR_MASK;
    for (unsigned i = 0; i < VAR_COUNT(m); i++) {
        if (!(m->mask[i] & MTRR_PHYS_VALID))
            continue;
        uint64_t mask = m->mask[i] & amask;
        uint64_t lo = m->base[i] & mask, hi = lo + ((~mask & amask) | 0xFFF) + 1;
        if (lo > addr && lo < next)
            next = lo;
        if (hi > addr && hi < next)
            next = hi;
    }
    if (addr < ONE_MIB && next > ONE_MIB)
        next = ONE_MIB;
    return next;
}

unsigned mtrr_range_type(const struct mtrr_state *m, uint64_t base, uint64_t len)
{
    if (len == 0)
        return MTYPE_MIXED;
    uint64_t end = base + len < base ? UINT64_MAX : base + len;
    unsigned t = mtrr_type(m, base);
    if (!(m->def_type & MTRR_DEF_E))
        return t;
    for (uint64_t a = next_boundary(m, base, end); a < end; a = next_boundary(m, a, end))
        if (mtrr_type(m, a) != t)
            return MTYPE_MIXED;
    return t;
}

unsigned memtype_effective(unsigned mtrr, unsigned pat)
{
    if (pat == MTYPE_UC)
        return MTYPE_UC;
    if (pat == MTYPE_WC)
        return MTYPE_WC;
    switch (mtrr) {
    case MTYPE_UC:
        return MTYPE_UC;
    case MTYPE_WC:
        return pat == MTYPE_UC_MINUS || pat == MTYPE_WB ? MTYPE_WC : MTYPE_UC;
    case MTYPE_WT:
        return pat == MTYPE_WT || pat == MTYPE_WB ? MTYPE_WT
             : pat == MTYPE_WP ? MTYPE_WP : MTYPE_UC;
    case MTYPE_WP:
        return pat == MTYPE_UC_MINUS ? MTYPE_WC
             : pat == MTYPE_WB || pat == MTYPE_WP ? MTYPE_WP : MTYPE_UC;
    case MTYPE_WB:
        return pat == MTYPE_UC_MINUS ? MTYPE_UC : pat;
    default:
        return MTYPE_UC;
    }
}

/*
 * Stage-2 (second-level) page tables: one walker/builder, two formats.
 *
 * Intel EPT and AMD NPT differ only in how an entry is encoded, so the
 * walker here is shared and each format supplies struct s2pt_format (see
 * ept/s2pt_ept.c and ept/s2pt_npt.c). Both are 4-level tables of 512 64-bit
 * entries covering 48 guest-physical address bits; leaves can be 4 KiB
 * (level 1), 2 MiB (level 2) or 1 GiB (level 3).
 *
 * Entries are built with masks and named constants only (see the format
 * files), never bitfield structs.
 *
 * Non-present leaves can hold a swap entry: bits the hardware ignores in a
 * not-present entry (EPT: R=W=X=0; NPT: P=0) encode a swap type and slot,
 * the way Linux keeps swap entries in non-present PTEs.
 *
 * Table pages come from the frame pool (FRAME_TABLE, zeroed) and go back to
 * it when they become empty (after unmap / set_swap leave no entry in them,
 * a swap entry counts as an entry).
 *
 * Invalidation: every change that removes or reduces what a present entry
 * allowed (unmap, protect to fewer rights, present -> swap, replacing a leaf,
 * clearing an accessed/dirty bit) calls the invalidation hook with the
 * narrowest scope that is correct; making a non-present entry present needs
 * none. The hook is where the vendor code does INVEPT / sets the VMCB TLB
 * control; on the host it is a test's counter.
 */
#ifndef PV_EPT_S2PT_H
#define PV_EPT_S2PT_H

#include "ept/frame.h"
#include "vmm/lib/types.h"

/* ---- swap entries (vendor-neutral value; formats encode it) ---- */
typedef uint64_t swp_entry_t;
#define SWP_TYPE_BITS 5
#define SWP_OFFSET_BITS 40
#define SWP_OFFSET_MASK ((1ull << SWP_OFFSET_BITS) - 1)
#define SWP_TYPE_MASK ((1ull << SWP_TYPE_BITS) - 1)
static inline swp_entry_t swp_entry(unsigned type, uint64_t offset)
{
    return ((uint64_t)(type & SWP_TYPE_MASK) << SWP_OFFSET_BITS) |
           (offset & SWP_OFFSET_MASK);
}
static inline unsigned swp_type(swp_entry_t e)
{
    return (unsigned)((e >> SWP_OFFSET_BITS) & SWP_TYPE_MASK);
}
static inline uint64_t swp_offset(swp_entry_t e) { return e & SWP_OFFSET_MASK; }

/* ---- format operations ---- */
#define S2_LEVELS 4           /* level 4 = root (PML4), level 1 = 4 KiB PT */
#define S2_ENTRIES 512        /* entries per table page */
#define S2_INDEX_BITS 9
#define S2_GPA_BITS 48        /* guest-physical bits a 4-level table covers */

/* Bytes one entry at level covers (level 1: 4 KiB ... level 4: 512 GiB). */
static inline uint64_t s2_level_size(int level)
{
    return 1ull << (PAGE_SHIFT + S2_INDEX_BITS * (level - 1));
}

/*
 * A leaf may have rights 0 ("no access"): protect(..., 0) revokes every
 * right but keeps the translation, so the next access faults and the
 * handler finds it (ageing without A/D bits, like Linux's PROT_NONE / NUMA
 * hinting entries). The hardware sees such an entry as not present; the
 * format marks it with a software bit. For the ops below, is_present() means
 * "table or leaf (rights 0 included)", never a swap entry or an empty one;
 * rights() is 0 exactly when the hardware would not use the entry.
 */

struct s2pt_format {
    const char *name;         /* "ept" or "npt" */
    bool ad_capable;          /* format defines accessed/dirty bits */
    uint64_t (*make_table)(hpa_t table);
    uint64_t (*make_leaf)(hpa_t hpa, uint32_t rights, enum memtype mt, int level);
    uint64_t (*make_swap)(swp_entry_t e);
    bool (*is_present)(uint64_t e);
    bool (*is_leaf)(uint64_t e, int level);      /* present leaf at level */
    bool (*is_swap)(uint64_t e);
    swp_entry_t (*swap_of)(uint64_t e);
    hpa_t (*addr)(uint64_t e, int level);        /* table or leaf base */
    uint32_t (*rights)(uint64_t e);              /* ACC_* of a present entry */
    uint64_t (*set_rights)(uint64_t e, uint32_t rights);
    enum memtype (*memtype)(uint64_t e);
    uint64_t accessed_bit, dirty_bit;            /* 0 when not ad_capable */
    /*
     * The same predicates as masks, for the walker's hot paths (no indirect
     * call per level); they must agree with the ops above:
     *   is_present(e)  == (e & present_mask) != 0
     *   rights(e) != 0 == (e & hw_mask) != 0 (the hardware may use e)
     *   is_leaf(e, l)  == is_present(e) && (l == 1 || (l <= 3 && (e & large_bit)))
     *   is_swap(e)     == !is_present(e) && (e & swap_bit) != 0
     *   addr(e, l)     == e & addr_mask & ~(s2_level_size(l) - 1) for a leaf,
     *                     e & addr_mask for a table
     */
    uint64_t present_mask, hw_mask, large_bit, swap_bit, addr_mask;
};

extern const struct s2pt_format s2pt_format_ept;
extern const struct s2pt_format s2pt_format_npt;

struct s2pt;
enum s2_inv_scope {
    S2_INV_RANGE,  /* [gpa, gpa + size) */
    S2_INV_ALL,    /* every translation of this table (single context) */
};
typedef void (*s2pt_invalidate_fn)(struct s2pt *pt, enum s2_inv_scope scope,
                                   gpa_t gpa, uint64_t size, void *ctx);

struct s2pt {
    const struct s2pt_format *fmt;
    struct frame_pool *fp;
    hpa_t root;               /* level-4 table */
    bool use_ad;              /* accessed/dirty tracking enabled */
    s2pt_invalidate_fn invalidate;
    void *inv_ctx;
    uint64_t tables;          /* table pages in use, root included */
    uint64_t invalidations;   /* hook calls */
    uint64_t shape;           /* bumped whenever a table page is added or
                                 freed (see struct s2_slot) */
};

enum s2_state { S2_NONE = 0, S2_PRESENT, S2_SWAP };

struct s2_info {
    enum s2_state state;
    int level;                /* level of the leaf / swap entry / empty slot */
    uint64_t size;            /* bytes the leaf covers (present) */
    hpa_t leaf_hpa;           /* base of the leaf (present) */
    hpa_t hpa;                /* hpa of the 4 KiB page holding gpa (present) */
    uint32_t rights;          /* ACC_* (present) */
    enum memtype memtype;
    bool accessed, dirty;
    swp_entry_t swap;         /* (swap) */
    uint64_t raw;             /* the raw entry */
};

/* Build an empty table (allocates the root). use_ad requests A/D tracking
 * and is ignored (false) for formats without it. */
int s2pt_init(struct s2pt *pt, const struct s2pt_format *fmt,
              struct frame_pool *fp, bool use_ad,
              s2pt_invalidate_fn inv, void *inv_ctx);
/* Free every table page including the root. Leaf frames are not touched:
 * their owner (mm) puts them. */
void s2pt_destroy(struct s2pt *pt);

/*
 * Map [gpa, gpa+size) -> hpa as one leaf; size is PAGE_SIZE, HUGE_2M or
 * HUGE_1G and gpa, hpa are aligned to it. Whatever leaf or swap entry was at
 * gpa is replaced (a larger leaf around it is split first, keeping the other
 * pages mapped as they were). A large leaf over a table that still has
 * entries fails with -PV_EEXIST; an empty table there is freed. Returns
 * -PV_ENOMEM when a table page cannot be allocated (nothing changed).
 */
int s2pt_map(struct s2pt *pt, gpa_t gpa, hpa_t hpa, uint64_t size,
             uint32_t rights, enum memtype mt);
/* Remove leaves and swap entries in [gpa, gpa+size) (page aligned), splitting
 * large leaves that straddle the edges; frees tables that become empty. */
int s2pt_unmap(struct s2pt *pt, gpa_t gpa, uint64_t size);
/* Set the rights of present leaves in [gpa, gpa+size), splitting large
 * leaves that straddle the edges. */
int s2pt_protect(struct s2pt *pt, gpa_t gpa, uint64_t size, uint32_t rights);
/* Split the large leaf containing gpa down to leaves of to_size. */
int s2pt_split(struct s2pt *pt, gpa_t gpa, uint64_t to_size);
/* Replace the 4 KiB leaf (or empty slot) at gpa with a swap entry. */
int s2pt_set_swap(struct s2pt *pt, gpa_t gpa, swp_entry_t e);

/* What maps gpa. Always returns 0 and fills *out (state S2_NONE if
 * nothing). */
int s2pt_lookup(const struct s2pt *pt, gpa_t gpa, struct s2_info *out);

/*
 * Fault-path fast path: one walk per fault. s2pt_lookup_slot() is
 * s2pt_lookup() that also remembers where the deciding entry lives;
 * s2pt_install_at() then maps a 4 KiB leaf at gpa exactly as
 * s2pt_map(pt, gpa, hpa, PAGE_SIZE, rights, mt) would (same result, same
 * invalidations, same errors), writing straight into the remembered level-1
 * slot when it can. The slot is a hint, never trusted blindly: when the
 * table gained or lost a table page since the lookup (pt->shape moved), the
 * gpa differs, or the slot is not at level 1 (a table or a large-leaf split
 * is needed), install_at takes the s2pt_map path. Between lookup and
 * install other entries may change freely.
 */
struct s2_slot {
    hpa_t table;              /* table holding the entry */
    unsigned idx;             /* its index there */
    int level;                /* its level (== s2_info.level) */
    gpa_t page;               /* gpa & PAGE_MASK looked up */
    uint64_t shape;           /* pt->shape at the lookup */
};
int s2pt_lookup_slot(const struct s2pt *pt, gpa_t gpa, struct s2_info *out,
                     struct s2_slot *slot);
int s2pt_install_at(struct s2pt *pt, const struct s2_slot *slot, gpa_t gpa,
                    hpa_t hpa, uint32_t rights, enum memtype mt);

/* Accessed/dirty: test-and-clear on the leaf mapping gpa. False when the
 * leaf is absent, the bit is clear, or A/D tracking is off. */
bool s2pt_test_and_clear_accessed(struct s2pt *pt, gpa_t gpa);
bool s2pt_test_and_clear_dirty(struct s2pt *pt, gpa_t gpa);

/* Set the dirty bit of the leaf mapping gpa, as the hardware does on a
 * write through it: for the hypervisor's own writes to guest memory, which
 * bypass stage-2. The accessed bit is left alone: a hypervisor access is
 * not the guest's use of the page (reclaim's LRU). No invalidation: a leaf
 * only gains a bit. A no-op when the leaf is absent or A/D tracking is
 * off. */
void s2pt_set_dirty(struct s2pt *pt, gpa_t gpa);

/* Call the invalidation hook (and count it). */
void s2pt_invalidate(struct s2pt *pt, enum s2_inv_scope scope, gpa_t gpa,
                     uint64_t size);

/* Render the walk for gpa, one line per level, through emit(). */
void s2pt_walk_render(const struct s2pt *pt, gpa_t gpa,
                      void (*emit)(void *ctx, const char *line), void *ctx);

/* Consistency check for tests: every table reachable from the root is a
 * FRAME_TABLE pool frame, counts match pt->tables, no empty non-root table. */
bool s2pt_check(const struct s2pt *pt);

#endif

/*
 * Internal helpers shared by the guest_mm files (mm.c, fault.c,
 * mm_access.c). Not an interface for other modules.
 */
#ifndef PV_EPT_MM_INTERNAL_H
#define PV_EPT_MM_INTERNAL_H

#include "ept/mm.h"

/* Guest-physical address space the stage-2 table covers. */
#define MM_GPA_LIMIT (1ull << S2_GPA_BITS)

/* Memory type of guest RAM and staged images. */
#define MM_RAM_MEMTYPE MT_WB

/*
 * Walk callback: base is the start of the leaf / swap entry (it may lie
 * below the walk's lo for a large leaf). Return 0 to go on past the entry,
 * MM_WALK_AGAIN to look the same address up again (the callback changed the
 * table there, e.g. split a leaf), or a negative error to stop the walk.
 */
#define MM_WALK_AGAIN 1
typedef int (*mm_walk_fn)(void *ctx, gpa_t base, const struct s2_info *e);

/* Visit every present leaf and swap entry intersecting [lo, hi), in address
 * order, skipping empty tables whole. */
int mm_walk(const struct guest_mm *mm, gpa_t lo, gpa_t hi, mm_walk_fn fn,
            void *ctx);

/* The pool frame a present leaf holds a reference on, or NULL (zero frame,
 * staged image, passthrough range). */
struct frame *mm_leaf_frame(const struct guest_mm *mm, const struct s2_info *e);

/* Whether a first touch of gpa in r gives it a fresh zeroed frame: every
 * page of an anon region, and the pages of a file-private region wholly
 * past its image (ept/fault.c, fault_file: the image's bss, e.g. the
 * room a kernel decompresses itself into and later frees as RAM). A page
 * holding image bytes, the partial last one included, is never one: it is
 * the image's or a zero-filled copy of its tail. For these pages an empty
 * stage-2 entry reads as zero. */
static inline bool mm_anon_like(const struct region *r, gpa_t gpa)
{
    if (r->kind == REGION_ANON)
        return true;
    return r->kind == REGION_FILE_PRIVATE &&
           r->backing.image.offset + (gpa - r->start) >= r->backing.image.size;
}

/*
 * Execute on a leaf that maps pool frame f (guest_mm.learn_exec): kept
 * only for a frame known to hold code. rights & mm_exec_mask(mm, f) is
 * what a new or widened leaf of f gets; a fetch marks f first. Invariant
 * (mm_check): with learn_exec, a 4 KiB leaf maps a pool frame with
 * execute only if the frame is FRAME_EXEC.
 */
static inline uint32_t mm_exec_mask(const struct guest_mm *mm, const struct frame *f)
{
    return (!mm->learn_exec || (f->flags & FRAME_EXEC)) ? ~0u : ~(uint32_t)ACC_X;
}

/*
 * The rights of a leaf that maps swap-cache frame f in place of swap entry
 * e in region r (the fault path's swap resolution, mm_map_swapped). Read-
 * only (region rights minus W), as Linux maps a swap-cache page that is
 * not exclusive, unless the region is writable, f maps nowhere yet and
 * swap/ says e is its slot's only user (the exclusive hook); then
 * writable:
 *   - with stage-2 A/D tracking, for a read as for a write: the leaf starts
 *     with its dirty bit clear and the hardware sets it on the first
 *     write, which is how reclaim tells a page still equal to its slot
 *     copy (dropped without I/O) from one written since (swap/reclaim.c);
 *     no write costs a fault;
 *   - without it, only for a write fault, whose caller then releases the
 *     slot copy at once (write_cached): nothing else could tell it went
 *     stale.
 * Read-only leaves take the cow path on a write, as before. Execute as
 * mm_exec_mask says.
 */
uint32_t mm_swapped_rights(struct guest_mm *mm, const struct region *r,
                           const struct frame *f, swp_entry_t e, bool write_fault);

#endif

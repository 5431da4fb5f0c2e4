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

#endif

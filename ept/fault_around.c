/*
 * Fault-around for first touches of anonymous memory (Linux's
 * fault-around, applied to anon-new): a write fault that gives an
 * untouched anon page its frame also gives one, zeroed and writable, to
 * every other untouched page of the aligned block of mm->fault_around
 * pages around it that lies in the same region. "Anon" includes the part
 * of a file-private region past its image (anon_like below). Without
 * overcommit it is the fallback where a 2 MiB leaf does not apply (a
 * block already split, a file-private region). A guest filling fresh
 * memory (its page allocator hands out neighbouring pages) then takes one
 * exit per block instead of one per page.
 *
 * Only pages whose stage-2 entry is empty qualify: never a swap entry, a
 * zero-frame mapping or a present leaf. Frames come from the pool like
 * any fault's, and only as many as the pool holds above mm->reclaim_low
 * (less one for the fault itself; the block's first empty pages first), so
 * fault-around never pushes the pool into direct reclaim and the frame
 * budget stays what it is. A page mapped this way that the guest
 * never uses stays all zero: reclaim gives it back without I/O, and it
 * is untouched again (mm_unmap_frame's MM_UNMAP_ZERO). Each one is counted in stats.around (not a resolution: no
 * fault took place for it) and put on the LRU like any new frame.
 *
 * mm_file_around does the same for reads of a file-private region's image
 * (the kernel, the initrd): a read fault mapped straight from the staged
 * image also maps the other whole image pages of its block, read-only
 * from the image, exactly as their own read faults would (fault_file's
 * file-map): no frame, no reference, a write still copies. Counted in
 * stats.around_file.
 *
 * mm_cow_around is the write side of the same: when the guest writes its
 * way up through image pages (its page allocator reusing the memory the
 * kernel or the initrd was loaded into, once they are done with it), each
 * write would copy one page in one exit. A write one page above the last
 * one copied continues that walk, and the block's pages above it that are
 * still mapped straight from the image get their private copies at once,
 * writable, as their own write faults would have given them (fault_cow's
 * cow-copy): the same bytes, so the guest cannot tell, and the same frame
 * budget as mm_fault_around. Counted in stats.around_cow.
 *
 * Runs in the fault resolution before the faulting page is installed
 * (so that the faulting frame is the last one added: reclaim spares the
 * most recent). It writes only empty entries of other pages, which the
 * fault's remembered slot for its own page survives (s2pt_install_at
 * re-walks when a table page was added).
 */
#include "ept/mm.h"

#include "ept/mm_internal.h"

#include <string.h>

/* Map f, a new frame, at gpa with the region's rights, as a write fault
 * there would: in the rmap, dirty, on the LRU. On failure f is put. */
static int install_around(struct guest_mm *mm, const struct region *r, gpa_t gpa,
                          struct frame *f)
{
    int rc = frame_rmap_add(mm->fp, f, gpa);
    if (rc == 0) {
        rc = s2pt_map(&mm->s2, gpa, frame_hpa(mm->fp, f), PAGE_SIZE,
                      r->rights & mm_exec_mask(mm, f),
                      MM_RAM_MEMTYPE);
        if (rc < 0)
            frame_rmap_del(mm->fp, f, gpa);
    }
    if (rc < 0) {
        frame_put(mm->fp, f);
        return rc;
    }
    f->flags |= FRAME_DIRTY;
    if (mm->swap_hooks)
        mm->swap_hooks->frame_added(mm, f, gpa, mm->swap_ctx);
    return 0;
}

/* Map one more zeroed frame at gpa if its entry is empty. */
static int around_one(struct guest_mm *mm, const struct region *r, gpa_t gpa)
{
    struct s2_info e;
    s2pt_lookup(&mm->s2, gpa, &e);
    if (e.state != S2_NONE)
        return 0;
    struct frame *f = frame_alloc_zeroed(mm->fp, FRAME_GUEST);
    if (!f)
        return -PV_ENOMEM;
    int rc = install_around(mm, r, gpa, f);
    if (rc < 0)
        return rc;
    mm->stats.around++;
    return 1;
}

/* The n-page aligned block around page (n a power of two), clipped to r. */
static void around_window(const struct region *r, gpa_t page, size_t n, gpa_t *lo, gpa_t *hi)
{
    *lo = ALIGN_DOWN(page, (gpa_t)n * PAGE_SIZE);
    *hi = *lo + (gpa_t)n * PAGE_SIZE;
    if (*lo < r->start)
        *lo = r->start;
    if (*hi > r->end)
        *hi = r->end;
}

/* Whether the fault-around block is on (a power of two >= 2). */
static bool around_on(const struct guest_mm *mm)
{
    size_t n = mm->fault_around;
    return n >= 2 && (n & (n - 1)) == 0;
}

/* Frames above the low mark, less one for the fault itself: all a block
 * may take, so fault-around never pushes the pool under low. */
static size_t around_budget(const struct guest_mm *mm)
{
    size_t free = frame_free_count(mm->fp);
    return free > mm->reclaim_low + 1 ? free - mm->reclaim_low - 1 : 0;
}

size_t mm_fault_around(struct guest_mm *mm, const struct region *r, gpa_t page)
{
    size_t done = 0;

    if (!around_on(mm) || !mm_anon_like(r, page))
        return 0;
    size_t budget = around_budget(mm);
    gpa_t lo, hi;
    around_window(r, page, mm->fault_around, &lo, &hi);
    for (gpa_t g = lo; g < hi && done < budget; g += PAGE_SIZE) {
        if (g == page || !mm_anon_like(r, g))
            continue;
        int rc = around_one(mm, r, g);
        if (rc < 0)
            break; /* out of frames or table pages: the fault itself goes on */
        done += (size_t)rc;
    }
    return done;
}

/* Whether the page at gpa of a file-private region holds a whole page of
 * its image (what a read maps straight from the staged image). */
static bool whole_image_page(const struct region *r, gpa_t gpa)
{
    uint64_t off = r->backing.image.offset + (gpa - r->start);
    return r->kind == REGION_FILE_PRIVATE && off < r->backing.image.size &&
           r->backing.image.size - off >= PAGE_SIZE;
}

/* Where the image bytes behind gpa's page lie (gpa in a file-private region). */
static hpa_t image_hpa(const struct region *r, gpa_t gpa)
{
    return r->backing.image.data + r->backing.image.offset + (gpa - r->start);
}

size_t mm_file_around(struct guest_mm *mm, const struct region *r, gpa_t page)
{
    size_t done = 0;

    if (!around_on(mm) || !whole_image_page(r, page))
        return 0;
    gpa_t lo, hi;
    around_window(r, page, mm->fault_around, &lo, &hi);
    for (gpa_t g = lo; g < hi; g += PAGE_SIZE) {
        if (g == page || !whole_image_page(r, g))
            continue;
        struct s2_info e;
        s2pt_lookup(&mm->s2, g, &e);
        if (e.state != S2_NONE)
            continue;
        if (s2pt_map(&mm->s2, g, image_hpa(r, g), PAGE_SIZE, r->rights & ~ACC_W, MM_RAM_MEMTYPE) < 0)
            break; /* no table page: the fault itself goes on */
        mm->stats.around_file++;
        done++;
    }
    return done;
}

/* The image bytes behind gpa's page when it is mapped straight from them,
 * read-only (what file-map installed), else 0. */
static hpa_t image_leaf(const struct guest_mm *mm, const struct region *r, gpa_t gpa)
{
    if (!whole_image_page(r, gpa))
        return 0;
    hpa_t hpa = image_hpa(r, gpa);
    struct s2_info e;
    s2pt_lookup(&mm->s2, gpa, &e);
    if (e.state != S2_PRESENT || e.size != PAGE_SIZE || (e.rights & ACC_W) ||
        e.leaf_hpa != hpa)
        return 0;
    return hpa;
}

/* Give gpa a private writable copy of src (an image page). */
static int cow_one(struct guest_mm *mm, const struct region *r, gpa_t gpa, hpa_t src)
{
    frame_prefetch(hpa_va(src), PAGE_SIZE);
    struct frame *f = frame_alloc(mm->fp, FRAME_GUEST);
    if (!f)
        return -PV_ENOMEM;
    memcpy(frame_va(mm->fp, f), hpa_va(src), PAGE_SIZE);
    int rc = install_around(mm, r, gpa, f);
    if (rc < 0)
        return rc;
    mm->stats.around_cow++;
    return 0;
}

size_t mm_cow_around(struct guest_mm *mm, const struct region *r, gpa_t page)
{
    size_t done = 0;
    bool walk = mm->cow_next != 0 && page == mm->cow_next;

    mm->cow_next = page + PAGE_SIZE;
    if (!walk || !around_on(mm) || r->kind != REGION_FILE_PRIVATE)
        return 0;
    size_t budget = around_budget(mm);
    gpa_t lo, hi;
    around_window(r, page, mm->fault_around, &lo, &hi);
    for (gpa_t g = page + PAGE_SIZE; g < hi && done < budget; g += PAGE_SIZE) {
        hpa_t src = image_leaf(mm, r, g);
        if (!src)
            break; /* the walk's run of image pages ends here */
        if (cow_one(mm, r, g, src) < 0)
            break; /* out of frames or table pages: the fault itself goes on */
        done++;
        mm->cow_next = g + PAGE_SIZE;
    }
    return done;
}

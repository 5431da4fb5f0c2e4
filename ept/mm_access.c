/*
 * Hypervisor-side access to guest memory (mm_read / mm_write) and the
 * same-page merging primitive (mm_merge_pages).
 */
#include "ept/mm.h"

#include "ept/mm_internal.h"
#include "vmm/lib/log.h"

#include <string.h>

/*
 * Faults one page may take before the access is given up: a read of an
 * untouched page maps it at once, a write may take two (zero-map was
 * already there, then cow), a spurious fault one more. More than this means
 * the table does not converge, which is a bug, reported as -PV_EIO.
 */
#define MM_ACCESS_MAX_FAULTS 4

static int outcome_err(const struct fault_outcome *o)
{
    switch (o->kind) {
    case FAULT_MAPPED:
    case FAULT_RETRY:
        return 0;
    case FAULT_OPEN_BUS:
        return -PV_ENOENT;
    case FAULT_DENIED:
    case FAULT_MMIO:
        return -PV_EINVAL;
    case FAULT_OOM:
        return -PV_ENOMEM;
    default:
        return -PV_EIO;
    }
}

/* Fault the page holding gpa in for access; on success *e maps it. A write
 * sets the leaf's dirty bit as the guest's own write would: the caller's
 * bytes bypass stage-2, and a swapped-in page mapped writable but clean
 * would otherwise look unchanged to reclaim (mm_swapped_rights). */
static int fault_in(struct guest_mm *mm, gpa_t gpa, uint32_t access,
                    struct s2_info *e)
{
    for (int tries = 0;; tries++) {
        s2pt_lookup(&mm->s2, gpa, e);
        if (e->state == S2_PRESENT && (e->rights & access) == access) {
            if (access & ACC_W)
                s2pt_set_dirty(&mm->s2, gpa);
            return 0;
        }
        if (tries == MM_ACCESS_MAX_FAULTS) {
            pv_err("mm: gpa 0x%llx still not accessible after %d faults",
                   (unsigned long long)gpa, tries);
            return -PV_EIO;
        }
        struct gpa_fault f = {
            .gpa = gpa,
            .access = access,
            .entry_rights = e->state == S2_PRESENT ? e->rights : 0,
        };
        struct fault_outcome o;
        mm_handle_fault(mm, &f, &o);
        int rc = outcome_err(&o);
        if (rc < 0)
            return rc;
    }
}

static int mm_copy(struct guest_mm *mm, gpa_t gpa, uint8_t *buf, size_t len,
                   bool write)
{
    while (len) {
        uint64_t off = gpa & (PAGE_SIZE - 1);
        size_t chunk = PAGE_SIZE - off < len ? (size_t)(PAGE_SIZE - off) : len;
        struct s2_info e;
        int rc = fault_in(mm, gpa, write ? ACC_W : ACC_R, &e);
        if (rc < 0)
            return rc;
        uint8_t *p = (uint8_t *)hpa_va(e.hpa) + off;
        if (write)
            memcpy(p, buf, chunk);
        else
            memcpy(buf, p, chunk);
        gpa += chunk;
        buf += chunk;
        len -= chunk;
    }
    return 0;
}

int mm_write(struct guest_mm *mm, gpa_t gpa, const void *src, size_t len)
{
    /* mm_copy only reads buf when writing; the cast keeps one copy loop. */
    return mm_copy(mm, gpa, (uint8_t *)(uintptr_t)src, len, true);
}

int mm_read(struct guest_mm *mm, gpa_t gpa, void *dst, size_t len)
{
    return mm_copy(mm, gpa, dst, len, false);
}

/* A present 4 KiB anon leaf of a pool frame (not the zero frame, not part
 * of a 2 MiB block): the only pages merging handles. */
static struct frame *mergeable(struct guest_mm *mm, gpa_t page,
                               struct s2_info *e, const struct region **r)
{
    *r = region_lookup(&mm->regions, page);
    if (!*r || (*r)->kind != REGION_ANON)
        return NULL;
    s2pt_lookup(&mm->s2, page, e);
    if (e->state != S2_PRESENT || e->size != PAGE_SIZE)
        return NULL;
    struct frame *f = mm_leaf_frame(mm, e);
    if (!f || (f->flags & (FRAME_HUGE_HEAD | FRAME_HUGE_TAIL | FRAME_LOCKED | FRAME_PINNED)))
        return NULL;
    return f;
}

int mm_merge_pages(struct guest_mm *mm, gpa_t a, gpa_t b)
{
    struct s2_info ea, eb;
    const struct region *ra, *rb;
    struct frame *fa, *fb;
    int rc;

    a &= PAGE_MASK;
    b &= PAGE_MASK;
    fa = mergeable(mm, a, &ea, &ra);
    fb = mergeable(mm, b, &eb, &rb);
    if (!fa || !fb)
        return -PV_EINVAL;
    if (fa == fb)
        return 0;
    if (memcmp(hpa_va(ea.hpa), hpa_va(eb.hpa), PAGE_SIZE) != 0)
        return 1;

    /* a may no longer write the frame about to be shared (reducing rights
     * first keeps every step safe to abandon: a merely cow-reuses later) ... */
    if (ea.rights & ACC_W) {
        /* A writable swap-cache frame the guest wrote (dirty bit): its
         * slot copy is stale, say so before the bit goes with the leaf. */
        if ((fa->flags & FRAME_SWAPCACHE) && ea.dirty && mm->swap_hooks)
            mm->swap_hooks->write_cached(mm, fa, a, mm->swap_ctx);
        rc = s2pt_protect(&mm->s2, a, PAGE_SIZE, ea.rights & ~ACC_W);
        if (rc < 0)
            return rc;
    }
    /* ... b takes a reference and an rmap entry on a's frame ... */
    rc = frame_rmap_add(mm->fp, fa, b);
    if (rc < 0)
        return rc;
    frame_get(fa);
    rc = s2pt_map(&mm->s2, b, ea.hpa, PAGE_SIZE,
                  eb.rights & ~ACC_W & mm_exec_mask(mm, fa), MM_RAM_MEMTYPE);
    if (rc < 0) {
        frame_rmap_del(mm->fp, fa, b);
        frame_put(mm->fp, fa);
        return rc;
    }
    /* ... and b's old frame loses b's hold. */
    frame_rmap_del(mm->fp, fb, b);
    frame_put(mm->fp, fb);
    return 0;
}

/* ---- pins for device I/O ------------------------------------------------------- */

bool mm_is_ram(const struct guest_mm *mm, gpa_t gpa, uint64_t len)
{
    if (len == 0)
        return true;
    if (gpa + len < gpa)
        return false;
    gpa_t end = gpa + len;
    while (gpa < end) {
        const struct region *r = region_lookup(&mm->regions, gpa);
        if (!r || (r->kind != REGION_ANON && r->kind != REGION_FILE_PRIVATE))
            return false;
        gpa = r->end;
    }
    return true;
}

int mm_pin_page(struct guest_mm *mm, gpa_t gpa, bool write, struct mm_pin *pin)
{
    gpa_t page = gpa & PAGE_MASK;
    pin->f = NULL;
    pin->va = NULL;
    if (!mm_is_ram(mm, page, PAGE_SIZE))
        return -PV_ENOENT;
    struct s2_info e;
    int rc = fault_in(mm, page, write ? ACC_W : ACC_R, &e);
    if (rc < 0)
        return rc;
    pin->va = hpa_va(e.hpa);
    struct frame *f = mm_leaf_frame(mm, &e);
    /* The zero frame, staged images and 2 MiB blocks are never reclaimed:
     * nothing to hold. A 4 KiB pool frame gets a reference (it outlives a
     * copy-on-write that replaces its leaf) and FRAME_PINNED (reclaim and
     * merging leave it alone). */
    if (!f || (f->flags & (FRAME_ZERO | FRAME_HUGE_HEAD | FRAME_HUGE_TAIL)))
        return 0;
    frame_get(f);
    f->pins++;
    f->flags |= FRAME_PINNED;
    pin->f = f;
    return 0;
}

void mm_unpin_page(struct guest_mm *mm, struct mm_pin *pin)
{
    struct frame *f = pin->f;
    pin->f = NULL;
    pin->va = NULL;
    if (!f)
        return;
    if (f->pins == 0) {
        pv_err("mm: unpin of frame 0x%llx that is not pinned",
               (unsigned long long)frame_hpa(mm->fp, f));
        return;
    }
    if (--f->pins == 0)
        f->flags &= ~FRAME_PINNED;
    frame_put(mm->fp, f);
}

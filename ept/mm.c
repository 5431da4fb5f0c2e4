/*
 * Guest memory object: set-up, region helpers, tear-down, consistency
 * checks. The fault handler is in fault.c, guest memory access and page
 * merging in mm_access.c.
 */
#include "ept/mm.h"

#include "ept/mm_internal.h"
#include "vmm/lib/log.h"

#include <string.h>

/* rmap gpas fetched per frame when checking that a leaf's gpa is listed. */
#define MM_CHECK_RMAP_MAX 64

int mm_init(struct guest_mm *mm, struct frame_pool *fp,
            const struct s2pt_format *fmt, bool use_ad,
            struct region *region_pool, size_t region_cap,
            struct fault_event *trace_buf, size_t trace_cap,
            s2pt_invalidate_fn inv, void *inv_ctx)
{
    memset(mm, 0, sizeof(*mm));
    mm->fp = fp;
    mm->huge_anon = true;
    region_set_init(&mm->regions, region_pool, region_cap);
    fault_stats_init(&mm->stats);
    fault_trace_init(&mm->trace, trace_buf, trace_cap);
    return s2pt_init(&mm->s2, fmt, fp, use_ad, inv, inv_ctx);
}

struct frame *mm_leaf_frame(const struct guest_mm *mm, const struct s2_info *e)
{
    struct frame *f = frame_of(mm->fp, e->leaf_hpa);

    if (!f || (f->flags & FRAME_ZERO))
        return NULL;
    return f;
}

int mm_walk(const struct guest_mm *mm, gpa_t lo, gpa_t hi, mm_walk_fn fn,
            void *ctx)
{
    gpa_t gpa = lo & PAGE_MASK;

    if (hi > MM_GPA_LIMIT)
        hi = MM_GPA_LIMIT;
    while (gpa < hi) {
        struct s2_info e;
        s2pt_lookup(&mm->s2, gpa, &e);
        uint64_t span = e.state == S2_PRESENT ? e.size : s2_level_size(e.level);
        gpa_t base = ALIGN_DOWN(gpa, span);
        if (e.state != S2_NONE) {
            int rc = fn(ctx, base, &e);
            if (rc < 0)
                return rc;
            if (rc == MM_WALK_AGAIN)
                continue;
        }
        gpa = base + span;
    }
    return 0;
}

/* ---- tear-down ---------------------------------------------------------- */

struct unmap_ctx {
    struct guest_mm *mm;
    gpa_t lo, hi;
};

/* Drop one leaf's hold on its pool frame (after the leaf is gone). */
static void release_leaf_frame(struct guest_mm *mm, struct frame *f, gpa_t base)
{
    if (frame_rmap_del(mm->fp, f, base) < 0)
        pv_err("mm: leaf 0x%llx missing from its frame's rmap",
               (unsigned long long)base);
    if ((f->flags & FRAME_SWAPCACHE) && mm->swap_hooks)
        mm->swap_hooks->cached_unmapped(mm, f, base, mm->swap_ctx);
    frame_put(mm->fp, f);
}

static int unmap_one(void *arg, gpa_t base, const struct s2_info *e)
{
    struct unmap_ctx *c = arg;
    struct guest_mm *mm = c->mm;

    if (e->state == S2_SWAP) {
        /* The slot belongs to swap/: tell it the entry is gone. */
        int rc = s2pt_unmap(&mm->s2, base, PAGE_SIZE);
        if (rc == 0 && mm->swap_hooks)
            mm->swap_hooks->entry_dropped(mm, base, e->swap, mm->swap_ctx);
        return rc;
    }
    struct frame *f = mm_leaf_frame(mm, e);
    if (base < c->lo || base + e->size > c->hi) {
        /* Large leaf straddling an edge: split it (and its block) first. */
        gpa_t at = base < c->lo ? c->lo : c->hi;
        int rc = s2pt_split(&mm->s2, at, PAGE_SIZE);
        if (rc < 0)
            return rc;
        if (f && (f->flags & FRAME_HUGE_HEAD))
            frame_split_2m(mm->fp, f);
        return MM_WALK_AGAIN;
    }
    int rc = s2pt_unmap(&mm->s2, base, e->size);
    if (rc < 0)
        return rc;
    if (f)
        release_leaf_frame(mm, f, base);
    return 0;
}

int mm_unmap_range(struct guest_mm *mm, gpa_t start, gpa_t end)
{
    if (!IS_ALIGNED(start, PAGE_SIZE) || !IS_ALIGNED(end, PAGE_SIZE) ||
        start >= end)
        return -PV_EINVAL;
    struct unmap_ctx c = { mm, start, end };
    return mm_walk(mm, start, end, unmap_one, &c);
}

int mm_remove_range(struct guest_mm *mm, gpa_t start, gpa_t end)
{
    int rc = mm_unmap_range(mm, start, end);
    if (rc < 0)
        return rc;
    return region_remove(&mm->regions, start, end);
}

static int put_one(void *arg, gpa_t base, const struct s2_info *e)
{
    struct guest_mm *mm = arg;

    if (e->state == S2_PRESENT) {
        struct frame *f = mm_leaf_frame(mm, e);
        if (f)
            release_leaf_frame(mm, f, base);
    } else if (e->state == S2_SWAP && mm->swap_hooks) {
        mm->swap_hooks->entry_dropped(mm, base, e->swap, mm->swap_ctx);
    }
    return 0;
}

void mm_destroy(struct guest_mm *mm)
{
    /* The guest is gone: put the frames without unmapping leaf by leaf
     * (no invalidations needed), then free the tables wholesale. */
    mm_walk(mm, 0, MM_GPA_LIMIT, put_one, mm);
    s2pt_destroy(&mm->s2);
    region_set_init(&mm->regions, mm->regions.pool, mm->regions.pool_cap);
}

/* ---- region helpers ------------------------------------------------------ */

int mm_add_anon(struct guest_mm *mm, gpa_t start, gpa_t end, const char *name)
{
    struct region_backing b;
    memset(&b, 0, sizeof(b));
    return region_insert(&mm->regions, start, end, ACC_RWX, REGION_ANON, &b,
                         name, NULL);
}

int mm_add_image(struct guest_mm *mm, gpa_t start, gpa_t end, hpa_t image,
                 uint64_t offset, uint64_t size, const char *name)
{
    struct region_backing b;
    memset(&b, 0, sizeof(b));
    if (!IS_ALIGNED(image, PAGE_SIZE) || !IS_ALIGNED(offset, PAGE_SIZE))
        return -PV_EINVAL;
    b.image.data = image;
    b.image.offset = offset;
    b.image.size = size;
    return region_insert(&mm->regions, start, end, ACC_RWX,
                         REGION_FILE_PRIVATE, &b, name, NULL);
}

int mm_add_rom(struct guest_mm *mm, gpa_t start, gpa_t end, hpa_t image,
               uint64_t size, const char *name)
{
    struct region_backing b;
    memset(&b, 0, sizeof(b));
    if (!IS_ALIGNED(image, PAGE_SIZE))
        return -PV_EINVAL;
    b.image.data = image;
    b.image.size = size;
    return region_insert(&mm->regions, start, end, ACC_RX, REGION_ROM, &b,
                         name, NULL);
}

int mm_add_passthrough(struct guest_mm *mm, gpa_t start, gpa_t end, hpa_t hpa,
                       enum memtype mt, const char *name)
{
    struct region_backing b;
    memset(&b, 0, sizeof(b));
    if (!IS_ALIGNED(hpa, PAGE_SIZE))
        return -PV_EINVAL;
    b.host.hpa = hpa;
    b.host.memtype = mt;
    return region_insert(&mm->regions, start, end, ACC_RW, REGION_PASSTHROUGH,
                         &b, name, NULL);
}

int mm_add_mmio(struct guest_mm *mm, gpa_t start, gpa_t end, uint32_t dev,
                void *ctx, const char *name)
{
    struct region_backing b;
    memset(&b, 0, sizeof(b));
    b.mmio.dev = dev;
    b.mmio.ctx = ctx;
    return region_insert(&mm->regions, start, end, ACC_RW,
                         REGION_MMIO_EMULATED, &b, name, NULL);
}

/* ---- rendering ----------------------------------------------------------- */

void mm_render_stats(const struct guest_mm *mm, emit_fn emit, void *ctx)
{
    fault_stats_render(&mm->stats, emit, ctx);
}

size_t mm_code_frames(const struct guest_mm *mm)
{
    const struct frame_pool *fp = mm->fp;
    size_t n = 0;

    for (size_t i = 0; i < fp->nframes; i++) {
        const struct frame *f = &fp->desc[i];
        if (f->refcount && (f->flags & FRAME_EXEC))
            n += (f->flags & FRAME_HUGE_HEAD) ? PAGES_PER_2M : 1;
    }
    return n;
}

void mm_render_trace(const struct guest_mm *mm, size_t n, emit_fn emit,
                     void *ctx)
{
    fault_trace_render(&mm->trace, n, emit, ctx);
}

/* ---- consistency ----------------------------------------------------------- */

struct check_ctx {
    const struct guest_mm *mm;
    uint64_t pool_leaves;
    bool ok;
};

static void check_fail(struct check_ctx *c, gpa_t base, const char *what)
{
    pv_err("mm_check: leaf 0x%llx: %s", (unsigned long long)base, what);
    c->ok = false;
}

static bool rmap_lists(const struct frame *f, gpa_t gpa)
{
    gpa_t gpas[MM_CHECK_RMAP_MAX];
    size_t n = frame_rmap_get(f, gpas, MM_CHECK_RMAP_MAX);

    if (n > MM_CHECK_RMAP_MAX)
        return true; /* too many to fetch: trust the count */
    for (size_t i = 0; i < n; i++)
        if (gpas[i] == gpa)
            return true;
    return false;
}

static int check_one(void *arg, gpa_t base, const struct s2_info *e)
{
    struct check_ctx *c = arg;
    const struct guest_mm *mm = c->mm;

    if (e->state != S2_PRESENT)
        return 0;
    const struct region *r = region_lookup(&mm->regions, base);
    if (!r || base + e->size > r->end) {
        check_fail(c, base, "not inside one region");
        return 0;
    }
    struct frame *raw = frame_of(mm->fp, e->leaf_hpa);
    if (raw && (raw->flags & FRAME_ZERO)) {
        if (e->rights & ACC_W)
            check_fail(c, base, "zero frame mapped writable");
        return 0;
    }
    if (!raw) {
        if (r->kind != REGION_PASSTHROUGH && (e->rights & ACC_W))
            check_fail(c, base, "staged image mapped writable");
        return 0;
    }
    c->pool_leaves++;
    if (raw->flags & FRAME_HUGE_TAIL)
        check_fail(c, base, "leaf maps a 2 MiB tail frame");
    if (raw->refcount < raw->mapcount || raw->mapcount == 0)
        check_fail(c, base, "refcount/mapcount too low");
    if (!rmap_lists(raw, base))
        check_fail(c, base, "gpa missing from the frame's rmap");
    /* Writable: the one mapping; the swap cache may hold the only other
     * reference (an exclusive swapped-in page, mm_swapped_rights). */
    unsigned owners = (raw->flags & FRAME_SWAPCACHE) ? 2 : 1;
    if ((e->rights & ACC_W) && (raw->refcount != owners || raw->mapcount != 1))
        check_fail(c, base, "shared frame mapped writable");
    if ((e->rights & ACC_X) && !(mm_exec_mask(mm, raw) & ACC_X))
        check_fail(c, base, "executable, but the frame is not known as code");
    return 0;
}

bool mm_check(const struct guest_mm *mm)
{
    struct check_ctx c = { mm, 0, true };

    if (!region_set_check(&mm->regions)) {
        pv_err("mm_check: region set inconsistent");
        c.ok = false;
    }
    if (!frame_pool_check(mm->fp)) {
        pv_err("mm_check: frame pool inconsistent");
        c.ok = false;
    }
    if (!s2pt_check(&mm->s2)) {
        pv_err("mm_check: stage-2 table inconsistent");
        c.ok = false;
    }
    mm_walk(mm, 0, MM_GPA_LIMIT, check_one, &c);

    /* Every rmap entry in the pool is one of our leaves (this mm is the
     * pool's only guest). Table pages use mapcount for their entry count. */
    uint64_t mapped = 0;
    for (size_t i = 0; i < mm->fp->nframes; i++)
        if (!(mm->fp->desc[i].flags & FRAME_TABLE))
            mapped += mm->fp->desc[i].mapcount;
    if (mapped != c.pool_leaves) {
        pv_err("mm_check: %llu pool leaves but %llu rmap entries",
               (unsigned long long)c.pool_leaves, (unsigned long long)mapped);
        c.ok = false;
    }
    return c.ok;
}

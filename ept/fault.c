/*
 * The stage-2 fault handler: mm_handle_fault() and its resolutions.
 *
 * Order of decisions (docs/design.md, "The fault path"): region, rights, MMIO,
 * then what the table holds for the gpa. The table is walked once per
 * fault: the lookup remembers the slot (struct s2_slot) and the new leaf is
 * written straight into it (s2pt_install_at), which re-walks only when the
 * slot is gone or incomplete (first page of a 2 MiB block, a split). The
 * only re-read is after splitting a 2 MiB leaf that needs copy-on-write.
 *
 * Failure contract: a resolution that runs out of frames, rmap items or
 * table pages leaves the table and every refcount exactly as they were and
 * reports FAULT_OOM; the guest is paused and the access retried later. Any
 * other failure of a table operation is FAULT_ERROR (logged). Both carry
 * their cause in out->err (and a failed swap-in's entry in out->swap).
 *
 * Every pool frame a resolution maps, a swapped-in one included, goes
 * through install_frame(). Stage-2 entries are written only in ept/: here,
 * in mm.c (unmap, tear-down), mm_access.c (merging), unmap.c (reclaim) and
 * map_swapped.c (readahead pages mapped at once).
 *
 * Invalidations: none when a non-present entry becomes present (anon-new,
 * zero-map, file-map, ...) or when rights only grow (cow-reuse, reprotect);
 * the stage-2 layer issues one when a leaf is replaced (cow-*), and the
 * handler itself only for a spurious fault.
 */
#include "ept/mm.h"

#include "ept/mm_internal.h"
#include "vmm/lib/cycles.h"
#include "vmm/lib/log.h"

#include <string.h>

/* Open-bus accesses logged in full before rate-limiting starts, and the
 * interval of the rate-limited lines after that. */
#define OPEN_BUS_LOG_FIRST 8
#define OPEN_BUS_LOG_EVERY 1024

#define CYCLES_MAX UINT32_MAX

struct fault_ctx {
    struct guest_mm *mm;
    const struct gpa_fault *f;
    const struct region *r;
    struct fault_outcome *out;
    gpa_t page;        /* gpa & PAGE_MASK */
    uint32_t access;   /* ACC_* attempted (never 0) */
    bool write;
    struct s2_slot slot; /* where the lookup found page's entry */
};

/* ---- installing mappings ------------------------------------------------- */

static enum fault_res oom(struct fault_ctx *c)
{
    c->out->kind = FAULT_OOM;
    c->out->err = -PV_ENOMEM;
    return RES_OOM;
}

/* Cannot resolve: the guest is stopped with err as the reason. */
static enum fault_res error(struct fault_ctx *c, int err)
{
    c->out->kind = FAULT_ERROR;
    c->out->err = err;
    return RES_ERROR;
}

/* A table operation failed: out of frames / rmap items / table pages is
 * OOM (pause and retry later); anything else is a bug or a bad region
 * (e.g. beyond the stage-2 address width) and is reported as an error. */
static enum fault_res failed(struct fault_ctx *c, int rc)
{
    if (rc == -PV_ENOMEM)
        return oom(c);
    pv_err("mm: fault at gpa 0x%llx: stage-2 update failed (%d)",
           (unsigned long long)c->f->gpa, rc);
    return error(c, rc);
}

static enum fault_res mapped(struct fault_ctx *c, enum fault_res res)
{
    c->out->kind = FAULT_MAPPED;
    return res;
}

/* The access being resolved is a fetch: the frame it lands on is code. */
static inline void note_fetch(const struct fault_ctx *c, struct frame *f)
{
    if (c->mm->learn_exec && (c->access & ACC_X))
        f->flags |= FRAME_EXEC;
}

/*
 * Map the page to pool frame nf with a 4 KiB leaf that takes over the
 * caller's reference on nf: a freshly allocated frame (refcount 1), or the
 * frame a swap-in handed back. Replaces whatever entry was there. On
 * failure that reference is put (a fresh frame is freed; a swap-cache
 * frame stays with the cache) and nothing else changed. Execute only
 * for code (mm_exec_mask): a fetch being resolved makes nf code.
 */
static inline int install_frame(struct fault_ctx *c, struct frame *nf,
                                uint32_t rights)
{
    struct guest_mm *mm = c->mm;
    note_fetch(c, nf);
    rights &= mm_exec_mask(mm, nf);
    int rc = frame_rmap_add(mm->fp, nf, c->page);

    if (rc < 0) {
        frame_put(mm->fp, nf);
        return rc;
    }
    rc = s2pt_install_at(&mm->s2, &c->slot, c->page, frame_hpa(mm->fp, nf),
                         rights, MM_RAM_MEMTYPE);
    if (rc < 0) {
        frame_rmap_del(mm->fp, nf, c->page);
        frame_put(mm->fp, nf);
        return rc;
    }
    if (rights & ACC_W)
        nf->flags |= FRAME_DIRTY;
    if (mm->swap_hooks)
        mm->swap_hooks->frame_added(mm, nf, c->page, mm->swap_ctx);
    return 0;
}

/* Map a page that is not ours to write (zero frame, staged image) or not a
 * pool frame at all (passthrough): no reference, no rmap. */
static int install_foreign(struct fault_ctx *c, hpa_t hpa, uint32_t rights,
                           enum memtype mt)
{
    return s2pt_install_at(&c->mm->s2, &c->slot, c->page, hpa, rights, mt);
}

static enum fault_res map_zero_frame(struct fault_ctx *c, enum fault_res res)
{
    struct frame_pool *fp = c->mm->fp;
    int rc = install_foreign(c, frame_hpa(fp, fp->zero), c->r->rights & ~ACC_W,
                             MM_RAM_MEMTYPE);

    return rc < 0 ? failed(c, rc) : mapped(c, res);
}

static inline enum fault_res map_new_zeroed(struct fault_ctx *c,
                                            enum fault_res res)
{
    struct frame *nf = frame_alloc_zeroed(c->mm->fp, FRAME_GUEST);

    if (!nf)
        return oom(c);
    int rc = install_frame(c, nf, c->r->rights);
    return rc < 0 ? failed(c, rc) : mapped(c, res);
}

/* Private copy of len bytes at src, zero-filled to the end of the page. The
 * source is hinted before the allocation, so its misses overlap it. */
static enum fault_res map_copy(struct fault_ctx *c, const void *src, size_t len,
                               uint32_t rights, enum fault_res res)
{
    struct frame_pool *fp = c->mm->fp;

    frame_prefetch(src, len);
    struct frame *nf = frame_alloc(fp, FRAME_GUEST);

    if (!nf)
        return oom(c);
    uint8_t *dst = frame_va(fp, nf);
    memcpy(dst, src, len);
    if (len < PAGE_SIZE)
        memset(dst + len, 0, PAGE_SIZE - len);
    int rc = install_frame(c, nf, rights);
    return rc < 0 ? failed(c, rc) : mapped(c, res);
}

/*
 * anon-huge: the write hits an anon region whose whole 2 MiB block around
 * the page is in the region and empty in stage-2 (the lookup stopped at
 * level >= 2). Returns RES_COUNT when the block does not qualify or no
 * block is free, so the caller falls back to a 4 KiB frame.
 */
static enum fault_res try_anon_huge(struct fault_ctx *c, const struct s2_info *e)
{
    struct guest_mm *mm = c->mm;
    gpa_t block = ALIGN_DOWN(c->page, HUGE_2M);

    if (!mm->huge_anon || e->level < 2 || block < c->r->start ||
        block + HUGE_2M > c->r->end)
        return RES_COUNT;
    struct frame *head = frame_alloc_2m(mm->fp, FRAME_GUEST);
    if (!head)
        return RES_COUNT;
    hpa_t hpa = frame_hpa(mm->fp, head);
    /* a block that already reads as zero is left unwritten (frame.h) */
    if (frame_bytes_zero(hpa_va(hpa), HUGE_2M))
        mm->stats.huge_found_zero++;
    else
        memset(hpa_va(hpa), 0, HUGE_2M);
    note_fetch(c, head); /* tails inherit the mark at a split */
    int rc = frame_rmap_add(mm->fp, head, block);
    if (rc == 0)
        rc = s2pt_map(&mm->s2, block, hpa, HUGE_2M,
                      c->r->rights & mm_exec_mask(mm, head), MM_RAM_MEMTYPE);
    if (rc < 0) {
        frame_put(mm->fp, head);
        return rc == -PV_EEXIST ? RES_COUNT : failed(c, rc);
    }
    head->flags |= FRAME_DIRTY;
    return mapped(c, RES_ANON_HUGE);
}

/* ---- empty entry: first touch ---------------------------------------------- */

static inline enum fault_res fault_anon(struct fault_ctx *c,
                                        const struct s2_info *e)
{
    if (!c->write)
        return map_zero_frame(c, RES_ZERO_MAP);
    if (c->r->kind == REGION_ANON) {
        enum fault_res res = try_anon_huge(c, e);
        if (res != RES_COUNT)
            return res;
    }
    /* anon, or file-private past its image; before the faulting page: its
     * frame must be the last one added */
    mm_fault_around(c->mm, c->r, c->page);
    return map_new_zeroed(c, RES_ANON_NEW);
}

/* Bytes of the staged image behind the page (0 past its end), and where. */
static uint64_t image_bytes(const struct fault_ctx *c, const uint8_t **src)
{
    const struct region *r = c->r;
    uint64_t off = r->backing.image.offset + (c->page - r->start);

    *src = (const uint8_t *)hpa_va(r->backing.image.data) + off;
    if (off >= r->backing.image.size)
        return 0;
    uint64_t left = r->backing.image.size - off;
    return left < PAGE_SIZE ? left : PAGE_SIZE;
}

/*
 * File-private: a page wholly inside the image is mapped straight from the
 * staged image, read-only, until written. A partial last page is never
 * mapped from the image (the guest would see the bytes after the file's
 * end): it is copied and zero-filled even for a read. Past the image the
 * region behaves like anon (bss).
 */
static enum fault_res fault_file(struct fault_ctx *c, const struct s2_info *e)
{
    const uint8_t *src;
    uint64_t n = image_bytes(c, &src);

    if (n == 0)
        return fault_anon(c, e);
    if (n == PAGE_SIZE && !c->write) {
        mm_file_around(c->mm, c->r, c->page); /* its neighbours in the image too */
        int rc = install_foreign(c, va_hpa(src), c->r->rights & ~ACC_W,
                                 MM_RAM_MEMTYPE);
        return rc < 0 ? failed(c, rc) : mapped(c, RES_FILE_MAP);
    }
    return map_copy(c, src, n, c->r->rights, RES_FILE_COPY);
}

/* ROM: the region has no W, so every mapping is read-only; the partial last
 * page is a zero-filled private copy, pages past the image the zero frame. */
static enum fault_res fault_rom(struct fault_ctx *c)
{
    const uint8_t *src;
    uint64_t n = image_bytes(c, &src);
    uint32_t rights = c->r->rights & ~ACC_W;

    if (n == 0)
        return map_zero_frame(c, RES_ROM_MAP);
    if (n < PAGE_SIZE)
        return map_copy(c, src, n, rights, RES_ROM_MAP);
    int rc = install_foreign(c, va_hpa(src), rights, MM_RAM_MEMTYPE);
    return rc < 0 ? failed(c, rc) : mapped(c, RES_ROM_MAP);
}

static enum fault_res fault_passthrough(struct fault_ctx *c)
{
    const struct region *r = c->r;
    hpa_t hpa = r->backing.host.hpa + (c->page - r->start);
    int rc = install_foreign(c, hpa, r->rights, r->backing.host.memtype);

    return rc < 0 ? failed(c, rc) : mapped(c, RES_PASSTHROUGH);
}

static enum fault_res fault_empty(struct fault_ctx *c, const struct s2_info *e)
{
    switch (c->r->kind) {
    case REGION_ANON:
        return fault_anon(c, e);
    case REGION_FILE_PRIVATE:
        return fault_file(c, e);
    case REGION_ROM:
        return fault_rom(c);
    case REGION_PASSTHROUGH:
        return fault_passthrough(c);
    default:
        return error(c, -PV_EINVAL);
    }
}

/* ---- present entry --------------------------------------------------------- */

/* Give the leaf the rights it lacks that need no copy. */
static enum fault_res reprotect(struct fault_ctx *c, const struct s2_info *e,
                                uint32_t rights, enum fault_res res)
{
    gpa_t base = ALIGN_DOWN(c->page, e->size);
    int rc = s2pt_protect(&c->mm->s2, base, e->size, rights);

    return rc < 0 ? failed(c, rc) : mapped(c, res);
}

/*
 * Write to a read-only leaf of a writable region (do_wp_page). A 2 MiB leaf
 * is split into 4 KiB leaves (and its block into 4 KiB frames) first, so
 * only the written page is copied.
 */
static enum fault_res fault_cow(struct fault_ctx *c, struct s2_info *e)
{
    struct guest_mm *mm = c->mm;
    struct frame *raw = frame_of(mm->fp, e->leaf_hpa);
    uint32_t rights = c->r->rights;

    if (!raw) {
        /* Not a pool frame: the host range is the target (passthrough), or
         * a staged image page that is never ours to modify. */
        if (c->r->kind == REGION_PASSTHROUGH)
            return reprotect(c, e, e->rights | ACC_W, RES_REPROTECT);
        /* before the faulting page: its frame must be the last one added */
        mm_cow_around(mm, c->r, c->page);
        return map_copy(c, hpa_va(e->hpa), PAGE_SIZE, rights, RES_COW_COPY);
    }
    if (raw->flags & FRAME_ZERO)
        return map_new_zeroed(c, RES_COW_ZERO);
    if (e->size != PAGE_SIZE) {
        int rc = s2pt_split(&mm->s2, c->page, PAGE_SIZE);
        if (rc < 0)
            return failed(c, rc);
        if (raw->flags & FRAME_HUGE_HEAD)
            frame_split_2m(mm->fp, raw);
        s2pt_lookup_slot(&mm->s2, c->page, e, &c->slot);
        raw = frame_of(mm->fp, e->leaf_hpa);
    }
    /* A clean swapped-in page: its slot copy goes stale now (swap/ frees
     * it when this gpa is the only user, making the frame reusable). */
    if ((raw->flags & FRAME_SWAPCACHE) && mm->swap_hooks)
        mm->swap_hooks->write_cached(mm, raw, c->page, mm->swap_ctx);
    if (raw->refcount == 1 && raw->mapcount == 1 &&
        !(raw->flags & FRAME_LOCKED)) {
        /* Sole user: the frame is ours, just let the write through. */
        int rc = s2pt_protect(&mm->s2, c->page, PAGE_SIZE,
                              rights & mm_exec_mask(mm, raw));
        if (rc < 0)
            return failed(c, rc);
        raw->flags |= FRAME_DIRTY;
        return mapped(c, RES_COW_REUSE);
    }
    enum fault_res res = map_copy(c, hpa_va(e->hpa), PAGE_SIZE, rights,
                                  RES_COW_COPY);
    if (res == RES_COW_COPY) {
        /* The new leaf replaced ours: drop our hold on the shared frame. */
        frame_rmap_del(mm->fp, raw, c->page);
        frame_put(mm->fp, raw);
    }
    return res;
}

static enum fault_res fault_present(struct fault_ctx *c, struct s2_info *e)
{
    uint32_t missing = c->access & ~e->rights;

    if (!missing) {
        /* The entry already allows it: a stale translation. */
        s2pt_invalidate(&c->mm->s2, S2_INV_RANGE,
                        ALIGN_DOWN(c->page, e->size), e->size);
        c->out->kind = FAULT_RETRY;
        return RES_SPURIOUS;
    }
    if (missing & ACC_W)
        return fault_cow(c, e);
    uint32_t grant = c->r->rights & ~ACC_W;
    struct frame *f = c->mm->learn_exec ? mm_leaf_frame(c->mm, e) : NULL;
    if (!f)
        return reprotect(c, e, e->rights | grant, RES_REPROTECT);
    /* A pool frame mapped without execute (learn_exec): a fetch from it
     * says it holds code. A code frame's execute taken away by aging is
     * only restored. */
    bool learned = (missing & ACC_X) && !(f->flags & FRAME_EXEC);
    if (learned)
        f->flags |= FRAME_EXEC;
    return reprotect(c, e, e->rights | (grant & mm_exec_mask(c->mm, f)),
                     learned ? RES_EXEC : RES_REPROTECT);
}

/*
 * A swap entry (do_swap_page): swap/ brings the data into a frame and hands
 * it back; it is mapped here like every other resolution's frame, with
 * mm_swapped_rights' rights. Read-only: a write then takes the cow path,
 * where write_cached releases the slot copy and the frame is reused.
 * Writable (the page is exclusive): on a write fault the slot copy is
 * released now, as the cow path would one exit later; on a read the leaf
 * starts clean and its stage-2 dirty bit tells reclaim whether the slot
 * copy is still good. Either way the frame is not dirty until written.
 */
static enum fault_res fault_swap(struct fault_ctx *c, const struct s2_info *e)
{
    struct guest_mm *mm = c->mm;
    const struct mm_swap_hooks *sh = mm->swap_hooks;
    struct frame *f;

    if (!sh) {
        pv_err("mm: swap entry at gpa 0x%llx but no swap installed",
               (unsigned long long)c->page);
        c->out->swap = e->swap;
        return error(c, -PV_ENOENT);
    }
    /* A failure leaves the entry in place; the outcome names it with err
     * (the hook logged the cause: gpa, slot, device). */
    int rc = sh->swapin(mm, c->page, e->swap, &f, mm->swap_ctx);
    if (rc < 0) {
        c->out->swap = e->swap;
        return rc == -PV_ENOMEM ? oom(c) : error(c, rc);
    }
    bool minor = rc == MM_SWAPIN_MINOR;
    bool write = (c->access & ACC_W) != 0;
    uint32_t rights = mm_swapped_rights(mm, c->r, f, e->swap, write);
    rc = install_frame(c, f, rights);
    if (rc < 0) {
        c->out->swap = e->swap;
        return failed(c, rc);
    }
    sh->swapin_mapped(mm, f, c->page, e->swap, minor, mm->swap_ctx);
    if ((rights & ACC_W) && !write)
        f->flags &= ~FRAME_DIRTY; /* clean until the dirty bit says otherwise */
    else if (rights & ACC_W)
        sh->write_cached(mm, f, c->page, mm->swap_ctx);
    if (!minor && sh->swapin_done)
        sh->swapin_done(mm, c->page, mm->swap_ctx); /* no lookup in use past this */
    return mapped(c, minor ? RES_SWAP_MINOR : RES_SWAP_IN);
}

/* ---- entry point ------------------------------------------------------------ */

static enum fault_res open_bus(struct fault_ctx *c)
{
    struct fault_stats *st = &c->mm->stats;
    uint64_t n;

    if (c->write)
        st->open_bus_writes++;
    else
        st->open_bus_reads++;
    n = st->open_bus_reads + st->open_bus_writes;
    if (n <= OPEN_BUS_LOG_FIRST || n % OPEN_BUS_LOG_EVERY == 0)
        pv_warn("open bus: %s at gpa 0x%llx rip 0x%llx (%llu so far)",
                c->write ? "write" : "read", (unsigned long long)c->f->gpa,
                (unsigned long long)c->f->rip, (unsigned long long)n);
    c->out->kind = FAULT_OPEN_BUS;
    return RES_OPEN_BUS;
}

static enum fault_res resolve(struct fault_ctx *c, struct fault_event *ev)
{
    const struct region *r = region_lookup(&c->mm->regions, c->f->gpa);

    if (!r)
        return open_bus(c);
    c->r = r;
    c->out->region = r;
    if (c->access & ~r->rights) {
        c->out->kind = FAULT_DENIED;
        return RES_DENIED;
    }
    if (r->kind == REGION_MMIO_EMULATED) {
        c->out->kind = FAULT_MMIO;
        c->out->mmio_dev = r->backing.mmio.dev;
        c->out->mmio_ctx = r->backing.mmio.ctx;
        c->out->mmio_offset = c->f->gpa - r->start;
        return RES_MMIO;
    }

    struct s2_info e;
    s2pt_lookup_slot(&c->mm->s2, c->page, &e, &c->slot);
    ev->entry_state = (uint8_t)e.state;
    if (e.state == S2_PRESENT)
        ev->entry_rights = (uint8_t)e.rights;
    switch (e.state) {
    case S2_PRESENT:
        return fault_present(c, &e);
    case S2_SWAP:
        return fault_swap(c, &e);
    default:
        return fault_empty(c, &e);
    }
}

void mm_handle_fault(struct guest_mm *mm, const struct gpa_fault *f,
                     struct fault_outcome *out)
{
    uint64_t t0 = rdtsc();
    /* An exit that reports no access kind was at least a read. */
    uint32_t access = (f->access & ACC_RWX) ? (f->access & ACC_RWX) : ACC_R;
    struct fault_ctx c;
    c.mm = mm;
    c.f = f;
    c.r = NULL;
    c.out = out;
    c.page = f->gpa & PAGE_MASK;
    c.access = access;
    c.write = (access & ACC_W) != 0;
    c.slot.level = 0; /* no slot before the lookup: install_at walks */
    struct fault_event ev = {
        .tsc = t0,
        .gpa = f->gpa,
        .rip = f->rip,
        .access = (uint8_t)access,
        .entry_state = S2_NONE,
    };

    const struct mm_swap_hooks *sh = mm->swap_hooks;
    if (sh && mm->fp->nfree < mm->reclaim_low)
        sh->reclaim(mm, false, mm->swap_ctx); /* direct reclaim */
    memset(out, 0, sizeof(*out));
    out->res = resolve(&c, &ev);
    if (out->res == RES_OOM && sh && sh->reclaim(mm, true, mm->swap_ctx) > 0) {
        /* An OOM resolution changed nothing: look again from scratch. */
        c.r = NULL;
        c.slot.level = 0;
        ev.entry_state = S2_NONE;
        ev.entry_rights = 0;
        memset(out, 0, sizeof(*out));
        out->res = resolve(&c, &ev);
    }
    ev.res = (uint8_t)out->res;
    uint64_t dt = rdtsc() - t0;
    ev.cycles = dt > CYCLES_MAX ? CYCLES_MAX : (uint32_t)dt;
    fault_account(&mm->stats, &mm->trace, &ev);
}

/*
 * The swap object: set-up, tear-down, run-time policy, stats and checks
 * (see swap.h). Swap-in and the fault hooks are in swapin.c, eviction in
 * reclaim.c.
 *
 * Metadata layout (caller's memory, 8-byte aligned):
 *   [swap area slots + cluster counts][swap cache table][slot gpa hints]
 *   [pad][header page]
 * The header page is scratch for reading page 0 at init.
 */
#include "swap/swap.h"

#include <string.h>

#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"

#define META_ALIGN 8u
#define LINE_LEN 160u

static uint64_t dev_pages(const struct blkdev *dev)
{
    if (!dev || dev->sector_size == 0 || PAGE_SIZE % dev->sector_size != 0)
        return 0;
    return dev->sectors / (PAGE_SIZE / dev->sector_size);
}

struct meta_layout {
    size_t area, area_len, cache, cache_len, hints, hints_len, scratch, total;
};

/* The one layout: swap_meta_size(), swap_meta_size_for() (the boot-time
 * plan, swap/mem_plan.c) and swap_init() all read it. */
static void layout_for(size_t nframes, bool has_dev, uint64_t pages, struct meta_layout *l)
{
    l->area = 0;
    l->area_len = pages ? ALIGN_UP(swap_area_meta_size(pages), META_ALIGN) : 0;
    l->cache = l->area + l->area_len;
    l->cache_len = ALIGN_UP(swap_cache_meta_size(nframes), META_ALIGN);
    l->hints = l->cache + l->cache_len;
    l->hints_len = ALIGN_UP(pages * sizeof(uint32_t), META_ALIGN);
    l->scratch = l->hints + l->hints_len;
    /* room to align the scratch page to a page boundary */
    l->total = l->scratch + (has_dev ? 2 * PAGE_SIZE : 0);
}

size_t swap_meta_size_for(size_t nframes, bool has_dev, uint64_t dev_pages)
{
    struct meta_layout l;
    layout_for(nframes, has_dev, has_dev ? dev_pages : 0, &l);
    return l.total;
}

size_t swap_meta_size(const struct frame_pool *fp, const struct blkdev *dev)
{
    return swap_meta_size_for(fp->nframes, dev != NULL, dev_pages(dev));
}

int swap_init(struct swap *sw, struct guest_mm *mm, struct blkdev *dev, void *meta,
              size_t meta_len, enum ra_policy policy, uint32_t ra_pages, char *err,
              size_t err_len)
{
    struct frame_pool *fp = mm->fp;
    struct meta_layout l;
    struct swap_header_info info;
    int rc;

    memset(sw, 0, sizeof(*sw));
    sw->mm = mm;
    sw->fp = fp;
    layout_for(fp->nframes, dev != NULL, dev_pages(dev), &l);
    if (!meta || ((uintptr_t)meta % META_ALIGN) != 0 || meta_len < l.total)
        return pv_fail(err, err_len, "swap: metadata needs %zu bytes (8-byte aligned), got %zu",
                    l.total, meta_len);
    if (ra_init(&sw->ra, policy, ra_pages) < 0)
        return pv_fail(err, err_len, "swap: bad readahead policy %d with %u pages", (int)policy,
                    ra_pages);
    uint8_t *base = meta;
    if (dev) {
        void *page = hpa_va(ALIGN_UP(va_hpa(base + l.scratch), PAGE_SIZE));
        rc = swap_header_parse(dev, page, &info, err, err_len);
        if (rc < 0)
            return rc;
    }
    rc = swap_area_init(&sw->area, dev, SWAP_TYPE, dev ? &info : NULL, base + l.area,
                        l.area_len);
    if (rc == 0)
        rc = swap_cache_init(&sw->cache, base + l.cache, l.cache_len, fp->nframes);
    if (rc < 0)
        return pv_fail(err, err_len, "swap: cannot lay out the metadata");
    sw->slot_page = (uint32_t *)(base + l.hints);
    sw->slot_page_len = l.hints_len / sizeof(uint32_t);
    memset(sw->slot_page, 0, l.hints_len);
    sw->map_ahead = mm_tracks_accessed(mm);
    sw->walk_gpa = SWAP_GPA_NONE;
    lru_init(&sw->lru);
    reclaim_marks_for(fp->nframes, &sw->wm);
    reclaim_adopt(sw, fp->nframes); /* frames mapped before swap existed */

    mm->swap_hooks = &swap_mm_hooks;
    mm->swap_ctx = sw;
    mm->reclaim_low = sw->wm.low;
    fp->on_free = swap_on_free;
    fp->on_free_ctx = sw;

    char ra[48];
    ra_describe(&sw->ra, ra, sizeof(ra));
    pv_info("swap: %s, %llu slots (%llu bad), readahead %s, free-frame watermarks "
            "min %zu low %zu high %zu of %zu",
            dev ? dev->name : "no device (zero pages only)",
            (unsigned long long)sw->area.nslots, (unsigned long long)sw->area.bad, ra,
            sw->wm.min, sw->wm.low, sw->wm.high, fp->nframes);
    return 0;
}

void swap_destroy(struct swap *sw)
{
    struct guest_mm *mm = sw->mm;
    struct frame_pool *fp = sw->fp;

    if (!mm)
        return;
    /* Writes in flight finish first (the device still reads those frames);
     * the guest is gone, so failed ones are not mapped back. */
    while (wb_harvest(sw, true, true, NULL))
        ;
    if (mm->swap_ctx == sw) {
        mm->swap_hooks = NULL;
        mm->swap_ctx = NULL;
        mm->reclaim_low = 0;
    }
    /* Off the lists first: the pool no longer tells us about frees. */
    for (size_t i = 0; i < fp->nframes; i++)
        lru_del(&sw->lru, &fp->desc[i]);
    if (fp->on_free_ctx == sw) {
        fp->on_free = NULL;
        fp->on_free_ctx = NULL;
    }
    for (size_t i = 0; i < fp->nframes; i++) {
        struct frame *f = &fp->desc[i];
        if (f->flags & FRAME_SWAPCACHE) {
            f->flags &= ~FRAME_LOCKED; /* a failed write's page, never restored */
            swap_cache_drop(sw, f);
        }
    }
    sw->mm = NULL;
}

int swap_set_readahead(struct swap *sw, enum ra_policy policy, uint32_t pages)
{
    int rc = ra_set_policy(&sw->ra, policy, pages);
    if (rc == 0) {
        char d[48];
        ra_describe(&sw->ra, d, sizeof(d));
        pv_info("swap: readahead now %s", d);
    }
    return rc;
}

void swap_describe_oom(const struct swap *sw, char *buf, size_t len)
{
    const struct swap_area *a = &sw->area;
    pv_snprintf(buf, len,
                "%zu frames in the pool, %zu free, %zu on the LRU (%zu active); swap %s: "
                "%llu of %llu slots used (%llu bad); nothing left to reclaim",
                sw->fp->nframes, frame_free_count(sw->fp), lru_total(&sw->lru),
                sw->lru.len[LRU_ACTIVE], a->dev ? a->dev->name : "none",
                (unsigned long long)a->used, (unsigned long long)a->nslots,
                (unsigned long long)a->bad);
}

/* ---- stats ----------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void line(emit_fn emit, void *ctx,
                                                       const char *fmt, ...)
{
    char buf[LINE_LEN];
    va_list ap;
    va_start(ap, fmt);
    pv_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    emit(ctx, buf);
}

static void counter(emit_fn emit, void *ctx, const char *name, uint64_t v)
{
    line(emit, ctx, "swap %s %llu", name, (unsigned long long)v);
}

void swap_render_stats(const struct swap *sw, emit_fn emit, void *ctx)
{
    const struct swap_area *a = &sw->area;
    const struct swap_stats *st = &sw->st;
    const struct ra_stats *ra = &sw->ra.st;
    char d[48];

    line(emit, ctx, "swap device %s slots %llu used %llu bad %llu",
         a->dev ? a->dev->name : "none", (unsigned long long)a->nslots,
         (unsigned long long)a->used, (unsigned long long)a->bad);
    ra_describe(&sw->ra, d, sizeof(d));
    line(emit, ctx, "swap readahead %s", d);
    counter(emit, ctx, "outs", st->outs);
    counter(emit, ctx, "ins", st->ins);
    counter(emit, ctx, "ins-minor", st->ins_minor);
    counter(emit, ctx, "readahead-pages", ra->pages);
    counter(emit, ctx, "readahead-hits", ra->hits);
    counter(emit, ctx, "readahead-misses", ra->misses);
    counter(emit, ctx, "readahead-mapped", st->ra_mapped);
    counter(emit, ctx, "read-requests", a->st.read_requests);
    counter(emit, ctx, "write-requests", a->st.write_requests);
    counter(emit, ctx, "zero-recovered", st->zero_recovered);
    counter(emit, ctx, "clean-dropped", st->clean_dropped);
    counter(emit, ctx, "cache-dropped", st->cache_dropped);
    counter(emit, ctx, "released", st->released);
    counter(emit, ctx, "write-errors", a->st.write_errors);
    counter(emit, ctx, "read-errors", a->st.read_errors);
    counter(emit, ctx, "checksum-errors", a->st.csum_errors);
    counter(emit, ctx, "full", st->swap_full);
    line(emit, ctx, "swap reclaim direct %llu urgent %llu ticks %llu freed %llu scanned %llu "
                    "referenced %llu",
         (unsigned long long)st->direct, (unsigned long long)st->urgent,
         (unsigned long long)st->ticks, (unsigned long long)st->freed,
         (unsigned long long)st->scanned, (unsigned long long)st->referenced);
    counter(emit, ctx, "code-kept", st->code_kept);
    line(emit, ctx, "swap walk-ins %llu passed %llu", (unsigned long long)st->walk_ins,
         (unsigned long long)st->walk_passed);
    line(emit, ctx, "swap lru active %zu inactive %zu cached %zu", sw->lru.len[LRU_ACTIVE],
         sw->lru.len[LRU_INACTIVE], sw->cache.n);
    line(emit, ctx, "swap free %zu watermarks min %zu low %zu high %zu",
         frame_free_count(sw->fp), sw->wm.min, sw->wm.low, sw->wm.high);
    line(emit, ctx, "swap io-cycles read %llu write %llu",
         (unsigned long long)a->st.read_cycles, (unsigned long long)a->st.write_cycles);
    const struct wb_stats *w = &sw->wb.st;
    line(emit, ctx, "swap writeback requests %llu pages %llu written %llu failed %llu waits %llu "
                    "full-waits %llu sync %llu peak %llu/%llu inflight %zu",
         (unsigned long long)w->requests, (unsigned long long)w->pages,
         (unsigned long long)w->written, (unsigned long long)w->failed,
         (unsigned long long)w->waits, (unsigned long long)w->full_waits,
         (unsigned long long)w->sync_fallback, (unsigned long long)w->peak_pages,
         (unsigned long long)w->peak_reqs, sw->wb.inflight);
}

/* ---- consistency ------------------------------------------------------------------ */

static bool check_fail(const char *what, uint64_t at)
{
    pv_err("swap_check: %s (%#llx)", what, (unsigned long long)at);
    return false;
}

static bool check_cached_frames(const struct swap *sw)
{
    const struct frame_pool *fp = sw->fp;
    size_t cached = 0;

    for (size_t i = 0; i < fp->nframes; i++) {
        const struct frame *f = &fp->desc[i];
        if ((f->flags & FRAME_LOCKED) && !wb_holds(sw, f))
            return check_fail("frame locked outside I/O", i);
        if (!(f->flags & FRAME_SWAPCACHE))
            continue;
        cached++;
        uint64_t s = f->swap_slot;
        if (!swap_area_in_use(&sw->area, s) || !(sw->area.slot[s].flags & SLOT_CACHED))
            return check_fail("cached frame's slot not in use / not flagged cached", s);
        if (swap_cache_peek(&sw->cache, s) != f)
            return check_fail("cached frame not found under its slot", s);
        gpa_t gpas[RECLAIM_MAX_MAPS];
        size_t n = frame_rmap_get(f, gpas, RECLAIM_MAX_MAPS);
        for (size_t k = 0; k < n && k < RECLAIM_MAX_MAPS; k++) {
            struct s2_info e;
            s2pt_lookup(&sw->mm->s2, gpas[k], &e);
            if (e.state != S2_PRESENT || !(e.rights & ACC_W))
                continue;
            /* Writable only as mm_swapped_rights allows: the one mapping
             * of a slot no entry names, its writes told by the dirty bit. */
            if (n != 1 || sw->area.slot[s].count != 0 || !mm_tracks_accessed(sw->mm))
                return check_fail("cached frame mapped writable but not exclusive", gpas[k]);
        }
    }
    if (cached != sw->cache.n)
        return check_fail("cached frames differ from the cache's count", cached);
    return true;
}

static bool check_entries(const struct swap *sw)
{
    const struct swap_area *a = &sw->area;
    const struct region_set *rs = &sw->mm->regions;
    uint64_t entries = 0, counts = 0;

    for (const struct list_node *n = rs->list.next; n != &rs->list; n = n->next) {
        const struct region *r = container_of(n, struct region, link);
        for (gpa_t g = r->start; g < r->end;) {
            struct s2_info e;
            s2pt_lookup(&sw->mm->s2, g, &e);
            uint64_t span = e.state == S2_PRESENT ? e.size
                            : e.state == S2_NONE  ? s2_level_size(e.level)
                                                  : PAGE_SIZE;
            if (e.state == S2_SWAP) {
                uint64_t s = swp_offset(e.swap);
                if (swp_type(e.swap) != a->type || !swap_area_in_use(a, s) ||
                    a->slot[s].count == 0)
                    return check_fail("swap entry names a slot not in use", g);
                entries++;
            }
            g = ALIGN_DOWN(g, span) + span;
        }
    }
    for (uint64_t s = 0; s < a->npages; s++) {
        counts += a->slot[s].count;
        if ((a->slot[s].flags & SLOT_CACHED) && !swap_cache_peek(&sw->cache, s))
            return check_fail("slot flagged cached but not in the cache", s);
    }
    if (counts != entries)
        return check_fail("slot use counts differ from the swap entries", counts);
    return true;
}

bool swap_check(const struct swap *sw)
{
    if (!swap_area_check(&sw->area) || !swap_cache_check(&sw->cache) ||
        !lru_check(&sw->lru, sw->fp))
        return false;
    return check_cached_frames(sw) && check_entries(sw);
}

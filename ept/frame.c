/*
 * Frame pool (see ept/frame.h for the contract).
 *
 * Metadata layout (one area, from frame_pool_meta_size()):
 *
 *   [descriptors][rmap items][bitmap][block_used]
 *
 * frame_pool_init() puts it at the front of its one range, before frame 0.
 *
 * Allocation state is kept per 2 MiB block of host-physical addresses. The
 * bitmap is indexed by "slot": each segment (host range) owns the slots of
 * the 2 MiB-aligned span that contains it, and the segments' spans follow
 * one another in slot space, so block b owns bitmap words [b * 8, b * 8 + 8)
 * and every block lies in exactly one segment. Frame i of segment s has
 * slot s->slot0 + (i - s->idx0). Slots that are not pool frames (the partial
 * blocks at both ends of each segment) are permanently marked allocated.
 * Hence:
 *   block_used[b] == PAGES_PER_2M  -> nothing free in b
 *   block_used[b] == 0             -> b is a whole free 2 MiB block
 * and the edge blocks, which can never serve frame_alloc_2m(), always count
 * as partly used, so single frames are taken from them first.
 *
 * frame_alloc() policy: fp->hint is the slot of the last single-frame
 * allocation. Its block first; then any partly used block (cyclic scan of
 * block_used from the hint's, skipped entirely when fp->npartial is 0);
 * only then a whole free block. A block found this way serves up to 511
 * following allocations, so the scans are amortised. Within a block the
 * bitmap words are looked at from the hint's word on (wrapping), so a run
 * of allocations finds its slot in the first word it looks at.
 *
 * Reverse-map items: a fixed pool of RMAP_ITEMS(nframes) = nframes / 4 + 64
 * items, carved here; their use is ept/frame_rmap.c.
 */
#include "ept/frame.h"

#include <string.h>

#include "vmm/lib/log.h"

#define RMAP_ITEMS(n) ((n) / 4 + 64)
#define BITS_PER_WORD 64u
#define WORDS_PER_BLOCK (PAGES_PER_2M / BITS_PER_WORD)
#define ALL_ONES UINT64_MAX
#define META_ALIGN 64u

/* ---- slot / block arithmetic ------------------------------------------- */

#define NO_FRAME ((size_t)-1)

/* Slot of descriptor idx (a pool frame). */
static size_t idx_slot(const struct frame_pool *fp, size_t idx)
{
    const struct frame_seg *s = fp->seg, *last = fp->seg + fp->nseg - 1;
    while (s < last && idx >= s->idx0 + s->n)
        s++;
    return s->slot0 + (idx - s->idx0);
}

/* Descriptor index of slot, or NO_FRAME for a slot that is not a frame. */
static size_t slot_idx(const struct frame_pool *fp, size_t slot)
{
    for (size_t i = 0; i < fp->nseg; i++) {
        const struct frame_seg *s = &fp->seg[i];
        if (slot < s->slot0)
            return NO_FRAME;
        if (slot - s->slot0 < s->n)
            return s->idx0 + (slot - s->slot0);
    }
    return NO_FRAME;
}

static size_t frame_index(const struct frame_pool *fp, const struct frame *f)
{
    return (size_t)(f - fp->desc);
}

static bool bit_test(const uint64_t *bm, size_t slot)
{
    return (bm[slot / BITS_PER_WORD] >> (slot % BITS_PER_WORD)) & 1u;
}

static void bit_clear(uint64_t *bm, size_t slot)
{
    bm[slot / BITS_PER_WORD] &= ~(1ull << (slot % BITS_PER_WORD));
}

static bool block_partial(uint16_t used)
{
    return used != 0 && used != PAGES_PER_2M;
}

/* Change block b's used count, keeping npartial in step. */
static inline void block_adjust(struct frame_pool *fp, size_t b, int delta)
{
    bool was = block_partial(fp->block_used[b]);
    fp->block_used[b] = (uint16_t)(fp->block_used[b] + delta);
    bool now = block_partial(fp->block_used[b]);
    if (was && !now)
        fp->npartial--;
    else if (!was && now)
        fp->npartial++;
}

static void desc_reset(struct frame *f)
{
    f->refcount = 0;
    f->flags = 0;
    f->mapcount = 0;
    f->pins = 0;
    f->rmap = 0;
    f->rmap_more = NULL;
    f->swap_slot = SWAP_SLOT_NONE;
    list_init(&f->lru);
}

/* ---- initialisation ----------------------------------------------------- */

struct layout {
    hpa_t desc, rmap, bitmap, block_used, end;
    size_t nblocks_max;
};

/* A segment of m frames spans at most m / 512 + 2 blocks (a partial one at
 * each end), so all of them together at most n / 512 + 2 * nranges. */
static void layout_for(hpa_t meta, size_t n, size_t nranges, struct layout *l)
{
    l->nblocks_max = n / PAGES_PER_2M + 2 * nranges;
    l->desc = ALIGN_UP(meta, META_ALIGN);
    l->rmap = ALIGN_UP(l->desc + n * sizeof(struct frame), META_ALIGN);
    l->bitmap = ALIGN_UP(l->rmap + RMAP_ITEMS(n) * sizeof(struct rmap_item),
                         META_ALIGN);
    l->block_used = l->bitmap + l->nblocks_max * WORDS_PER_BLOCK * sizeof(uint64_t);
    l->end = l->block_used + l->nblocks_max * sizeof(uint16_t);
}

size_t frame_pool_meta_size(size_t nframes, size_t nranges)
{
    struct layout l;
    layout_for(0, nframes, nranges, &l);
    return (size_t)l.end;
}

/* Sort a copy of the ranges by address, trim them to whole pages, drop
 * empty ones and merge neighbours; -PV_EINVAL on overlap. */
static int normalise(const struct hpa_range *in, size_t nin, struct hpa_range *out,
                     size_t *nout)
{
    size_t n = 0;
    for (size_t i = 0; i < nin; i++) {
        hpa_t b = ALIGN_UP(in[i].base, PAGE_SIZE);
        hpa_t e = in[i].base + in[i].size;
        if (e < in[i].base)
            return -PV_EINVAL;
        e = ALIGN_DOWN(e, PAGE_SIZE);
        if (e <= b)
            continue;
        size_t j = n++;
        for (; j > 0 && out[j - 1].base > b; j--)
            out[j] = out[j - 1];
        out[j] = (struct hpa_range){ b, e - b };
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && out[m - 1].base + out[m - 1].size > out[i].base)
            return -PV_EINVAL;
        if (m && out[m - 1].base + out[m - 1].size == out[i].base)
            out[m - 1].size += out[i].size;
        else
            out[m++] = out[i];
    }
    *nout = m;
    return PV_OK;
}

int frame_pool_init_ranges(struct frame_pool *fp, hpa_t meta, uint64_t meta_len,
                           const struct hpa_range *ranges, size_t nranges, size_t max_frames)
{
    memset(fp, 0, sizeof(*fp));
    struct hpa_range r[FRAME_RANGES_MAX];
    size_t nr;
    if (nranges > FRAME_RANGES_MAX || !IS_ALIGNED(meta, META_ALIGN) ||
        normalise(ranges, nranges, r, &nr) < 0 || nr == 0)
        return -PV_EINVAL;
    uint64_t pages = 0;
    for (size_t i = 0; i < nr; i++)
        pages += r[i].size >> PAGE_SHIFT;
    size_t n = pages < max_frames ? (size_t)pages : max_frames;
    struct layout l;
    layout_for(meta, n, nr, &l);
    if (n < 2 || l.end - meta > meta_len)
        return -PV_EINVAL;

    /* Segments in address order until n frames; slot spans follow on. */
    size_t idx = 0, blocks = 0;
    for (size_t i = 0; i < nr && idx < n; i++) {
        struct frame_seg *s = &fp->seg[fp->nseg++];
        size_t want = n - idx, have = (size_t)(r[i].size >> PAGE_SHIFT);
        size_t head = (size_t)((r[i].base & (HUGE_2M - 1)) >> PAGE_SHIFT);
        s->first = r[i].base;
        s->idx0 = idx;
        s->n = have < want ? have : want;
        s->slot0 = blocks * PAGES_PER_2M + head;
        blocks += (head + s->n + PAGES_PER_2M - 1) / PAGES_PER_2M;
        idx += s->n;
    }
    fp->base = r[0].base;
    fp->end = r[nr - 1].base + r[nr - 1].size;
    fp->first = fp->seg[0].first;
    fp->nframes = n;
    fp->nblocks = blocks;
    fp->desc = hpa_va(l.desc);
    fp->bitmap = hpa_va(l.bitmap);
    fp->block_used = hpa_va(l.block_used);

    for (size_t i = 0; i < n; i++)
        desc_reset(&fp->desc[i]);

    fp->rmap_cap = RMAP_ITEMS(n);
    struct rmap_item *items = hpa_va(l.rmap);
    for (size_t i = 0; i < fp->rmap_cap; i++) {
        items[i].gpa = 0;
        items[i].next = i + 1 < fp->rmap_cap ? &items[i + 1] : NULL;
    }
    fp->rmap_free = items;

    /* Every slot starts allocated; pool frames are then freed. */
    memset(fp->bitmap, 0xff, blocks * WORDS_PER_BLOCK * sizeof(uint64_t));
    for (size_t b = 0; b < blocks; b++)
        fp->block_used[b] = PAGES_PER_2M;
    for (size_t k = 0; k < fp->nseg; k++) {
        const struct frame_seg *s = &fp->seg[k];
        for (size_t i = 0; i < s->n; i++) {
            bit_clear(fp->bitmap, s->slot0 + i);
            block_adjust(fp, (s->slot0 + i) / PAGES_PER_2M, -1);
        }
    }
    fp->nfree = n;

    fp->zero = frame_alloc_zeroed(fp, FRAME_ZERO | FRAME_PINNED);
    fp->allocs = 0; /* count only allocations made by users of the pool */
    return fp->zero ? PV_OK : -PV_EINVAL;
}

int frame_pool_init(struct frame_pool *fp, hpa_t base, uint64_t size)
{
    return frame_pool_init_max(fp, base, size, SIZE_MAX);
}

/* Whether n frames fit in [meta, end) after their one-range metadata;
 * *first: where frame 0 goes. */
static bool carve_fits(hpa_t meta, hpa_t end, size_t n, hpa_t *first)
{
    *first = ALIGN_UP(meta + frame_pool_meta_size(n, 1), PAGE_SIZE);
    return *first <= end && (end - *first) / PAGE_SIZE >= n;
}

/* One range, metadata at its front: the largest n whose metadata plus n
 * page-aligned frames fit. */
int frame_pool_init_max(struct frame_pool *fp, hpa_t base, uint64_t size, size_t max_frames)
{
    memset(fp, 0, sizeof(*fp));
    if (size == 0 || base + size < base)
        return -PV_EINVAL;
    hpa_t end = base + size, meta = ALIGN_UP(base, META_ALIGN), first;
    uint64_t per_frame = PAGE_SIZE + sizeof(struct frame) + sizeof(struct rmap_item) / 4 + 1;
    size_t n = (size_t)(size / per_frame);
    while (carve_fits(meta, end, n + 1, &first))
        n++;
    while (n > 0 && !carve_fits(meta, end, n, &first))
        n--;
    if (n > max_frames)
        n = max_frames;
    if (n < 2 || meta >= end)
        return -PV_EINVAL;
    carve_fits(meta, end, n, &first);
    struct hpa_range r = { first, (uint64_t)n * PAGE_SIZE };
    int rc = frame_pool_init_ranges(fp, meta, first - meta, &r, 1, n);
    fp->base = base;
    fp->end = end;
    return rc;
}

/* ---- allocation --------------------------------------------------------- */

static size_t hint_block(const struct frame_pool *fp)
{
    return fp->hint / PAGES_PER_2M;
}

/* Take a free slot of block b (which must have one), looking from word
 * first on; returns the slot. */
static size_t take_in_block(struct frame_pool *fp, size_t b, size_t first)
{
    uint64_t *w = &fp->bitmap[b * WORDS_PER_BLOCK];
    for (size_t k = 0; k < WORDS_PER_BLOCK; k++) {
        size_t i = (first + k) % WORDS_PER_BLOCK;
        if (w[i] != ALL_ONES) {
            size_t bit = (size_t)__builtin_ctzll(~w[i]);
            w[i] |= 1ull << bit;
            block_adjust(fp, b, 1);
            return b * PAGES_PER_2M + i * BITS_PER_WORD + bit;
        }
    }
    return NO_FRAME; /* unreachable while block_used is consistent */
}

static size_t find_block(const struct frame_pool *fp, bool partial)
{
    for (size_t k = 0; k < fp->nblocks; k++) {
        size_t b = (hint_block(fp) + k) % fp->nblocks;
        uint16_t used = fp->block_used[b];
        if (partial ? block_partial(used) : used == 0)
            return b;
    }
    return fp->nblocks;
}

static void note_alloc(struct frame_pool *fp, size_t count)
{
    fp->nfree -= count;
    size_t used = fp->nframes - fp->nfree;
    if (used > fp->peak_used)
        fp->peak_used = used;
}

struct frame *frame_alloc(struct frame_pool *fp, uint32_t flags)
{
    if (fp->nfree == 0) {
        fp->failed++;
        return NULL;
    }
    size_t b = hint_block(fp);
    size_t word = (fp->hint % PAGES_PER_2M) / BITS_PER_WORD;
    if (!block_partial(fp->block_used[b])) {
        size_t hb = b;
        b = fp->npartial ? find_block(fp, true) : fp->nblocks;
        if (b == fp->nblocks)
            b = fp->block_used[hb] == 0 ? hb : find_block(fp, false);
        word = 0;
    }
    size_t slot = b < fp->nblocks ? take_in_block(fp, b, word) : NO_FRAME;
    size_t idx = slot == NO_FRAME ? NO_FRAME : slot_idx(fp, slot);
    if (idx == NO_FRAME) {
        pv_err("frame: allocator state corrupt (block %zu)", b);
        fp->failed++;
        return NULL;
    }
    fp->hint = slot;
    note_alloc(fp, 1);
    fp->allocs++;
    struct frame *f = &fp->desc[idx];
    desc_reset(f);
    f->refcount = 1;
    f->flags = flags & ~(FRAME_HUGE_HEAD | FRAME_HUGE_TAIL);
    return f;
}

/* One memset of the whole frame: libc's on the host, the string
 * instructions of vmm/string.c in the hypervisor. */
struct frame *frame_alloc_zeroed(struct frame_pool *fp, uint32_t flags)
{
    struct frame *f = frame_alloc(fp, flags);
    if (f)
        memset(frame_va(fp, f), 0, PAGE_SIZE);
    return f;
}

struct frame *frame_alloc_2m(struct frame_pool *fp, uint32_t flags)
{
    size_t b = fp->nfree >= PAGES_PER_2M ? find_block(fp, false) : fp->nblocks;
    if (b == fp->nblocks) {
        fp->failed++;
        return NULL;
    }
    memset(&fp->bitmap[b * WORDS_PER_BLOCK], 0xff,
           WORDS_PER_BLOCK * sizeof(uint64_t));
    block_adjust(fp, b, (int)PAGES_PER_2M);
    note_alloc(fp, PAGES_PER_2M);
    fp->allocs_2m++;
    /* a whole free block lies in one segment: all its slots are frames */
    size_t idx = slot_idx(fp, b * PAGES_PER_2M);
    struct frame *head = &fp->desc[idx];
    for (size_t i = 0; i < PAGES_PER_2M; i++) {
        desc_reset(&head[i]);
        head[i].flags = FRAME_HUGE_TAIL;
    }
    head->refcount = 1;
    head->flags = (flags & ~FRAME_HUGE_TAIL) | FRAME_HUGE_HEAD;
    return head;
}

/* ---- reference counting ------------------------------------------------- */

void frame_get(struct frame *f) { f->refcount++; }

static void free_slots(struct frame_pool *fp, size_t idx, size_t count)
{
    size_t slot = idx_slot(fp, idx);
    for (size_t i = 0; i < count; i++) {
        bit_clear(fp->bitmap, slot + i);
        desc_reset(&fp->desc[idx + i]);
    }
    /* count is 1 or a whole block: one block either way */
    block_adjust(fp, slot / PAGES_PER_2M, -(int)count);
    fp->nfree += count;
    fp->frees++;
}

bool frame_put(struct frame_pool *fp, struct frame *f)
{
    /* A tail carries no reference of its own: the block's head does. */
    if (f->flags & FRAME_HUGE_TAIL)
        f = frame_head(fp, f);
    if (f->refcount == 0) {
        pv_err("frame: put of free frame %#llx",
               (unsigned long long)frame_hpa(fp, f));
        return false;
    }
    if (f->flags & FRAME_ZERO) {
        if (f->refcount > 1)
            f->refcount--;
        return false;
    }
    if (--f->refcount > 0)
        return false;
    if (fp->on_free)
        fp->on_free(fp, f, fp->on_free_ctx);
    frame_rmap_release(fp, f);
    free_slots(fp, frame_index(fp, f),
               (f->flags & FRAME_HUGE_HEAD) ? PAGES_PER_2M : 1);
    return true;
}

void frame_split_2m(struct frame_pool *fp, struct frame *head)
{
    if (!(head->flags & FRAME_HUGE_HEAD))
        return;
    /* Tails inherit what describes the data, not list/cache membership. */
    uint32_t inherit = head->flags & ~(FRAME_HUGE_HEAD | FRAME_HUGE_TAIL |
                                       FRAME_LRU | FRAME_ACTIVE |
                                       FRAME_SWAPCACHE | FRAME_LOCKED);
    gpa_t gpas[8];
    size_t ng = frame_rmap_get(head, gpas, 8);
    if (ng > 8) {
        pv_warn("frame: split of %#llx mapped at %zu gpas keeps 8",
                (unsigned long long)frame_hpa(fp, head), ng);
        ng = 8;
    }
    head->flags &= ~FRAME_HUGE_HEAD;
    for (size_t i = 1; i < PAGES_PER_2M; i++) {
        struct frame *t = &head[i];
        desc_reset(t);
        t->flags = inherit;
        t->refcount = head->refcount;
        for (size_t g = 0; g < ng; g++) {
            if (frame_rmap_add(fp, t, gpas[g] + i * PAGE_SIZE) != PV_OK)
                pv_err("frame: split: out of rmap items");
        }
    }
}

/* ---- addresses ---------------------------------------------------------- */

struct frame *frame_head(const struct frame_pool *fp, struct frame *f)
{
    if (!(f->flags & FRAME_HUGE_TAIL))
        return f;
    struct frame *h = frame_of(fp, ALIGN_DOWN(frame_hpa(fp, f), HUGE_2M));
    return h ? h : f;
}

size_t frame_free_count(const struct frame_pool *fp) { return fp->nfree; }
size_t frame_used_count(const struct frame_pool *fp)
{
    return fp->nframes - fp->nfree;
}

/* ---- consistency -------------------------------------------------------- */

static unsigned popcount64(uint64_t w)
{
    /* no __builtin_popcountll: without -mpopcnt it calls into libgcc */
    unsigned n = 0;
    while (w) {
        w &= w - 1;
        n++;
    }
    return n;
}

static bool check_fail(const char *what, size_t at)
{
    pv_err("frame_pool_check: %s (at %zu)", what, at);
    return false;
}

bool frame_pool_check(const struct frame_pool *fp)
{
    size_t npartial = 0, nfree = 0, chained = 0;
    for (size_t b = 0; b < fp->nblocks; b++) {
        unsigned used = 0;
        for (size_t i = 0; i < WORDS_PER_BLOCK; i++)
            used += popcount64(fp->bitmap[b * WORDS_PER_BLOCK + i]);
        if (used != fp->block_used[b])
            return check_fail("block_used differs from bitmap", b);
        npartial += block_partial(fp->block_used[b]);
    }
    if (npartial != fp->npartial)
        return check_fail("npartial", npartial);
    for (size_t s = 0; s < fp->nblocks * PAGES_PER_2M; s++)
        if (slot_idx(fp, s) == NO_FRAME && !bit_test(fp->bitmap, s))
            return check_fail("slot outside the pool marked free", s);
    for (size_t i = 0; i < fp->nframes; i++) {
        const struct frame *f = &fp->desc[i];
        bool alloc = bit_test(fp->bitmap, idx_slot(fp, i));
        if (!alloc) {
            nfree++;
            if (f->refcount || f->flags || f->mapcount || f->rmap_more)
                return check_fail("free frame with state", i);
            continue;
        }
        if (f->flags & FRAME_HUGE_TAIL) {
            const struct frame *h = frame_head(fp, (struct frame *)f);
            if (h == f || !(h->flags & FRAME_HUGE_HEAD) || f->refcount ||
                f->mapcount)
                return check_fail("bad huge tail", i);
            continue;
        }
        if (f->refcount == 0)
            return check_fail("allocated frame with refcount 0", i);
        if ((f->flags & FRAME_HUGE_HEAD) &&
            !IS_ALIGNED(frame_hpa(fp, f), HUGE_2M))
            return check_fail("unaligned huge head", i);
        size_t chain = 0;
        for (const struct rmap_item *it = f->rmap_more; it; it = it->next)
            if (++chain > fp->rmap_cap)
                return check_fail("rmap chain loops", i);
        if (!(f->flags & FRAME_TABLE) &&
            (f->mapcount ? chain != f->mapcount - 1 : chain != 0))
            return check_fail("mapcount differs from rmap", i);
        chained += chain;
    }
    if (nfree != fp->nfree)
        return check_fail("nfree differs from bitmap", nfree);
    if (chained != fp->rmap_used)
        return check_fail("rmap_used differs from chains", chained);
    size_t nitems = 0;
    for (const struct rmap_item *it = fp->rmap_free; it; it = it->next)
        if (++nitems > fp->rmap_cap)
            return check_fail("rmap free list loops", nitems);
    if (nitems + fp->rmap_used != fp->rmap_cap)
        return check_fail("rmap items lost", nitems);
    if (!fp->zero || !(fp->zero->flags & FRAME_ZERO) || fp->zero->refcount == 0)
        return check_fail("zero frame", 0);
    if (fp->nframes - fp->nfree > fp->peak_used)
        return check_fail("peak_used below used", fp->peak_used);
    return true;
}

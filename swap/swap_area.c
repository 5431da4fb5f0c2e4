/*
 * Swap slot allocator, per-slot checksums and batched slot I/O (see
 * swap_area.h for the contracts).
 *
 * Metadata layout (caller's memory):
 *   [struct swap_slot x npages][cl_free x nclusters][cl_good x nclusters]
 *
 * Cluster search cost: the round-robin search for a new cluster is linear
 * in the number of clusters, paid once per cluster filled (every
 * SWAP_CLUSTER_SLOTS allocations while wholly free clusters last). A
 * fragmented area (no wholly free cluster) can pay it more often; nwhole
 * lets the first pass be skipped when it cannot succeed.
 */
#include "swap/swap_area.h"

#include "vmm/lib/cycles.h"

#include <string.h>

#include "vmm/lib/log.h"

#define META_ALIGN 8u
#define CSUM_LANES 4u                       /* independent multiply chains */
#define CSUM_MUL 0x9e3779b97f4a7c15ull      /* odd: x -> x * CSUM_MUL is a bijection */
#define FMIX64_C1 0xff51afd7ed558ccdull
#define FMIX64_C2 0xc4ceb9fe1a85ec53ull
#define FMIX64_SHIFT 33
#define HALF_SHIFT 32

static uint64_t nclusters_for(uint64_t npages)
{
    return (npages + SWAP_CLUSTER_SLOTS - 1) / SWAP_CLUSTER_SLOTS;
}

size_t swap_area_meta_size(uint64_t npages)
{
    uint64_t nc = nclusters_for(npages);
    return (size_t)ALIGN_UP(npages * sizeof(struct swap_slot) + 2 * nc * sizeof(uint16_t),
                            META_ALIGN);
}

/* ---- per-cluster accounting ---------------------------------------------- */

static uint64_t cluster_of(uint64_t slot) { return slot / SWAP_CLUSTER_SLOTS; }

static bool wholly_free(const struct swap_area *a, uint64_t c)
{
    return a->cl_good[c] != 0 && a->cl_free[c] == a->cl_good[c];
}

/* Change cluster c's counts, keeping nwhole (wholly free clusters) in step. */
static void cl_adjust(struct swap_area *a, uint64_t c, int dfree, int dgood)
{
    bool was = wholly_free(a, c);
    a->cl_free[c] = (uint16_t)(a->cl_free[c] + dfree);
    a->cl_good[c] = (uint16_t)(a->cl_good[c] + dgood);
    bool now = wholly_free(a, c);
    if (was && !now)
        a->nwhole--;
    else if (!was && now)
        a->nwhole++;
}

static void slot_release(struct swap_area *a, uint64_t s)
{
    struct swap_slot *sl = &a->slot[s];
    sl->state = SLOT_FREE;
    sl->flags = 0;
    sl->count = 0;
    sl->csum = 0;
    cl_adjust(a, cluster_of(s), 1, 0);
    a->used--;
    a->st.frees++;
}

/* ---- init ------------------------------------------------------------------ */

int swap_area_init(struct swap_area *a, struct blkdev *dev, unsigned type,
                   const struct swap_header_info *info, void *meta, size_t meta_len)
{
    memset(a, 0, sizeof(*a));
    a->type = type;
    if (!dev)
        return 0; /* no slots: every allocation fails, nothing to read */
    uint64_t npages = (uint64_t)info->last_page + 1;
    if (!meta || ((uintptr_t)meta % META_ALIGN) != 0 ||
        meta_len < swap_area_meta_size(npages) || dev->sector_size == 0 ||
        PAGE_SIZE % dev->sector_size != 0)
        return -PV_EINVAL;
    a->dev = dev;
    a->npages = npages;
    a->nclusters = nclusters_for(npages);
    a->sectors_per_page = (uint32_t)(PAGE_SIZE / dev->sector_size);
    a->slot = meta;
    a->cl_free = (uint16_t *)(a->slot + npages);
    a->cl_good = a->cl_free + a->nclusters;
    memset(a->slot, 0, npages * sizeof(struct swap_slot));
    a->slot[0].state = SLOT_BAD; /* the header */
    for (uint32_t i = 0; i < info->nr_badpages; i++) {
        uint32_t b = swap_header_badpage(info, i);
        if (b == 0 || b >= npages || a->slot[b].state == SLOT_BAD)
            continue;
        a->slot[b].state = SLOT_BAD;
        a->bad++;
    }
    for (uint64_t c = 0; c < a->nclusters; c++) {
        uint64_t lo = c * SWAP_CLUSTER_SLOTS, hi = lo + SWAP_CLUSTER_SLOTS;
        if (hi > npages)
            hi = npages;
        uint16_t good = 0;
        for (uint64_t s = lo; s < hi; s++)
            good += a->slot[s].state != SLOT_BAD;
        a->cl_good[c] = a->cl_free[c] = good;
        a->nwhole += good != 0;
    }
    a->nslots = npages - 1 - a->bad;
    a->cur = a->nclusters;
    return 0;
}

/* ---- allocation ------------------------------------------------------------ */

/* The first free slot of cluster c at or above from. */
static bool take_from(struct swap_area *a, uint64_t c, uint64_t from, uint64_t *slot)
{
    uint64_t end = (c + 1) * SWAP_CLUSTER_SLOTS;
    if (end > a->npages)
        end = a->npages;
    for (uint64_t s = from; s < end; s++) {
        struct swap_slot *sl = &a->slot[s];
        if (sl->state != SLOT_FREE)
            continue;
        sl->state = SLOT_USED;
        sl->count = 0;
        sl->flags = SLOT_CACHED;
        cl_adjust(a, c, -1, 0);
        a->used++;
        a->next = s + 1;
        *slot = s;
        return true;
    }
    return false;
}

/* Next cluster to fill: wholly free first, else any with a free slot. */
static uint64_t find_cluster(struct swap_area *a)
{
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0 && a->nwhole == 0)
            continue;
        for (uint64_t k = 0; k < a->nclusters; k++) {
            uint64_t c = (a->scan + k) % a->nclusters;
            if (pass == 0 ? wholly_free(a, c) : a->cl_free[c] != 0) {
                a->scan = c + 1;
                return c;
            }
        }
    }
    return a->nclusters;
}

int swap_area_alloc(struct swap_area *a, uint64_t *slot)
{
    if (a->used >= a->nslots) {
        a->st.alloc_failed++;
        return -PV_ENOSPC;
    }
    if (a->cur < a->nclusters && take_from(a, a->cur, a->next, slot)) {
        a->st.allocs++;
        return 0;
    }
    a->cur = find_cluster(a);
    if (a->cur == a->nclusters || !take_from(a, a->cur, a->cur * SWAP_CLUSTER_SLOTS, slot)) {
        pv_err("swap: allocator counts say %llu of %llu slots used but none is free",
               (unsigned long long)a->used, (unsigned long long)a->nslots);
        a->cur = a->nclusters;
        a->st.alloc_failed++;
        return -PV_ENOSPC;
    }
    a->st.clusters_taken++;
    a->st.allocs++;
    return 0;
}

/* ---- use counts -------------------------------------------------------------- */

bool swap_area_in_use(const struct swap_area *a, uint64_t slot)
{
    return slot > 0 && slot < a->npages && a->slot[slot].state == SLOT_USED;
}

static void maybe_release(struct swap_area *a, uint64_t slot)
{
    struct swap_slot *sl = &a->slot[slot];
    if (sl->state == SLOT_USED && sl->count == 0 && !(sl->flags & SLOT_CACHED))
        slot_release(a, slot);
}

int swap_area_dup(struct swap_area *a, uint64_t slot)
{
    if (!swap_area_in_use(a, slot))
        return -PV_EINVAL;
    if (a->slot[slot].count == SWAP_SLOT_COUNT_MAX)
        return -PV_ENOSPC;
    a->slot[slot].count++;
    return 0;
}

void swap_area_put(struct swap_area *a, uint64_t slot)
{
    if (!swap_area_in_use(a, slot) || a->slot[slot].count == 0) {
        pv_err("swap: put of slot %llu that no entry holds", (unsigned long long)slot);
        return;
    }
    a->slot[slot].count--;
    maybe_release(a, slot);
}

void swap_area_mark_exec(struct swap_area *a, uint64_t slot)
{
    if (swap_area_in_use(a, slot))
        a->slot[slot].flags |= SLOT_EXEC;
}

bool swap_area_exec(const struct swap_area *a, uint64_t slot)
{
    return swap_area_in_use(a, slot) && (a->slot[slot].flags & SLOT_EXEC);
}

void swap_area_set_cached(struct swap_area *a, uint64_t slot, bool cached)
{
    if (!swap_area_in_use(a, slot))
        return; /* bad since the write failed: nothing to keep */
    if (cached)
        a->slot[slot].flags |= SLOT_CACHED;
    else
        a->slot[slot].flags &= (uint8_t)~SLOT_CACHED;
    maybe_release(a, slot);
}

void swap_area_mark_bad(struct swap_area *a, uint64_t slot)
{
    if (slot == 0 || slot >= a->npages || a->slot[slot].state == SLOT_BAD)
        return;
    struct swap_slot *sl = &a->slot[slot];
    uint64_t c = cluster_of(slot);
    if (sl->state == SLOT_USED)
        a->used--;
    cl_adjust(a, c, sl->state == SLOT_USED ? 0 : -1, -1);
    sl->state = SLOT_BAD;
    sl->count = 0;
    sl->flags = 0;
    a->bad++;
    a->nslots--;
}

/* ---- checksum ---------------------------------------------------------------- */

static uint64_t fmix64(uint64_t h)
{
    h ^= h >> FMIX64_SHIFT;
    h *= FMIX64_C1;
    h ^= h >> FMIX64_SHIFT;
    h *= FMIX64_C2;
    h ^= h >> FMIX64_SHIFT;
    return h;
}

/* Speed matters: every page swapped out and in is summed, and under an
 * emulator (TCG) each instruction is expensive. 64-bit words in four
 * independent chains take less than half the instructions of a 32-bit
 * FNV over the page and let a real CPU overlap the multiplies. */
uint32_t swap_csum(uint64_t slot, const void *page)
{
    const uint8_t *p = page;
    uint64_t lane[CSUM_LANES];

    for (unsigned k = 0; k < CSUM_LANES; k++)
        lane[k] = (slot + k + 1) * CSUM_MUL;
    for (size_t i = 0; i < PAGE_SIZE; i += CSUM_LANES * sizeof(uint64_t)) {
        for (unsigned k = 0; k < CSUM_LANES; k++) {
            uint64_t w;
            memcpy(&w, p + i + k * sizeof(w), sizeof(w));
            lane[k] = (lane[k] ^ w) * CSUM_MUL;
        }
    }
    uint64_t h = lane[0];
    for (unsigned k = 1; k < CSUM_LANES; k++)
        h = (h ^ lane[k]) * CSUM_MUL;
    h = fmix64(h);
    return (uint32_t)(h ^ (h >> HALF_SHIFT));
}

/* ---- batched I/O --------------------------------------------------------------- */

static void sort_by_slot(struct swap_io *io, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        struct swap_io x = io[i];
        unsigned j = i;
        while (j > 0 && io[j - 1].slot > x.slot) {
            io[j] = io[j - 1];
            j--;
        }
        io[j] = x;
    }
}

/* Length of the run of consecutive slots starting at io[i]. */
static unsigned run_len(const struct swap_io *io, unsigned i, unsigned n)
{
    unsigned j = i + 1;
    while (j < n && j - i < BLK_MAX_SEGS && io[j].slot == io[j - 1].slot + 1)
        j++;
    return j - i;
}

static bool slot_addressable(const struct swap_area *a, uint64_t slot)
{
    return a->dev && slot > 0 && slot < a->npages;
}

static int transfer(struct swap_area *a, bool write, const struct swap_io *io,
                    unsigned len)
{
    struct blk_seg segs[BLK_MAX_SEGS];
    for (unsigned k = 0; k < len; k++) {
        if (!slot_addressable(a, io[k].slot))
            return -PV_EINVAL;
        segs[k].buf = io[k].buf;
        segs[k].len = (uint32_t)PAGE_SIZE;
    }
    if (write)
        a->st.write_requests++;
    else
        a->st.read_requests++;
    uint64_t t0 = rdtsc();
    int rc = a->dev->ops->rw(a->dev, write, io[0].slot * a->sectors_per_page, segs, len);
    /* the vCPU waits for every request: what asynchronous I/O could hide */
    *(write ? &a->st.write_cycles : &a->st.read_cycles) += rdtsc() - t0;
    return rc;
}

static void wrote(struct swap_area *a, struct swap_io *x, uint32_t csum)
{
    struct swap_slot *sl = &a->slot[x->slot];
    sl->csum = csum;
    sl->flags |= SLOT_WRITTEN;
    x->result = 0;
    a->st.pages_written++;
}

static void write_failed(struct swap_area *a, struct swap_io *x)
{
    x->result = -PV_EIO;
    a->st.write_errors++;
    pv_warn("swap: write of slot %llu on %s failed: slot marked bad",
            (unsigned long long)x->slot, a->dev ? a->dev->name : "(none)");
    swap_area_mark_bad(a, x->slot);
}

unsigned swap_area_write(struct swap_area *a, struct swap_io *io, unsigned n)
{
    unsigned ok = 0;
    uint32_t sums[BLK_MAX_SEGS];

    sort_by_slot(io, n);
    for (unsigned i = 0; i < n;) {
        unsigned len = run_len(io, i, n);
        /* The sum is of the bytes handed to the device, taken before. */
        for (unsigned k = 0; k < len; k++)
            sums[k] = swap_csum(io[i + k].slot, io[i + k].buf);
        if (transfer(a, true, &io[i], len) == 0) {
            for (unsigned k = 0; k < len; k++)
                wrote(a, &io[i + k], sums[k]);
            ok += len;
        } else {
            for (unsigned k = 0; k < len; k++) {
                if (len > 1 && transfer(a, true, &io[i + k], 1) == 0) {
                    wrote(a, &io[i + k], sums[k]);
                    ok++;
                } else {
                    write_failed(a, &io[i + k]);
                }
            }
        }
        i += len;
    }
    return ok;
}

bool swap_area_async(const struct swap_area *a)
{
    return a->dev && a->dev->ops->submit && a->dev->ops->poll;
}

int swap_area_write_submit(struct swap_area *a, const struct swap_io *io, unsigned n,
                           uint64_t tag)
{
    struct blk_seg segs[BLK_MAX_SEGS];
    if (!swap_area_async(a) || n == 0 || n > BLK_MAX_SEGS)
        return -PV_EINVAL;
    for (unsigned k = 0; k < n; k++) {
        if (!slot_addressable(a, io[k].slot) || (k && io[k].slot != io[k - 1].slot + 1))
            return -PV_EINVAL;
        segs[k].buf = io[k].buf;
        segs[k].len = (uint32_t)PAGE_SIZE;
    }
    int rc = a->dev->ops->submit(a->dev, true, io[0].slot * a->sectors_per_page, segs, n, tag);
    if (rc < 0)
        return rc;
    /* The sum is of the bytes handed to the device; valid once written. */
    for (unsigned k = 0; k < n; k++)
        a->slot[io[k].slot].csum = swap_csum(io[k].slot, io[k].buf);
    a->st.write_requests++;
    a->st.async_writes++;
    return 0;
}

unsigned swap_area_poll(struct swap_area *a, struct blk_done *done, unsigned max, bool wait)
{
    if (!swap_area_async(a))
        return 0;
    uint64_t t0 = wait ? rdtsc() : 0;
    unsigned n = a->dev->ops->poll(a->dev, done, max, wait);
    if (wait)
        a->st.write_cycles += rdtsc() - t0; /* the vCPU waited for a write */
    return n;
}

void swap_area_write_done(struct swap_area *a, struct swap_io *io, unsigned n, int result)
{
    for (unsigned k = 0; k < n; k++) {
        struct swap_io *x = &io[k];
        if (result == 0) {
            wrote(a, x, a->slot[x->slot].csum);
            continue;
        }
        uint32_t sum = swap_csum(x->slot, x->buf);
        if (transfer(a, true, x, 1) == 0) {
            wrote(a, x, sum);
            continue;
        }
        x->result = -PV_EIO; /* logged by the caller when it marks the slot bad */
        a->st.write_errors++;
    }
}

static int verify(struct swap_area *a, struct swap_io *x)
{
    const struct swap_slot *sl = &a->slot[x->slot];
    if (sl->state != SLOT_USED || !(sl->flags & SLOT_WRITTEN) ||
        swap_csum(x->slot, x->buf) != sl->csum) {
        a->st.csum_errors++;
        return -PV_ECORRUPT;
    }
    a->st.pages_read++;
    return 0;
}

unsigned swap_area_read(struct swap_area *a, struct swap_io *io, unsigned n)
{
    unsigned ok = 0;

    sort_by_slot(io, n);
    for (unsigned i = 0; i < n;) {
        unsigned len = run_len(io, i, n);
        bool whole = transfer(a, false, &io[i], len) == 0;
        for (unsigned k = 0; k < len; k++) {
            struct swap_io *x = &io[i + k];
            if (!whole && !(len > 1 && transfer(a, false, x, 1) == 0)) {
                x->result = -PV_EIO;
                a->st.read_errors++;
                continue;
            }
            x->result = verify(a, x);
            ok += x->result == 0;
        }
        i += len;
    }
    return ok;
}

/* ---- consistency ---------------------------------------------------------------- */

bool swap_area_check(const struct swap_area *a)
{
    if (!a->dev)
        return a->used == 0 && a->nslots == 0;
    uint64_t used = 0, bad = 0;
    for (uint64_t c = 0; c < a->nclusters; c++) {
        uint64_t lo = c * SWAP_CLUSTER_SLOTS, hi = lo + SWAP_CLUSTER_SLOTS;
        uint16_t fr = 0, good = 0;
        if (hi > a->npages)
            hi = a->npages;
        for (uint64_t s = lo; s < hi; s++) {
            const struct swap_slot *sl = &a->slot[s];
            good += sl->state != SLOT_BAD;
            fr += sl->state == SLOT_FREE;
            used += sl->state == SLOT_USED;
            bad += sl->state == SLOT_BAD && s != 0;
            if (sl->state == SLOT_USED && sl->count == 0 && !(sl->flags & SLOT_CACHED)) {
                pv_err("swap_area_check: slot %llu used by nobody", (unsigned long long)s);
                return false;
            }
            if (sl->state != SLOT_USED && (sl->count || sl->flags)) {
                pv_err("swap_area_check: slot %llu not used but has state",
                       (unsigned long long)s);
                return false;
            }
        }
        if (fr != a->cl_free[c] || good != a->cl_good[c]) {
            pv_err("swap_area_check: cluster %llu counts", (unsigned long long)c);
            return false;
        }
    }
    uint64_t whole = 0;
    for (uint64_t c = 0; c < a->nclusters; c++)
        whole += wholly_free(a, c);
    if (whole != a->nwhole) {
        pv_err("swap_area_check: %llu wholly free clusters, counted %llu",
               (unsigned long long)whole, (unsigned long long)a->nwhole);
        return false;
    }
    if (a->slot[0].state != SLOT_BAD || used != a->used || bad != a->bad ||
        a->nslots != a->npages - 1 - a->bad) {
        pv_err("swap_area_check: totals (used %llu/%llu bad %llu/%llu)",
               (unsigned long long)used, (unsigned long long)a->used,
               (unsigned long long)bad, (unsigned long long)a->bad);
        return false;
    }
    return true;
}

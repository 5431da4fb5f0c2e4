/*
 * The simulated guest of sim_swap: a CPU with a TLB (filled by walking
 * stage-2, which sets the leaf's accessed bit as EPT/NPT hardware does when
 * A/D tracking is on), the access traces, the reference model, and the
 * device failures injected under the swap layer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim_swap.h"

#define READ_PCT 70u
#define FILL_PER_MILLE 8u       /* whole-page fills (a few values: zero pages, twins) */
#define STRIDE_PAGES 3u
#define WORDS_PER_PAGE_VISIT 4u /* sequential / strided: accesses per page */
#define HOT_PCT 90u
#define DISCARD_EVERY 5000u
#define MERGE_EVERY 3000u
#define CORRUPT_EVERY 1500u
#define SWITCH_EVERY 20000u
#define INJECT_READ_ONE_IN 150u
#define INJECT_WRITE_ONE_IN 100u

static const uint64_t fill_values[] = { 0, 0x0101010101010101ull, 0xdeadbeefcafef00dull,
                                        0xffffffffffffffffull };
#define NFILL (sizeof(fill_values) / sizeof(fill_values[0]))

/* ---- layout ----------------------------------------------------------------------- */

static const struct {
    gpa_t start, end;
} ranges[] = {
    { 0, RAM_LOW_END },
    { KERNEL_START, KERNEL_END },
    { RAM_START, RAM_END },
};

gpa_t ssim_page_gpa(uint64_t idx)
{
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        uint64_t n = (ranges[i].end - ranges[i].start) / PAGE_SIZE;
        if (idx < n)
            return ranges[i].start + idx * PAGE_SIZE;
        idx -= n;
    }
    return ranges[0].start; /* unreachable for idx < GUEST_PAGES */
}

void ssim_guest_init(struct ssim *s)
{
    s->ref = calloc(1, GUEST_END);
    s->init = calloc(1, GUEST_END);
    s->image = aligned_alloc(PAGE_SIZE, ALIGN_UP(IMAGE_BYTES, PAGE_SIZE));
    if (!s->ref || !s->init || !s->image) {
        fprintf(stderr, "sim_swap: out of host memory\n");
        exit(2);
    }
    uint64_t x = s->seed | 1;
    memset(s->image, 0xee, ALIGN_UP(IMAGE_BYTES, PAGE_SIZE)); /* never visible */
    for (uint64_t i = 0; i < IMAGE_BYTES; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s->image[i] = (uint8_t)x;
    }
    memcpy(s->init + KERNEL_START, s->image, IMAGE_BYTES);
    memcpy(s->ref, s->init, GUEST_END);
    if (mm_add_anon(&s->mm, 0, RAM_LOW_END, "ram-low") ||
        mm_add_image(&s->mm, KERNEL_START, KERNEL_END, va_hpa(s->image), 0, IMAGE_BYTES,
                     "kernel") ||
        mm_add_anon(&s->mm, RAM_START, RAM_END, "ram")) {
        fprintf(stderr, "sim_swap: cannot add the regions\n");
        exit(2);
    }
    for (size_t i = 0; i < sizeof(s->hot) / sizeof(s->hot[0]); i++)
        s->hot[i] = below(s, GUEST_PAGES);
}

/* ---- device failures -------------------------------------------------------------- */

static bool overlaps(uint64_t slot, uint64_t sector, uint64_t n)
{
    uint64_t lo = slot * (PAGE_SIZE / BLK_FILE_SECTOR);
    return sector < lo + PAGE_SIZE / BLK_FILE_SECTOR && sector + n > lo;
}

bool ssim_inject(void *ctx, bool write, uint64_t sector, uint64_t n)
{
    struct ssim *s = ctx;
    if (!s->cfg.faults)
        return false;
    if (write && below(s, INJECT_WRITE_ONE_IN) == 0) {
        s->inj_writes++;
        return true;
    }
    if (!write && below(s, INJECT_READ_ONE_IN) == 0) {
        s->inj_reads++;
        return true;
    }
    if (!write)
        return false;
    /* new data over a corrupted slot heals it */
    for (unsigned i = 0; i < s->ncorrupt;) {
        if (overlaps(s->corrupt[i].slot, sector, n))
            s->corrupt[i] = s->corrupt[--s->ncorrupt];
        else
            i++;
    }
    return false;
}

/* Flip a byte of some slot that holds data, behind the swap layer's back. */
static void corrupt_some_slot(struct ssim *s)
{
    const struct swap_area *a = &s->sw.area;
    if (s->ncorrupt == MAX_CORRUPT || a->npages < 2)
        return;
    uint64_t start = 1 + below(s, a->npages - 1);
    for (uint64_t k = 0; k < a->npages; k++) {
        uint64_t slot = 1 + (start + k) % (a->npages - 1);
        const struct swap_slot *sl = &a->slot[slot];
        if (sl->state != SLOT_USED || sl->count == 0 || !(sl->flags & SLOT_WRITTEN) ||
            (sl->flags & SLOT_CACHED))
            continue;
        struct corruption *c = &s->corrupt[s->ncorrupt++];
        c->slot = slot;
        c->offset = slot * PAGE_SIZE + below(s, PAGE_SIZE);
        c->mask = (uint8_t)(1u << below(s, 8));
        blk_file_corrupt(&s->blk, c->offset, c->mask);
        s->corruptions++;
        return;
    }
}

/* A reported checksum error must be one we caused: undo it. */
static void repair(struct ssim *s, uint64_t slot, gpa_t gpa)
{
    bool found = false;
    for (unsigned i = 0; i < s->ncorrupt;) {
        if (s->corrupt[i].slot == slot) {
            blk_file_corrupt(&s->blk, s->corrupt[i].offset, s->corrupt[i].mask);
            s->corrupt[i] = s->corrupt[--s->ncorrupt];
            found = true;
        } else {
            i++;
        }
    }
    if (!found)
        ssim_fail(s, gpa, "checksum error on slot %llu that nobody corrupted",
                  (unsigned long long)slot);
    s->repaired++;
}

/* ---- the CPU ------------------------------------------------------------------------ */

static struct tlb_entry *tlb_slot(struct ssim *s, gpa_t page)
{
    return &s->tlb[(page >> PAGE_SHIFT) % TLB_ENTRIES];
}

/* Walk stage-2 like the hardware: a usable leaf gets its accessed bit, and
 * on a write through a writable leaf its dirty bit. The entry remembers
 * whether the leaf was dirty: a write through an entry filled clean walks
 * again to set the bit (as a real TLB does), so a leaf whose dirty bit is
 * clear has never been written through. */
static bool walk(struct ssim *s, gpa_t page, bool write, struct tlb_entry *t)
{
    struct s2_info e;
    struct s2_slot sl;
    s2pt_lookup_slot(&s->mm.s2, page, &e, &sl);
    if (e.state != S2_PRESENT || e.rights == 0)
        return false;
    bool dirty = !s->mm.s2.use_ad || e.dirty;
    if (s->mm.s2.use_ad && sl.level == 1) {
        uint64_t *leaf = &((uint64_t *)hpa_va(sl.table))[sl.idx];
        *leaf |= s->mm.s2.fmt->accessed_bit;
        if (write && (e.rights & ACC_W)) {
            *leaf |= s->mm.s2.fmt->dirty_bit;
            dirty = true;
        }
    }
    *t = (struct tlb_entry){ page, e.hpa, e.rights, true, dirty };
    return true;
}

static void handle_error(struct ssim *s, gpa_t gpa, const struct fault_outcome *o)
{
    char msg[SWAP_ERR_LEN];
    swap_describe_error(&s->sw, gpa, o->err, o->swap, msg, sizeof(msg));
    if (!s->cfg.faults)
        ssim_fail(s, gpa, "fault error (err %d) without injected failures: %s", o->err, msg);
    if (o->err == -PV_EIO) {
        if (s->inj_reads == 0)
            ssim_fail(s, gpa, "read error reported but none injected");
        s->det_eio++;
    } else if (o->err == -PV_ECORRUPT) {
        repair(s, swp_offset(o->swap), gpa);
        s->det_corrupt++;
    } else {
        ssim_fail(s, gpa, "fault error %d: %s", o->err, msg);
    }
    char want[48];
    snprintf(want, sizeof(want), "gpa 0x%llx: slot %llu ", (unsigned long long)(gpa & PAGE_MASK),
             (unsigned long long)swp_offset(o->swap));
    if (!strstr(msg, want))
        ssim_fail(s, gpa, "error does not name gpa and slot: %s", msg);
}

/* Every eighth guest page holds code: its reads are instruction fetches,
 * so code tracking (learn_exec) marks those frames and reclaim keeps
 * them, through swap-outs and swap-ins like any page. Chosen by address,
 * not by the random stream, which the trace runs replay. */
static bool code_page(gpa_t page) { return ((page >> PAGE_SHIFT) & 7) == 3; }

/* One access inside one page (len bytes at gpa), as CPU + hypervisor do it. */
static void cpu_access(struct ssim *s, gpa_t gpa, size_t len, bool write, uint8_t *buf)
{
    gpa_t page = gpa & PAGE_MASK;
    uint32_t acc = write ? ACC_W : code_page(page) ? ACC_X : ACC_R;

    for (int tries = 0;; tries++) {
        struct tlb_entry *t = tlb_slot(s, page);
        if (!(t->valid && t->page == page) || (write && !t->dirty))
            walk(s, page, write, t);
        if (t->valid && t->page == page && (t->rights & acc) == acc) {
            uint8_t *p = (uint8_t *)hpa_va(t->hpa) + (gpa & (PAGE_SIZE - 1));
            if (write)
                memcpy(p, buf, len);
            else
                memcpy(buf, p, len);
            return;
        }
        if (tries == MAX_TRIES)
            ssim_fail(s, gpa, "no progress after %d faults", tries);
        if (t->page == page)
            t->valid = false; /* the violation drops the translation */
        struct gpa_fault f = { .gpa = gpa, .access = acc, .rip = s->n };
        struct fault_outcome o;
        mm_handle_fault(&s->mm, &f, &o);
        s->faults++;
        if (o.kind == FAULT_MAPPED || o.kind == FAULT_RETRY)
            continue;
        if (o.kind == FAULT_ERROR && o.res == RES_ERROR && o.err) {
            handle_error(s, gpa, &o);
            continue;
        }
        char why[200];
        swap_describe_oom(&s->sw, why, sizeof(why));
        ssim_fail(s, gpa, "fault outcome %d (%s): %s", o.kind, fault_res_name(o.res), why);
    }
}

static void do_read(struct ssim *s, gpa_t gpa, size_t len)
{
    uint8_t got[PAGE_SIZE];
    cpu_access(s, gpa, len, false, got);
    s->reads++;
    if (memcmp(got, s->ref + gpa, len) != 0)
        ssim_fail(s, gpa, "read of %zu bytes differs from the last write", len);
}

static void do_write(struct ssim *s, gpa_t gpa, const uint8_t *val, size_t len)
{
    uint8_t buf[PAGE_SIZE];
    memcpy(buf, val, len);
    cpu_access(s, gpa, len, true, buf);
    memcpy(s->ref + gpa, val, len);
    s->writes++;
}

/* ---- background work (fault runs) -------------------------------------------------- */

static void discard(struct ssim *s)
{
    uint64_t idx = below(s, GUEST_PAGES);
    gpa_t start = ssim_page_gpa(idx);
    const struct region *r = region_lookup(&s->mm.regions, start);
    uint64_t count = 1 + below(s, 64);
    if (start + count * PAGE_SIZE > r->end)
        count = (r->end - start) / PAGE_SIZE;
    if (mm_unmap_range(&s->mm, start, start + count * PAGE_SIZE) != 0)
        ssim_fail(s, start, "mm_unmap_range failed");
    memcpy(s->ref + start, s->init + start, count * PAGE_SIZE);
    for (unsigned i = 0; i < TLB_ENTRIES; i++)
        if (s->tlb[i].page >= start && s->tlb[i].page < start + count * PAGE_SIZE &&
            s->tlb[i].valid)
            ssim_fail(s, s->tlb[i].page, "unmap left a translation in the TLB");
    s->discards++;
}

/* Make a page a twin of another and merge them (same-page merging), so
 * shared frames get swapped out and in. */
static void merge_pass(struct ssim *s)
{
    uint64_t n = (RAM_END - RAM_START) / PAGE_SIZE;
    gpa_t a = RAM_START + below(s, n) * PAGE_SIZE;
    gpa_t b = RAM_START + below(s, n) * PAGE_SIZE;
    if (a == b)
        return;
    uint8_t buf[PAGE_SIZE];
    cpu_access(s, a, PAGE_SIZE, false, buf);
    if (memcmp(buf, s->ref + a, PAGE_SIZE) != 0)
        ssim_fail(s, a, "page read for merging differs from the reference");
    do_write(s, b, buf, PAGE_SIZE);
    int rc = mm_merge_pages(&s->mm, a, b);
    if (rc == 0)
        s->merges++;
    else if (rc == 1)
        ssim_fail(s, b, "twin pages compare different");
}

static void background(struct ssim *s)
{
    if (s->n % TICK_EVERY == 0)
        reclaim_tick(&s->sw);
    if (!s->cfg.faults)
        return;
    if (s->n % DISCARD_EVERY == 0)
        discard(s);
    if (s->n % MERGE_EVERY == 0)
        merge_pass(s);
    if (s->n % CORRUPT_EVERY == 0)
        corrupt_some_slot(s);
    if (s->n % SWITCH_EVERY == 0) {
        static const uint32_t pages[] = { 8, 1, 16, 4 };
        enum ra_policy p = (enum ra_policy)(s->switches % 3);
        if (swap_set_readahead(&s->sw, p, pages[s->switches % 4]) != 0)
            ssim_fail(s, 0, "swap_set_readahead refused");
        s->switches++;
    }
}

/* ---- traces ------------------------------------------------------------------------------ */

static uint64_t next_page(struct ssim *s, enum trace t)
{
    switch (t) {
    case T_SEQ:
        return (s->cursor++ / WORDS_PER_PAGE_VISIT) % GUEST_PAGES;
    case T_STRIDE: {
        /* every STRIDE_PAGES-th page; each sweep starts one page further */
        uint64_t v = s->cursor++ / WORDS_PER_PAGE_VISIT * STRIDE_PAGES;
        return (v + v / GUEST_PAGES) % GUEST_PAGES;
    }
    case T_HOTCOLD:
        if (below(s, 100) < HOT_PCT)
            return s->hot[below(s, sizeof(s->hot) / sizeof(s->hot[0]))];
        return below(s, GUEST_PAGES);
    default:
        return below(s, GUEST_PAGES);
    }
}

void ssim_step(struct ssim *s)
{
    enum trace t = s->cfg.trace;
    if (t == T_MIXED) /* phases of each trace */
        t = (enum trace)((s->n / 10000) % T_MIXED);
    gpa_t page = ssim_page_gpa(next_page(s, t));
    if (below(s, 1000) < FILL_PER_MILLE) {
        static uint8_t buf[PAGE_SIZE];
        uint64_t v = fill_values[below(s, NFILL)];
        for (size_t i = 0; i < PAGE_SIZE; i += 8)
            memcpy(buf + i, &v, 8);
        do_write(s, page, buf, PAGE_SIZE);
        s->fills++;
    } else {
        gpa_t g = page + below(s, PAGE_SIZE / 8) * 8;
        if (below(s, 100) < READ_PCT) {
            do_read(s, g, 8);
        } else {
            uint64_t v = rnd(s);
            do_write(s, g, (const uint8_t *)&v, 8);
        }
    }
    background(s);
}

/* ---- whole-guest check ------------------------------------------------------------------- */

static bool slot_corrupted(const struct ssim *s, uint64_t slot)
{
    for (unsigned i = 0; i < s->ncorrupt; i++)
        if (s->corrupt[i].slot == slot)
            return true;
    return false;
}

void ssim_full_check(struct ssim *s)
{
    s->checks++;
    if (!swap_check(&s->sw))
        ssim_fail(s, 0, "swap_check failed");
    if (!mm_check(&s->mm))
        ssim_fail(s, 0, "mm_check failed");
    for (uint64_t i = 0; i < GUEST_PAGES; i++) {
        gpa_t g = ssim_page_gpa(i);
        struct s2_info e;
        s2pt_lookup(&s->mm.s2, g, &e);
        const uint8_t *have;
        if (e.state == S2_PRESENT) {
            have = hpa_va(e.hpa);
        } else if (e.state == S2_SWAP) {
            uint64_t slot = swp_offset(e.swap);
            if (!(s->sw.area.slot[slot].flags & SLOT_WRITTEN)) {
                /* Its write is in flight (or failed and awaits restore):
                 * the only copy is the frame the swap cache holds. */
                struct frame *cf = swap_cache_peek(&s->sw.cache, slot);
                if (!cf || !(cf->flags & FRAME_LOCKED))
                    ssim_fail(s, g, "slot %llu is not written and no frame under write "
                              "holds its data", (unsigned long long)slot);
                have = frame_va(&s->fp, cf);
                if (memcmp(have, s->ref + g, PAGE_SIZE) != 0)
                    ssim_fail(s, g, "page under write differs from the reference");
                continue;
            }
            if (slot_corrupted(s, slot))
                continue; /* reported when read, checked by the unit tests */
            have = s->disk + slot * PAGE_SIZE;
            if (swap_csum(slot, have) != s->sw.area.slot[slot].csum)
                ssim_fail(s, g, "slot %llu's checksum does not match its data",
                          (unsigned long long)slot);
        } else {
            have = s->init + g;
        }
        if (memcmp(have, s->ref + g, PAGE_SIZE) != 0)
            ssim_fail(s, g, "page differs from the reference (%s)",
                      e.state == S2_PRESENT ? "mapped" : e.state == S2_SWAP ? "swapped"
                                                                           : "unmapped");
    }
}

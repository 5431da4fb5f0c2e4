/* Background work between simulated accesses (see sim_mm.h). */
#include <string.h>

#include "tests/sim/sim_mm.h"

struct sim_region *sim_pick_region(struct sim *s, bool mem_only)
{
    unsigned total = 0;
    for (size_t i = 0; i < s->nlay; i++)
        if (!mem_only || s->lay[i].kind == SK_ANON || s->lay[i].kind == SK_FILE)
            total += s->lay[i].weight;
    unsigned pick = (unsigned)below(s, total);
    for (size_t i = 0;; i++) {
        struct sim_region *r = &s->lay[i];
        if (mem_only && r->kind != SK_ANON && r->kind != SK_FILE)
            continue;
        if (pick < r->weight)
            return r;
        pick -= r->weight;
    }
}

gpa_t sim_random_page(struct sim *s, const struct sim_region *r)
{
    return r->start + below(s, (r->end - r->start) / PAGE_SIZE) * PAGE_SIZE;
}

static uint64_t page_key(const uint8_t *p)
{
    uint64_t h = 0xcbf29ce484222325ull, w;
    for (size_t i = 0; i < PAGE_SIZE; i += sizeof(w)) {
        memcpy(&w, p + i, sizeof(w));
        h = (h ^ w) * 0x100000001b3ull;
    }
    return h;
}

/* What a dedup scanner will do: walk a window of anon pages, merge the
 * identical ones. */
static void merge_pass(struct sim *s)
{
    struct { uint64_t key; gpa_t gpa; bool used; } slot[MERGE_SLOTS];
    const struct sim_region *r;
    memset(slot, 0, sizeof(slot));
    do
        r = sim_pick_region(s, true);
    while (r->kind != SK_ANON);
    gpa_t g = sim_random_page(s, r);
    for (unsigned i = 0; i < MERGE_WINDOW && g < r->end; i++, g += PAGE_SIZE) {
        struct s2_info e;
        s2pt_lookup(&s->mm.s2, g, &e);
        if (e.state != S2_PRESENT || e.size != PAGE_SIZE)
            continue;
        uint64_t key = page_key(hpa_va(e.hpa));
        unsigned k = (unsigned)(key % MERGE_SLOTS);
        if (!slot[k].used || slot[k].key != key) {
            slot[k].used = true;
            slot[k].key = key;
            slot[k].gpa = g;
            continue;
        }
        hpa_t before = e.hpa;
        int rc = mm_merge_pages(&s->mm, slot[k].gpa, g);
        if (rc == 0) {
            s2pt_lookup(&s->mm.s2, g, &e);
            s->merges += e.hpa != before;
            s->merged[s->nmerged++ % MERGED_RECENT] = slot[k].gpa;
            s->merged[s->nmerged++ % MERGED_RECENT] = g;
        } else if (rc == 1) {
            s->merge_differ++;
        } else if (rc == -PV_ENOMEM) {
            s->merge_nomem++;
        } else {
            s->merge_refused++;
        }
    }
}

/* Drop a range's mappings: its pages must read as their initial contents. */
static void discard(struct sim *s)
{
    struct sim_region *r = sim_pick_region(s, true);
    uint64_t npages = (r->end - r->start) / PAGE_SIZE;
    uint64_t count = 1 + below(s, 1u << below(s, 10));
    gpa_t start = sim_random_page(s, r);
    if ((start - r->start) / PAGE_SIZE + count > npages)
        count = npages - (start - r->start) / PAGE_SIZE;
    int rc = mm_unmap_range(&s->mm, start, start + count * PAGE_SIZE);
    if (rc != 0)
        sim_fail(s, start, "mm_unmap_range of %llu pages: %d",
             (unsigned long long)count, rc);
    uint64_t off = start - r->start;
    memcpy(r->ref + off, r->init + off, count * PAGE_SIZE);
    s->discards++;
}

/* Aging without A/D bits takes rights away and catches the re-fault; here X
 * is taken from whole leaves, so the next fetch must be a reprotect. */
static void age(struct sim *s)
{
    for (unsigned i = 0; i < AGE_PAGES; i++) {
        gpa_t g = sim_random_page(s, sim_pick_region(s, true));
        struct s2_info e;
        s2pt_lookup(&s->mm.s2, g, &e);
        if (e.state != S2_PRESENT || !(e.rights & ACC_X))
            continue;
        if (s2pt_protect(&s->mm.s2, ALIGN_DOWN(g, e.size), e.size,
                         e.rights & ~ACC_X) != 0)
            sim_fail(s, g, "s2pt_protect for aging failed");
        s->aged++;
    }
}

/* A fault raised through a translation another CPU still had cached: the
 * entry already allows the access, so it must be spurious and change
 * nothing. */
static void stale_fault(struct sim *s)
{
    gpa_t g = sim_random_page(s, sim_pick_region(s, true));
    struct s2_info e, after;
    s2pt_lookup(&s->mm.s2, g, &e);
    if (e.state != S2_PRESENT)
        return;
    struct gpa_fault f = { .gpa = g, .access = e.rights & ACC_RW, .rip = s->n };
    struct fault_outcome o;
    mm_handle_fault(&s->mm, &f, &o);
    s2pt_lookup(&s->mm.s2, g, &after);
    if (o.kind != FAULT_RETRY || o.res != RES_SPURIOUS || after.raw != e.raw)
        sim_fail(s, g, "stale-TLB fault resolved as %s", fault_res_name(o.res));
    s->stale++;
}

/* Whole guest against the reference, and every structure's own check. */
void sim_full_check(struct sim *s)
{
    s->checks++;
    if (!mm_check(&s->mm))
        sim_fail(s, 0, "mm_check (regions / frames / stage-2 / leaves) failed");
    for (size_t i = 0; i < s->nlay; i++) {
        struct sim_region *r = &s->lay[i];
        for (gpa_t g = r->start; g < r->end; g += PAGE_SIZE) {
            struct s2_info e;
            s2pt_lookup(&s->mm.s2, g, &e);
            uint64_t off = g - r->start;
            if (r->kind == SK_GAP || r->kind == SK_MMIO) {
                if (e.state != S2_NONE)
                    sim_fail(s, g, "%s page has a stage-2 entry", r->name);
                continue;
            }
            const uint8_t *have = e.state == S2_PRESENT
                                      ? (const uint8_t *)hpa_va(e.hpa)
                                      : r->init + off;
            if (r->kind == SK_PASS)
                have = r->image + off; /* the host range itself */
            if (memcmp(have, r->ref + off, PAGE_SIZE) != 0)
                sim_fail(s, g, "%s page differs from the reference (%s)", r->name,
                     e.state == S2_PRESENT ? "mapped" : "unmapped");
            if (r->kind == SK_ROM && e.state == S2_PRESENT && (e.rights & ACC_W))
                sim_fail(s, g, "ROM page mapped writable");
        }
        if (r->kind == SK_MMIO && memcmp(s->dev.regs, r->ref, DEV_REGS_END) != 0)
            sim_fail(s, r->start, "device registers differ from the reference");
    }
}

void sim_background(struct sim *s)
{
    if (s->n % MERGE_EVERY == 0)
        merge_pass(s);
    if (s->n % DISCARD_EVERY == 0)
        discard(s);
    if (s->n % AGE_EVERY == 0)
        age(s);
    if (s->n % STALE_EVERY == 0)
        stale_fault(s);
    if (s->n % HUGE_TOGGLE_EVERY == 0)
        s->mm.huge_anon = !s->mm.huge_anon;
    if (s->n % CHECK_EVERY == 0)
        sim_full_check(s);
}


/*
 * Unit tests for swap-in (swap/swapin.c) and the swap object (swap/swap.c):
 * major and minor faults, readahead per policy, checksum and read errors
 * reported without mapping anything, writes releasing the slot copy, unmap
 * of swapped ranges, run-time policy switches, stats lines, init errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "tests/unit/test_swap_env.h"

#define MiB (1ull << 20)
#define RAM (1 * MiB)
#define RAM_END (9 * MiB)
#define DISK_PAGES 512u

static gpa_t pg(unsigned i) { return RAM + (gpa_t)i * PAGE_SIZE; }

/* Readahead pages parked unmapped in the swap cache until a minor fault
 * (how tables without accessed bits work; mapped readahead, the default
 * with them, is tested in test_swap_ra_map.c). */
static struct swap_env *parked(struct swap_env *env)
{
    env->sw.map_ahead = false;
    return env;
}

/* use_ad false: a table without accessed/dirty bits. */
static struct swap_env *env_ad(const struct s2pt_format *fmt, bool use_ad,
                               enum ra_policy pol, uint32_t pages)
{
    struct swap_env *env = swap_env_new(fmt, use_ad, MM_ENV_ARENA, DISK_PAGES, NULL, 0, pol,
                                        pages);
    assert_int_equal(mm_add_anon(&env->m->mm, RAM, RAM_END, "ram"), 0);
    env->m->mm.huge_anon = false;
    return env;
}

static struct swap_env *env_with(const struct s2pt_format *fmt, enum ra_policy pol,
                                 uint32_t pages)
{
    return env_ad(fmt, true, pol, pages);
}

/* Fill pages [0, n) and swap them all out, in page order (slots 1..n). */
static void swap_out_pages(struct swap_env *env, unsigned n, uint64_t tag0)
{
    swap_env_swap_out_run(env, pg(0), n, tag0);
}

static uint64_t reads(const struct swap_env *env) { return env->sw.area.st.read_requests; }

/* ---- major / minor, readahead ------------------------------------------------------ */

static void cluster_readahead(const struct s2pt_format *fmt)
{
    struct swap_env *env = parked(env_with(fmt, RA_CLUSTER, 8));
    struct swap *sw = &env->sw;
    swap_out_pages(env, 20, 100);
    uint64_t r0 = reads(env);
    size_t free0 = frame_free_count(&env->m->fp);
    /* page 10 = slot 11: the aligned cluster is slots 8..15, one request */
    mm_env_expect(env->m, pg(10), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    assert_int_equal(reads(env), r0 + 1);
    assert_int_equal(frame_free_count(&env->m->fp), free0 - 8);
    assert_int_equal(sw->cache.n, 8);
    assert_int_equal(sw->ra.st.pages, 7);
    assert_int_equal(sw->ra.st.requests, 1);
    struct s2_info e = mm_env_lookup(env->m, pg(10));
    /* the slot's only user: writable, but clean (the dirty bit will tell) */
    assert_int_equal(e.rights, ACC_RWX);
    assert_false(e.dirty);
    assert_true(frame_of(&env->m->fp, e.leaf_hpa)->flags & FRAME_SWAPCACHE);
    /* pages 7..14 (slots 8..15) come from the cache */
    for (unsigned i = 7; i <= 14; i++)
        if (i != 10)
            mm_env_expect(env->m, pg(i), ACC_R, FAULT_MAPPED, RES_SWAP_MINOR);
    assert_int_equal(sw->ra.st.hits, 7);
    assert_int_equal(reads(env), r0 + 1);
    /* page 15 = slot 16: the next cluster */
    mm_env_expect(env->m, pg(15), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    assert_int_equal(reads(env), r0 + 2);
    for (unsigned i = 0; i < 20; i++)
        assert_true(swap_env_has(env, pg(i), 100 + i));
    assert_int_equal(sw->st.ins, 3); /* 10, 15, and 0..6 's cluster (0 -> slots 1..7) */
    swap_env_free(env);
}
MM_BOTH_FORMATS(cluster_readahead)

static void no_readahead(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, RA_OFF, 0);
    swap_out_pages(env, 8, 1);
    uint64_t r0 = reads(env);
    for (unsigned i = 0; i < 8; i++)
        mm_env_expect(env->m, pg(i), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    assert_int_equal(reads(env), r0 + 8);
    assert_int_equal(env->sw.ra.st.pages, 0);
    assert_int_equal(env->m->mm.stats.count[RES_SWAP_MINOR], 0);
    swap_env_free(env);
}
MM_BOTH_FORMATS(no_readahead)

/* auto: the gpa window grows along a sequential walk. */
static void auto_readahead(const struct s2pt_format *fmt)
{
    struct swap_env *env = parked(env_with(fmt, RA_AUTO, 4));
    struct swap *sw = &env->sw;
    swap_out_pages(env, 64, 7);
    unsigned majors = 0;
    for (unsigned i = 0; i < 64; i++) {
        struct fault_outcome o = mm_env_fault(env->m, pg(i), ACC_R);
        assert_int_equal(o.kind, FAULT_MAPPED);
        majors += o.res == RES_SWAP_IN;
    }
    /* windows 1, 1 (the walk not shown yet), 4, 8, 16, 32 (then what is
     * left): 7 majors instead of 64 */
    assert_int_equal(majors, 7);
    assert_int_equal(sw->ra.st.hits, 57);
    assert_int_equal(sw->ra.win, 64);
    for (unsigned i = 0; i < 64; i++)
        assert_true(swap_env_has(env, pg(i), 7 + i));
    /* the window follows gpas, not slots: slots scattered, still found */
    swap_env_free(env);
}
MM_BOTH_FORMATS(auto_readahead)

/* Readahead reads only slots that entries still need; a readahead page
 * nobody used and reclaim drops counts as a miss. */
static void readahead_misses(const struct s2pt_format *fmt)
{
    struct swap_env *env = parked(env_with(fmt, RA_CLUSTER, 8));
    struct swap *sw = &env->sw;
    swap_out_pages(env, 8, 1);
    /* page 3's entry goes away: slot 4 is free again */
    assert_int_equal(mm_unmap_range(&env->m->mm, pg(3), pg(4)), 0);
    assert_false(swap_area_in_use(&sw->area, 4));
    mm_env_expect(env->m, pg(0), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    assert_int_equal(sw->ra.st.pages, 5); /* slots 2, 3, 5, 6, 7 (4 is free) */
    sw->recent = NULL;
    swap_reclaim(&env->sw, 100);
    assert_int_equal(sw->ra.st.misses, 5);
    assert_int_equal(sw->st.cache_dropped, 5);
    assert_int_equal(sw->cache.n, 0);
    swap_env_free(env);
}
MM_BOTH_FORMATS(readahead_misses)

/* The swapin hook only hands a frame back (with a reference for the
 * caller): nothing is mapped, the entry and its slot use stay, and the
 * swap-in is counted (and a readahead hit noted) only once the fault path
 * has mapped it (swapin_mapped). A refusal takes no reference. */
static void hook_hands_back_frame(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    struct guest_mm *mm = &env->m->mm;
    swap_out_pages(env, 8, 1);
    struct frame *f = NULL;

    assert_int_equal(swap_mm_hooks.swapin(mm, pg(3), swp_entry(SWAP_TYPE, 4), &f, sw),
                     MM_SWAPIN_MAJOR);
    assert_ptr_equal(f, swap_cache_peek(&sw->cache, 4));
    assert_int_equal(f->refcount, 2); /* the cache's and ours */
    assert_int_equal(f->mapcount, 0);
    assert_true(f->flags & FRAME_LRU);
    assert_false(f->flags & (FRAME_LOCKED | FRAME_READAHEAD));
    assert_int_equal(*(uint64_t *)frame_va(&env->m->fp, f), 4 * 0x9e3779b97f4a7c15ull + 1);
    assert_int_equal(swap_env_state(env, pg(3)), S2_SWAP);
    assert_int_equal(sw->area.slot[4].count, 1);
    assert_int_equal(sw->st.ins, 0);
    assert_false(frame_put(&env->m->fp, f));
    swap_env_check(env);

    /* slot 6 came in by readahead: handed back as minor, still unused */
    struct frame *g = NULL;
    assert_int_equal(swap_mm_hooks.swapin(mm, pg(5), swp_entry(SWAP_TYPE, 6), &g, sw),
                     MM_SWAPIN_MINOR);
    assert_true(g->flags & FRAME_READAHEAD);
    assert_int_equal(sw->ra.st.hits, 0);
    assert_int_equal(sw->st.ins_minor, 0);
    frame_put(&env->m->fp, g);

    /* mapped by the fault path: counted now */
    mm_env_expect(env->m, pg(3), ACC_R, FAULT_MAPPED, RES_SWAP_MINOR);
    mm_env_expect(env->m, pg(5), ACC_R, FAULT_MAPPED, RES_SWAP_MINOR);
    assert_int_equal(sw->st.ins_minor, 2);
    assert_int_equal(sw->ra.st.hits, 1);
    assert_int_equal(sw->area.slot[4].count, 0);
    assert_int_equal(f->refcount, 2); /* the cache's and the leaf's */

    struct frame *h = (struct frame *)&h;
    size_t free0 = frame_free_count(&env->m->fp);
    assert_int_equal(swap_mm_hooks.swapin(mm, pg(0), swp_entry(SWAP_TYPE, 99), &h, sw),
                     -PV_EINVAL);
    assert_ptr_equal(h, (struct frame *)&h);
    assert_int_equal(frame_free_count(&env->m->fp), free0);
    swap_env_free(env);
}
MM_BOTH_FORMATS(hook_hands_back_frame)

/* ---- errors ----------------------------------------------------------------------- */

/* The line a refused swap-in is reported with, from the fault's outcome. */
static const char *described(const struct swap *sw, gpa_t gpa, const struct fault_outcome *o)
{
    static char buf[SWAP_ERR_LEN];
    swap_describe_error(sw, gpa, o->err, o->swap, buf, sizeof(buf));
    return buf;
}

static void checksum_mismatch(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 8, 1);
    size_t free0 = frame_free_count(&env->m->fp);
    /* slot 6 (page 5) rots on the device */
    blk_file_corrupt(&env->blk, 6 * PAGE_SIZE + 100, 0x01);
    host_log_clear();
    struct fault_outcome o = mm_env_fault(env->m, pg(5) + 0x10, ACC_R);
    assert_int_equal(o.kind, FAULT_ERROR);
    assert_int_equal(o.res, RES_ERROR);
    assert_int_equal(o.err, -PV_ECORRUPT);
    assert_true(o.swap == swp_entry(SWAP_TYPE, 6));
    char want[160];
    snprintf(want, sizeof(want),
             "swap: gpa 0x%llx: slot 6 on ramdisk: checksum mismatch (stored 0x%08x): "
             "page not handed to the guest",
             (unsigned long long)pg(5), sw->area.slot[6].csum);
    assert_string_equal(described(sw, pg(5) + 0x10, &o), want);
    assert_true(host_log_contains(want));
    /* nothing mapped, the entry and the data on disk stay */
    assert_int_equal(swap_env_state(env, pg(5)), S2_SWAP);
    assert_int_equal(sw->st.in_errors, 1);
    assert_int_equal(sw->area.st.csum_errors, 1);
    /* the good neighbours (slots 1..5, 7: the cluster) were read ahead */
    assert_int_equal(sw->cache.n, 6);
    assert_int_equal(frame_free_count(&env->m->fp), free0 - 6);
    swap_env_check(env);
    /* repaired, it reads fine */
    blk_file_corrupt(&env->blk, 6 * PAGE_SIZE + 100, 0x01);
    assert_true(swap_env_has(env, pg(5), 1 + 5));
    swap_env_free(env);
}
MM_BOTH_FORMATS(checksum_mismatch)

static void read_errors(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 8, 1);
    /* slot 3's sectors cannot be read: the merged request fails, the
     * retries find slot 3 alone bad */
    blk_file_set_bad(&env->blk, 3 * 8, 3 * 8 + 1, BLK_FAIL_READ);
    mm_env_expect(env->m, pg(0), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    assert_int_equal(sw->area.st.read_errors, 1);
    assert_int_equal(sw->cache.n, 6); /* slots 2, 4..7 + page 0's frame */
    struct fault_outcome o = mm_env_fault(env->m, pg(2), ACC_R);
    assert_int_equal(o.kind, FAULT_ERROR);
    assert_int_equal(o.err, -PV_EIO);
    assert_non_null(strstr(described(sw, pg(2), &o), "slot 3 on ramdisk: read error"));
    assert_int_equal(swap_env_state(env, pg(2)), S2_SWAP);
    /* a transient error: the retry of the fault works */
    blk_file_set_bad(&env->blk, 0, 0, 0);
    blk_file_fail_read_in(&env->blk, 1);
    o = mm_env_fault(env->m, pg(2), ACC_R);
    assert_int_equal(o.err, -PV_EIO);
    mm_env_expect(env->m, pg(2), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    for (unsigned i = 0; i < 8; i++)
        assert_true(swap_env_has(env, pg(i), 1 + i));
    swap_env_free(env);
}
MM_BOTH_FORMATS(read_errors)

/* An entry naming a slot that holds nothing is refused, not read. */
static void bogus_entry(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, RA_CLUSTER, 8);
    assert_int_equal(s2pt_set_swap(&env->m->mm.s2, pg(0), swp_entry(SWAP_TYPE, 77)), 0);
    struct fault_outcome o = mm_env_fault(env->m, pg(0), ACC_R);
    assert_int_equal(o.kind, FAULT_ERROR);
    assert_int_equal(o.err, -PV_EINVAL);
    assert_non_null(strstr(described(&env->sw, pg(0), &o), "slot 77 (type 0), which holds no data"));
    assert_int_equal(s2pt_unmap(&env->m->mm.s2, pg(0), PAGE_SIZE), 0);
    swap_env_free(env);
}
MM_BOTH_FORMATS(bogus_entry)

/* ---- writes, drops, unmaps ------------------------------------------------------------ */

static void write_releases_slot(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, RA_OFF, 0);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 2, 1);
    assert_int_equal(sw->area.used, 2);
    /* read: mapped writable but clean, still cached, slot kept */
    assert_int_equal(swap_env_read64(env, pg(0)), 1 * 0x9e3779b97f4a7c15ull + 1);
    assert_int_equal(sw->area.used, 2);
    struct s2_info e = mm_env_lookup(env->m, pg(0));
    assert_true(e.rights & ACC_W);
    assert_false(e.dirty);
    /* a write costs no fault: the leaf's dirty bit records it ... */
    uint64_t faults = env->m->mm.stats.total;
    swap_env_write64(env, pg(0), 7);
    assert_int_equal(env->m->mm.stats.total, faults);
    assert_true(mm_env_lookup(env->m, pg(0)).dirty);
    assert_int_equal(sw->area.used, 2); /* released when reclaim looks */
    /* a write to a swapped page: swap-in mapped writable, copy released now */
    swap_env_write64(env, pg(1), 99);
    assert_int_equal(env->m->mm.stats.count[RES_SWAP_IN], 2);
    assert_int_equal(env->m->mm.stats.count[RES_COW_REUSE], 0);
    assert_int_equal(sw->area.used, 1);
    struct frame *f1 = frame_of(&env->m->fp, mm_env_lookup(env->m, pg(1)).leaf_hpa);
    assert_false(f1->flags & FRAME_SWAPCACHE);
    assert_true(f1->flags & FRAME_DIRTY);
    assert_true(swap_check(sw));
    /* ... so reclaim writes both to new slots: nothing stale is dropped */
    uint64_t w0 = sw->area.st.write_requests;
    sw->recent = NULL;
    assert_int_equal(swap_reclaim(sw, 2), 2);
    assert_int_equal(sw->st.released, 2);
    assert_int_equal(sw->st.clean_dropped, 0);
    assert_true(sw->area.st.write_requests > w0);
    assert_int_equal(swap_env_read64(env, pg(0)), 7);
    assert_int_equal(swap_env_read64(env, pg(1)), 99);
    assert_true(swap_check(sw));
    swap_env_free(env);
}
MM_BOTH_FORMATS(write_releases_slot)

/* A page never written after its swap-in is dropped without I/O, writable
 * mapping or not: its dirty bit stayed clear. */
static void clean_writable_dropped(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, RA_OFF, 0);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 1, 3);
    assert_true(swap_env_has(env, pg(0), 3));
    assert_true(mm_env_lookup(env->m, pg(0)).rights & ACC_W);
    uint64_t w0 = sw->area.st.write_requests;
    sw->recent = NULL;
    assert_int_equal(swap_reclaim(sw, 1), 1);
    assert_int_equal(sw->area.st.write_requests, w0);
    assert_int_equal(sw->st.clean_dropped, 1);
    assert_true(swap_env_has(env, pg(0), 3));
    assert_true(swap_check(sw));
    swap_env_free(env);
}
MM_BOTH_FORMATS(clean_writable_dropped)

/* Merging takes W away from a written, writable swapped-in page: the dirty
 * bit goes with the old leaf, so the stale slot copy is released first and
 * both pages come back with what was written. */
static void merge_keeps_written_page(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, RA_OFF, 0);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 1, 5);
    assert_true(swap_env_has(env, pg(0), 5)); /* writable, clean, cached */
    struct s2_info e = mm_env_lookup(env->m, pg(0));
    assert_true((e.rights & ACC_W) && !e.dirty);
    /* the guest rewrites it (as the hardware does: dirty bit, no fault) */
    for (size_t i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++)
        swap_env_hw_write64(env, pg(0) + i * sizeof(uint64_t),
                            6 * 0x9e3779b97f4a7c15ull + i + 1);
    swap_env_fill(env, pg(1), 6); /* a twin */
    assert_int_equal(mm_merge_pages(&env->m->mm, pg(0), pg(1)), 0);
    assert_int_equal(sw->st.released, 1);
    assert_true(swap_check(sw));
    sw->recent = NULL;
    swap_reclaim(sw, 1000);
    assert_int_equal(swap_env_state(env, pg(0)), S2_SWAP);
    assert_true(swap_env_has(env, pg(0), 6));
    assert_true(swap_env_has(env, pg(1), 6));
    swap_env_free(env);
}
MM_BOTH_FORMATS(merge_keeps_written_page)

/* Without stage-2 dirty bits: a read maps read-only (a write then
 * cow-reuses), a write fault maps writable and releases the copy at once. */
static void write_without_dirty_bits(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_ad(fmt, false, RA_OFF, 0);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 2, 1);
    assert_int_equal(swap_env_read64(env, pg(0)), 1 * 0x9e3779b97f4a7c15ull + 1);
    assert_false(mm_env_lookup(env->m, pg(0)).rights & ACC_W);
    hpa_t h = mm_env_lookup(env->m, pg(0)).hpa;
    mm_env_expect(env->m, pg(0), ACC_W, FAULT_MAPPED, RES_COW_REUSE);
    assert_true(mm_env_lookup(env->m, pg(0)).hpa == h);
    assert_int_equal(sw->st.released, 1);
    mm_env_expect(env->m, pg(1), ACC_W, FAULT_MAPPED, RES_SWAP_IN);
    assert_true(mm_env_lookup(env->m, pg(1)).rights & ACC_W);
    assert_int_equal(sw->st.released, 2);
    assert_int_equal(sw->area.used, 0);
    assert_true(swap_check(sw));
    swap_env_free(env);
}
MM_BOTH_FORMATS(write_without_dirty_bits)

static void unmap_frees_slots(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    swap_out_pages(env, 16, 1);
    mm_env_expect(env->m, pg(0), ACC_R, FAULT_MAPPED, RES_SWAP_IN); /* 6 read ahead */
    assert_int_equal(mm_env_guest_frames(env->m), 7);
    assert_int_equal(mm_unmap_range(&env->m->mm, pg(0), pg(16)), 0);
    assert_int_equal(sw->area.used, 0);
    assert_int_equal(sw->cache.n, 0);
    assert_int_equal(mm_env_guest_frames(env->m), 0);
    assert_int_equal(sw->st.cache_dropped, 7); /* 6 read ahead + page 0's */
    assert_int_equal(sw->ra.st.misses, 6);
    /* the pages read as new again */
    assert_int_equal(swap_env_read64(env, pg(5)), 0);
    swap_env_free(env);
}
MM_BOTH_FORMATS(unmap_frees_slots)

/* mm_destroy with swap entries and cached frames, swap destroyed last. */
static void destroy_order(const struct s2pt_format *fmt)
{
    struct swap_env *env = env_with(fmt, RA_CLUSTER, 8);
    swap_out_pages(env, 16, 1);
    mm_env_expect(env->m, pg(0), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    struct mm_env *m = env->m;
    assert_int_equal(env->sw.cache.n, 7);
    mm_destroy(&m->mm);
    /* every entry and mapping gone: nothing wanted the cached copies */
    assert_int_equal(env->sw.area.used, 0);
    assert_int_equal(env->sw.cache.n, 0);
    swap_destroy(&env->sw);
    assert_int_equal(frame_free_count(&m->fp), m->free0);
    assert_true(frame_pool_check(&m->fp));
    assert_null(m->fp.on_free);
    free(m->arena);
    free(m);
    free(env->meta);
    free(env->disk);
    free(env);
}
MM_BOTH_FORMATS(destroy_order)

/* ---- the object ----------------------------------------------------------------------- */

struct lines {
    char l[32][160];
    int n;
};

static void collect(void *ctx, const char *line)
{
    struct lines *ls = ctx;
    assert_true(ls->n < 32);
    snprintf(ls->l[ls->n++], 160, "%s", line);
}

static void test_stats_lines(void **state)
{
    (void)state;
    struct swap_env *env = parked(env_with(&s2pt_format_ept, RA_CLUSTER, 8));
    swap_out_pages(env, 8, 1);
    swap_env_write64(env, pg(20), 0);
    env->sw.recent = NULL;
    swap_reclaim(&env->sw, 1);
    mm_env_expect(env->m, pg(0), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    mm_env_expect(env->m, pg(1), ACC_R, FAULT_MAPPED, RES_SWAP_MINOR);
    struct lines ls = { .n = 0 };
    swap_render_stats(&env->sw, collect, &ls);
    assert_int_equal(ls.n, 26);
    assert_int_equal(strncmp(ls.l[24], "swap io-cycles read ", 20), 0);
    /* a synchronous device: nothing went out asynchronously */
    assert_string_equal(ls.l[25], "swap writeback requests 0 pages 0 written 0 failed 0 waits 0 "
                                  "full-waits 0 sync 0 peak 0/0 inflight 0");
    assert_string_equal(ls.l[0], "swap device ramdisk slots 511 used 8 bad 0");
    assert_string_equal(ls.l[1], "swap readahead cluster:8");
    assert_string_equal(ls.l[2], "swap outs 8");
    assert_string_equal(ls.l[3], "swap ins 1");
    assert_string_equal(ls.l[4], "swap ins-minor 1");
    assert_string_equal(ls.l[5], "swap readahead-pages 6");
    assert_string_equal(ls.l[6], "swap readahead-hits 1");
    assert_string_equal(ls.l[7], "swap readahead-misses 0");
    assert_string_equal(ls.l[8], "swap readahead-mapped 0");
    assert_string_equal(ls.l[11], "swap zero-recovered 1");
    assert_string_equal(ls.l[18], "swap full 0");
    assert_string_equal(ls.l[20], "swap code-kept 0");
    assert_string_equal(ls.l[21], "swap walk-ins 0 passed 0"); /* one major fault: no walk */
    assert_string_equal(ls.l[9], "swap read-requests 1");
    assert_string_equal(ls.l[10], "swap write-requests 1");
    assert_string_equal(ls.l[22], "swap lru active 0 inactive 7 cached 7");
    size_t min = env->m->fp.nframes / 128;
    char want[120];
    snprintf(want, sizeof(want), "swap free %zu watermarks min %zu low %zu high %zu",
             frame_free_count(&env->m->fp), min, 2 * min, 3 * min);
    assert_string_equal(ls.l[23], want);
    swap_env_free(env);
}

static void test_policy_switch(void **state)
{
    (void)state;
    struct swap_env *env = env_with(&s2pt_format_npt, RA_CLUSTER, 8);
    swap_out_pages(env, 16, 1);
    assert_int_equal(swap_set_readahead(&env->sw, RA_OFF, 0), 0);
    uint64_t r0 = reads(env);
    mm_env_expect(env->m, pg(0), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    mm_env_expect(env->m, pg(1), ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    assert_int_equal(reads(env), r0 + 2);
    assert_int_equal(swap_set_readahead(&env->sw, RA_CLUSTER, 5), -PV_EINVAL);
    assert_int_equal(env->sw.ra.policy, RA_OFF);
    assert_int_equal(swap_set_readahead(&env->sw, RA_CLUSTER, 16), 0);
    mm_env_expect(env->m, pg(2), ACC_R, FAULT_MAPPED, RES_SWAP_IN); /* slots 3..15 */
    assert_int_equal(env->sw.ra.st.pages, 12);
    swap_env_free(env);
}

static void test_init_errors(void **state)
{
    (void)state;
    struct mm_env *m = mm_env_new(&s2pt_format_ept);
    uint8_t *disk = calloc(64, PAGE_SIZE);
    struct blk_file blk;
    assert_int_equal(blk_file_init(&blk, disk, 64 * PAGE_SIZE, 512, "virtio-blk 00:04.0"), 0);
    size_t len = swap_meta_size(&m->fp, &blk.dev);
    void *meta = aligned_alloc(PAGE_SIZE, ALIGN_UP(len, PAGE_SIZE));
    static struct swap sw;
    char err[200];
    /* not mkswap'ed: refused by name, nothing installed */
    assert_int_equal(swap_init(&sw, &m->mm, &blk.dev, meta, len, RA_CLUSTER, 8, err,
                               sizeof(err)),
                     -PV_EINVAL);
    assert_string_equal(err, "virtio-blk 00:04.0: no swap signature (SWAPSPACE2) in the "
                             "last 10 bytes of page 0: prepare it with mkswap");
    assert_null(m->mm.swap_ctx);
    assert_null(m->mm.swap_hooks);
    assert_null(m->fp.on_free);
    /* the header page was only read */
    for (size_t i = 0; i < 64 * PAGE_SIZE; i++)
        assert_int_equal(disk[i], 0);
    swap_env_mkswap(disk, 64, NULL, 0);
    assert_int_equal(swap_init(&sw, &m->mm, &blk.dev, meta, len - 1, RA_CLUSTER, 8, err,
                               sizeof(err)),
                     -PV_EINVAL);
    char want[120];
    snprintf(want, sizeof(want), "swap: metadata needs %zu bytes (8-byte aligned), got %zu",
             len, len - 1);
    assert_string_equal(err, want);
    assert_int_equal(swap_init(&sw, &m->mm, &blk.dev, meta, len, RA_AUTO, 3, err,
                               sizeof(err)),
                     -PV_EINVAL);
    assert_string_equal(err, "swap: bad readahead policy 2 with 3 pages");
    /* and a good one */
    assert_int_equal(swap_init(&sw, &m->mm, &blk.dev, meta, len, RA_AUTO, 8, err,
                               sizeof(err)),
                     0);
    assert_ptr_equal(m->mm.swap_ctx, &sw);
    assert_int_equal(sw.area.nslots, 63);
    swap_destroy(&sw);
    assert_null(m->mm.swap_hooks);
    mm_env_free(m);
    free(meta);
    free(disk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cluster_readahead_both),
        cmocka_unit_test(no_readahead_both),
        cmocka_unit_test(auto_readahead_both),
        cmocka_unit_test(readahead_misses_both),
        cmocka_unit_test(hook_hands_back_frame_both),
        cmocka_unit_test(checksum_mismatch_both),
        cmocka_unit_test(read_errors_both),
        cmocka_unit_test(bogus_entry_both),
        cmocka_unit_test(write_releases_slot_both),
        cmocka_unit_test(clean_writable_dropped_both),
        cmocka_unit_test(merge_keeps_written_page_both),
        cmocka_unit_test(write_without_dirty_bits_both),
        cmocka_unit_test(unmap_frees_slots_both),
        cmocka_unit_test(destroy_order_both),
        cmocka_unit_test(test_stats_lines),
        cmocka_unit_test(test_policy_switch),
        cmocka_unit_test(test_init_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

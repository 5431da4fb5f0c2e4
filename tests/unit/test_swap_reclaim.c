/*
 * Unit tests for reclaim (swap/reclaim.c, with the LRU and the fault-path
 * hooks): eviction order, durability, write errors, shared frames, aging
 * with accessed bits and with the rights-clearing fallback. Watermarks,
 * direct / urgent reclaim and OOM: test_swap_pressure.c.
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
#define SMALL_ARENA (1536u << 10) /* ~370 frames */

static struct swap_env *big(const struct s2pt_format *fmt, bool use_ad)
{
    struct swap_env *env = swap_env_new(fmt, use_ad, MM_ENV_ARENA, DISK_PAGES, NULL, 0,
                                        RA_CLUSTER, 8);
    assert_int_equal(mm_add_anon(&env->m->mm, RAM, RAM_END, "ram"), 0);
    env->m->mm.huge_anon = false;
    return env;
}

static gpa_t pg(unsigned i) { return RAM + (gpa_t)i * PAGE_SIZE; }

static void set_accessed(struct swap_env *env, gpa_t gpa)
{
    swap_env_mark(env, gpa, env->m->fmt->accessed_bit);
}


/* Forget the latest fault's frame (reclaim spares it): tests decide. */
static void no_recent(struct swap_env *env) { env->sw.recent = NULL; }

static uint64_t writes(const struct swap_env *env) { return env->sw.area.st.write_requests; }

/* ---- eviction order ---------------------------------------------------------------- */

/* zero -> zero frame, no I/O; clean cached -> dropped, no I/O; dirty ->
 * written. */
static void reclaim_order(const struct s2pt_format *fmt)
{
    struct swap_env *env = big(fmt, true);
    struct swap *sw = &env->sw;
    swap_env_fill(env, pg(0), 1); /* C: will be made clean-cached */
    no_recent(env);
    assert_int_equal(swap_reclaim(sw, 1), 1);
    assert_int_equal(swap_env_state(env, pg(0)), S2_SWAP);
    assert_true(swap_env_has(env, pg(0), 1)); /* swapped in: cached, clean */
    assert_false(mm_env_lookup(env->m, pg(0)).dirty); /* writable, never written */

    swap_env_write64(env, pg(1), 0);   /* Z: a written page of zeros */
    swap_env_fill(env, pg(2), 2);      /* D: dirty */
    no_recent(env);
    uint64_t w0 = writes(env);
    size_t free0 = frame_free_count(&env->m->fp);
    host_log_clear();
    assert_int_equal(swap_reclaim(sw, 3), 3);
    assert_true(frame_free_count(&env->m->fp) >= free0 + 3); /* table pages may go too */
    assert_int_equal(sw->st.zero_recovered, 1);
    assert_int_equal(sw->st.clean_dropped, 1);
    assert_int_equal(sw->st.outs, 2); /* C earlier, D now */
    assert_int_equal(writes(env), w0 + 1);
    /* the zero page is untouched again: an empty entry reads as zero */
    assert_int_equal(swap_env_state(env, pg(1)), S2_NONE);
    assert_int_equal(swap_env_state(env, pg(0)), S2_SWAP);
    assert_int_equal(swap_env_state(env, pg(2)), S2_SWAP);
    swap_env_check(env);
    /* everything reads back; the zero page reads through the zero frame
     * and its write is a first touch's (cow-zero of that zero-map) */
    assert_true(swap_env_has(env, pg(0), 1));
    assert_true(swap_env_has(env, pg(2), 2));
    assert_int_equal(swap_env_read64(env, pg(1)), 0);
    swap_env_write64(env, pg(1) + 8, 77);
    assert_int_equal(swap_env_read64(env, pg(1) + 8), 77);
    assert_int_equal(env->m->mm.stats.count[RES_COW_ZERO], 1);
    swap_env_free(env);
}
MM_BOTH_FORMATS(reclaim_order)

/* Pages reclaimed together get neighbouring slots and one write request. */
static void batched_writes(const struct s2pt_format *fmt)
{
    struct swap_env *env = big(fmt, true);
    for (unsigned i = 0; i < 40; i++)
        swap_env_fill(env, pg(i), 100 + i);
    no_recent(env);
    uint64_t w0 = writes(env);
    assert_int_equal(swap_reclaim(&env->sw, 40), 40);
    /* batches of RECLAIM_BATCH pages, each one request */
    assert_int_equal(writes(env), w0 + 2);
    for (unsigned i = 0; i < 40; i++)
        assert_int_equal(swap_env_slot(env, pg(i)), 1 + i); /* oldest first */
    for (unsigned i = 0; i < 40; i++)
        assert_true(swap_env_has(env, pg(i), 100 + i));
    swap_env_free(env);
}
MM_BOTH_FORMATS(batched_writes)

/* ---- durability --------------------------------------------------------------------- */

#define DUR_PAGES 48u

static struct {
    struct swap_env *env;
    void (*inner)(struct frame_pool *, struct frame *, void *);
    uint64_t tags[DUR_PAGES]; /* 0: page of zeros */
    unsigned checked;
} dur;

/* Every page's data must exist somewhere other than the frame being freed. */
static void durable_on_free(struct frame_pool *fp, struct frame *f, void *ctx)
{
    struct swap_env *env = dur.env;
    static uint64_t want[PAGE_SIZE / 8];
    for (unsigned i = 0; i < DUR_PAGES; i++) {
        for (size_t k = 0; k < PAGE_SIZE / 8; k++)
            want[k] = dur.tags[i] ? dur.tags[i] * 0x9e3779b97f4a7c15ull + k + 1 : 0;
        struct s2_info e = mm_env_lookup(env->m, pg(i));
        const void *have = NULL;
        if (e.state == S2_PRESENT) {
            if (e.leaf_hpa == frame_hpa(fp, f))
                fail_msg("frame freed while gpa 0x%llx maps it", (unsigned long long)pg(i));
            have = hpa_va(e.hpa);
        } else if (e.state == S2_SWAP) {
            have = swap_env_slot_data(env, swp_offset(e.swap));
        } else if (e.state == S2_NONE && dur.tags[i] == 0) {
            static const uint64_t zeros[PAGE_SIZE / 8];
            have = zeros; /* an untouched anon page reads as zero */
        } else {
            fail_msg("page %u lost its entry", i);
        }
        if (memcmp(have, want, PAGE_SIZE) != 0)
            fail_msg("page %u (%s) not durable when a frame was freed", i,
                     e.state == S2_SWAP ? "swap entry" : "mapped");
    }
    dur.checked++;
    dur.inner(fp, f, ctx);
}

static void nothing_freed_before_durable(const struct s2pt_format *fmt)
{
    struct swap_env *env = big(fmt, true);
    struct frame_pool *fp = &env->m->fp;
    memset(&dur, 0, sizeof(dur));
    dur.env = env;
    for (unsigned i = 0; i < DUR_PAGES; i++) {
        dur.tags[i] = i % 5 == 0 ? 0 : 1000 + i;
        if (dur.tags[i])
            swap_env_fill(env, pg(i), dur.tags[i]);
        else
            swap_env_write64(env, pg(i), 0);
    }
    /* two merged (shared) frames among them */
    dur.tags[43] = dur.tags[42];
    swap_env_fill(env, pg(43), dur.tags[43]);
    assert_int_equal(mm_merge_pages(&env->m->mm, pg(42), pg(43)), 0);
    /* one clean cached page */
    no_recent(env);
    assert_int_equal(swap_reclaim(&env->sw, 1), 1);
    assert_true(swap_env_has(env, pg(1), dur.tags[1]));
    no_recent(env);

    dur.inner = fp->on_free;
    fp->on_free = durable_on_free;
    swap_reclaim(&env->sw, 1000);
    fp->on_free = dur.inner;
    assert_true(dur.checked >= DUR_PAGES - 2);
    for (unsigned i = 0; i < DUR_PAGES; i++) {
        /* only a page of zeros may be left untouched (it reads as zero) */
        if (dur.tags[i])
            assert_int_not_equal(mm_env_lookup(env->m, pg(i)).state, S2_NONE);
        assert_true(dur.tags[i] ? swap_env_has(env, pg(i), dur.tags[i])
                                : swap_env_read64(env, pg(i) + 64) == 0);
    }
    swap_env_check(env);
    swap_env_free(env);
}
MM_BOTH_FORMATS(nothing_freed_before_durable)

/* ---- write errors ------------------------------------------------------------------- */

static void write_error_keeps_page(const struct s2pt_format *fmt)
{
    struct swap_env *env = big(fmt, true);
    struct swap *sw = &env->sw;
    for (unsigned i = 0; i < 3; i++)
        swap_env_fill(env, pg(i), 10 + i);
    hpa_t before = mm_env_lookup(env->m, pg(1)).hpa;
    /* slot 2's sectors refuse writes */
    blk_file_set_bad(&env->blk, 2 * 8, 3 * 8, BLK_FAIL_WRITE);
    no_recent(env);
    host_log_clear();
    assert_int_equal(swap_reclaim(sw, 3), 2);
    assert_int_equal(sw->st.write_failed, 1);
    assert_int_equal(sw->area.bad, 1);
    assert_int_equal(sw->area.slot[2].state, SLOT_BAD);
    assert_true(host_log_contains("slot marked bad"));
    /* the page that hit the bad slot is resident, unchanged, on the
     * active list, not cached */
    struct s2_info e = mm_env_lookup(env->m, pg(1));
    assert_int_equal(e.state, S2_PRESENT);
    assert_true(e.hpa == before);
    struct frame *f = frame_of(&env->m->fp, e.hpa);
    assert_true(f->flags & FRAME_ACTIVE);
    assert_false(f->flags & (FRAME_SWAPCACHE | FRAME_LOCKED));
    assert_int_equal(swap_env_state(env, pg(0)), S2_SWAP);
    assert_int_equal(swap_env_state(env, pg(2)), S2_SWAP);
    swap_env_check(env);
    /* next time it gets another slot */
    assert_int_equal(swap_reclaim(sw, 1), 1);
    assert_int_not_equal(swap_env_slot(env, pg(1)), 2);
    for (unsigned i = 0; i < 3; i++)
        assert_true(swap_env_has(env, pg(i), 10 + i));

    /* the three are clean and cached now: dropped without I/O */
    uint64_t w0 = writes(env);
    no_recent(env);
    assert_int_equal(swap_reclaim(sw, 3), 3);
    assert_int_equal(sw->st.clean_dropped, 3);
    assert_int_equal(writes(env), w0);
    /* a transient failure of a merged request: retried page by page */
    blk_file_set_bad(&env->blk, 0, 0, 0);
    for (unsigned i = 10; i < 14; i++)
        swap_env_fill(env, pg(i), 50 + i);
    blk_file_fail_write_in(&env->blk, 1);
    no_recent(env);
    assert_int_equal(swap_reclaim(sw, 4), 4);
    assert_int_equal(sw->area.bad, 1);
    for (unsigned i = 10; i < 14; i++)
        assert_true(swap_env_has(env, pg(i), 50 + i));
    swap_env_free(env);
}
MM_BOTH_FORMATS(write_error_keeps_page)

/* A lost device (its driver set failed): nothing leaves memory for it any
 * more — no write, no drop of a clean copy that could not come back — zero
 * pages are still given back, it is said once, and a page that only
 * the device holds is reported as lost to the failed device. */
static void lost_device_keeps_pages(const struct s2pt_format *fmt)
{
    struct swap_env *env = big(fmt, true);
    struct swap *sw = &env->sw;
    const unsigned npages = 24; /* beyond one readahead window (8 slots) */
    for (unsigned i = 0; i < npages; i++)
        swap_env_fill(env, pg(i), 20 + i);
    no_recent(env);
    assert_int_equal(swap_reclaim(sw, npages), npages);
    assert_true(swap_env_has(env, pg(1), 21)); /* back in: clean and cached; its
                                                  neighbours read ahead: cached only */
    size_t cached = sw->cache.n;
    assert_true(cached > 1);
    swap_env_fill(env, pg(40), 99);            /* dirty */
    swap_env_write64(env, pg(41), 0);          /* a zero page */
    env->blk.dev.failed = true;
    blk_file_set_bad(&env->blk, 0, DISK_PAGES * 8, BLK_FAIL_READ | BLK_FAIL_WRITE);
    uint64_t w0 = writes(env);
    no_recent(env);
    host_log_clear();
    assert_int_equal(swap_reclaim(sw, 3), 1); /* only the zero page */
    assert_int_equal(sw->st.zero_recovered, 1);
    assert_int_equal(writes(env), w0);
    assert_int_equal(swap_env_state(env, pg(1)), S2_PRESENT);
    assert_int_equal(swap_env_state(env, pg(40)), S2_PRESENT);
    assert_int_equal(sw->cache.n, cached); /* read-ahead copies kept: the only ones */
    assert_true(host_log_contains("swap: ramdisk has failed: swap-out stopped, pages stay "
                                  "resident"));
    host_log_clear();
    no_recent(env);
    swap_reclaim(sw, 3);
    assert_false(host_log_contains("has failed")); /* said once */
    assert_true(swap_env_has(env, pg(1), 21));
    assert_true(swap_env_has(env, pg(40), 99));
    /* the pages only the device holds are reported, those cached come back */
    unsigned lost = 0;
    for (unsigned i = 0; i < npages; i++) {
        uint64_t v;
        host_log_clear();
        if (mm_read(&env->m->mm, pg(i), &v, sizeof(v)) == 0) {
            assert_true(swap_env_has(env, pg(i), 20 + i));
            continue;
        }
        lost++;
        assert_true(host_log_contains("read error (the device has failed)"));
    }
    assert_true(lost > 0 && lost < npages);
    blk_file_set_bad(&env->blk, 0, 0, 0);
    env->blk.dev.failed = false;
    for (unsigned i = 0; i < npages; i++)
        assert_true(swap_env_has(env, pg(i), 20 + i)); /* nothing was thrown away */
    swap_env_free(env);
}
MM_BOTH_FORMATS(lost_device_keeps_pages)

/* ---- shared frames -------------------------------------------------------------------- */

static void shared_frames(const struct s2pt_format *fmt)
{
    struct swap_env *env = big(fmt, true);
    struct swap *sw = &env->sw;
    swap_env_fill(env, pg(3), 9);
    swap_env_fill(env, pg(7), 9);
    assert_int_equal(mm_merge_pages(&env->m->mm, pg(3), pg(7)), 0);
    assert_int_equal(swap_reclaim(sw, 1), 1);
    uint64_t s = swap_env_slot(env, pg(3));
    assert_int_equal(swap_env_slot(env, pg(7)), s);
    assert_int_equal(sw->area.slot[s].count, 2);
    swap_env_check(env);
    /* one swap-in brings the frame back for both */
    assert_true(swap_env_has(env, pg(3), 9));
    assert_true(swap_env_has(env, pg(7), 9));
    assert_int_equal(env->m->mm.stats.count[RES_SWAP_IN], 1);
    assert_int_equal(env->m->mm.stats.count[RES_SWAP_MINOR], 1);
    struct s2_info a = mm_env_lookup(env->m, pg(3)), b = mm_env_lookup(env->m, pg(7));
    assert_true(a.hpa == b.hpa);
    assert_int_equal(frame_of(&env->m->fp, a.hpa)->mapcount, 2);
    assert_int_equal(sw->area.slot[s].count, 0); /* only the cache holds it */
    /* a write to one copies; the other keeps the cached frame */
    swap_env_write64(env, pg(7), 5);
    assert_int_equal(env->m->mm.stats.count[RES_COW_COPY], 1);
    assert_true(swap_env_has(env, pg(3), 9));
    assert_int_equal(swap_env_read64(env, pg(7)), 5);
    swap_env_free(env);
}
MM_BOTH_FORMATS(shared_frames)

/* A clean cached frame whose slot cannot count one more entry per mapping:
 * the uses taken are given back and nothing is unmapped (logged); with
 * room again, every mapping becomes an entry and the frame goes. */
static void slot_count_full_keeps_frame(const struct s2pt_format *fmt)
{
    struct swap_env *env = big(fmt, true);
    struct swap *sw = &env->sw;
    swap_env_fill(env, pg(3), 9);
    swap_env_fill(env, pg(7), 9);
    assert_int_equal(mm_merge_pages(&env->m->mm, pg(3), pg(7)), 0);
    assert_int_equal(swap_reclaim(sw, 1), 1);
    uint64_t s = swap_env_slot(env, pg(3));
    assert_true(swap_env_has(env, pg(3), 9));
    assert_true(swap_env_has(env, pg(7), 9));
    assert_int_equal(sw->area.slot[s].count, 0);
    struct frame *f = frame_of(&env->m->fp, mm_env_lookup(env->m, pg(3)).hpa);
    assert_true(f->flags & FRAME_SWAPCACHE);

    sw->area.slot[s].count = SWAP_SLOT_COUNT_MAX - 1; /* room for one entry, not two */
    no_recent(env);
    host_log_clear();
    assert_int_equal(swap_reclaim(sw, 1), 0);
    assert_true(host_log_contains("reclaim: cannot unmap gpa 0x103000 to slot"));
    assert_int_equal(sw->area.slot[s].count, SWAP_SLOT_COUNT_MAX - 1);
    assert_int_equal(f->mapcount, 2);
    assert_int_equal(mm_env_lookup(env->m, pg(7)).state, S2_PRESENT);
    assert_int_equal(sw->st.clean_dropped, 0);

    sw->area.slot[s].count = 0;
    swap_env_check(env);
    assert_int_equal(swap_reclaim(sw, 1), 1);
    assert_int_equal(swap_env_slot(env, pg(3)), s);
    assert_int_equal(swap_env_slot(env, pg(7)), s);
    assert_int_equal(sw->area.slot[s].count, 2);
    assert_int_equal(sw->st.clean_dropped, 1);
    swap_env_free(env);
}
MM_BOTH_FORMATS(slot_count_full_keeps_frame)

/* ---- aging --------------------------------------------------------------------------- */

static void second_chance(const struct s2pt_format *fmt)
{
    struct swap_env *env = big(fmt, true);
    struct swap *sw = &env->sw;
    swap_env_fill(env, pg(0), 1); /* oldest: the inactive tail */
    swap_env_fill(env, pg(1), 2);
    set_accessed(env, pg(0));
    no_recent(env);
    assert_int_equal(swap_reclaim(sw, 1), 1);
    assert_int_equal(sw->st.referenced, 1);
    assert_int_equal(swap_env_state(env, pg(0)), S2_PRESENT);
    assert_int_equal(swap_env_state(env, pg(1)), S2_SWAP);
    struct frame *f = frame_of(&env->m->fp, mm_env_lookup(env->m, pg(0)).hpa);
    assert_true(f->flags & FRAME_ACTIVE);
    /* the bit was cleared: with nothing else left, it goes next */
    assert_int_equal(swap_reclaim(sw, 1), 1);
    assert_int_equal(swap_env_state(env, pg(0)), S2_SWAP);
    swap_env_free(env);
}
MM_BOTH_FORMATS(second_chance)

/* The last faulted-in frame is not evicted before its access completes. */
static void recent_fault_protected(const struct s2pt_format *fmt)
{
    struct swap_env *env = big(fmt, true);
    swap_env_fill(env, pg(0), 1);
    swap_env_fill(env, pg(1), 2); /* the latest fault */
    assert_int_equal(swap_reclaim(&env->sw, 2), 1);
    assert_int_equal(swap_env_state(env, pg(1)), S2_PRESENT);
    assert_int_equal(swap_env_state(env, pg(0)), S2_SWAP);
    swap_env_free(env);
}
MM_BOTH_FORMATS(recent_fault_protected)

/* Without A/D bits, aging takes rights away and the use faults them back. */
static void fallback_rights(const struct s2pt_format *fmt)
{
    struct swap_env *env = big(fmt, false);
    struct swap *sw = &env->sw;
    assert_false(env->m->mm.s2.use_ad);
    swap_env_fill(env, pg(0), 1);
    swap_env_fill(env, pg(1), 2);
    no_recent(env);
    assert_int_equal(swap_reclaim(sw, 1), 1);
    /* both looked referenced once (rights present), lost their rights,
     * were aged back; the older went */
    assert_int_equal(swap_env_state(env, pg(0)), S2_SWAP);
    struct s2_info e = mm_env_lookup(env->m, pg(1));
    assert_int_equal(e.state, S2_PRESENT);
    assert_int_equal(e.rights, 0);
    /* a use restores the rights through the reprotect fault ... */
    mm_env_expect(env->m, pg(1), ACC_R, FAULT_MAPPED, RES_REPROTECT);
    assert_true(mm_env_lookup(env->m, pg(1)).rights != 0);
    /* ... and a write through cow-reuse; the data never moved */
    mm_env_expect(env->m, pg(1), ACC_W, FAULT_MAPPED, RES_COW_REUSE);
    assert_true(swap_env_has(env, pg(1), 2));
    assert_true(swap_env_has(env, pg(0), 1));
    swap_env_free(env);
}
MM_BOTH_FORMATS(fallback_rights)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reclaim_order_both),
        cmocka_unit_test(batched_writes_both),
        cmocka_unit_test(nothing_freed_before_durable_both),
        cmocka_unit_test(write_error_keeps_page_both),
        cmocka_unit_test(lost_device_keeps_pages_both),
        cmocka_unit_test(shared_frames_both),
        cmocka_unit_test(slot_count_full_keeps_frame_both),
        cmocka_unit_test(second_chance_both),
        cmocka_unit_test(recent_fault_protected_both),
        cmocka_unit_test(fallback_rights_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for asynchronous swap-out (swap/writeback.c with reclaim.c,
 * over the host test device in its asynchronous mode): frames freed only
 * when their write finished, one request per run of consecutive slots, a
 * guest touching a page under write, the free-frame reserve refilled
 * without waiting, failed writes and a device lost with
 * writes in flight (pages restored, nothing freed, nothing lost), a full
 * device ring, and reordered, delayed completions under the fault path's
 * own reclaim.
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
#define DISK_PAGES 1024u
#define SMALL_ARENA (1536u << 10) /* ~370 frames */
#define SECTORS_PER_PAGE (PAGE_SIZE / BLK_FILE_SECTOR)

static gpa_t pg(unsigned i) { return RAM + (gpa_t)i * PAGE_SIZE; }

/* Swap over the host test device in asynchronous mode, completions held
 * until the test lets them go. */
static struct swap_env *async_env(const struct s2pt_format *fmt, size_t arena, unsigned inflight,
                                  enum blk_async_order order)
{
    struct swap_env *env = swap_env_new(fmt, true, arena, DISK_PAGES, NULL, 0, RA_CLUSTER, 8);
    assert_int_equal(mm_add_anon(&env->m->mm, RAM, RAM_END, "ram"), 0);
    env->m->mm.huge_anon = false;
    blk_file_set_async(&env->blk, inflight, order, 0, 1);
    env->blk.hold = true;
    return env;
}

static void fill(struct swap_env *env, unsigned n, uint64_t tag0)
{
    for (unsigned i = 0; i < n; i++)
        swap_env_fill(env, pg(i), tag0 + i);
    env->sw.recent = NULL;
}



/* Submitted, in flight, nothing freed; freed once the writes finished. */
static void freed_only_when_written(const struct s2pt_format *fmt)
{
    struct swap_env *env = async_env(fmt, MM_ENV_ARENA, 8, BLK_ASYNC_FIFO);
    struct swap *sw = &env->sw;
    fill(env, 100, 500);
    struct frame *f7 = mm_env_frame(env->m, pg(7));
    size_t free0 = frame_free_count(&env->m->fp);
    assert_int_equal(reclaim_run(sw, 100, 10000), 0); /* nothing freed yet */
    assert_int_equal(frame_free_count(&env->m->fp), free0);
    assert_int_equal(sw->wb.inflight, 100);
    assert_int_equal(sw->wb.st.requests, 2);          /* 64 + 36 consecutive slots */
    assert_int_equal(env->blk.submitted, 2);
    assert_int_equal(sw->area.st.write_requests, 2);
    uint64_t s7 = swap_env_slot(env, pg(7));                /* the guest sees a swap entry */
    assert_true(f7->flags & FRAME_LOCKED);
    assert_true(f7->flags & FRAME_SWAPCACHE);
    assert_int_equal(f7->swap_slot, s7);
    assert_false(sw->area.slot[s7].flags & SLOT_WRITTEN);
    swap_env_check(env);
    /* the device finishes them: harvested by the next tick */
    env->blk.hold = false;
    reclaim_tick(sw);
    assert_int_equal(sw->wb.inflight, 0);
    assert_true(frame_free_count(&env->m->fp) >= free0 + 100);
    assert_int_equal(sw->st.outs, 100);
    assert_int_equal(sw->wb.st.written, 100);
    assert_true(sw->area.slot[s7].flags & SLOT_WRITTEN);
    swap_env_check(env);
    for (unsigned i = 0; i < 100; i++)
        assert_true(swap_env_has(env, pg(i), 500 + i));
    swap_env_free(env);
}
MM_BOTH_FORMATS(freed_only_when_written)

/* The guest reads one page and writes another while their write is in
 * flight: each fault waits for that request and gets the frame back. */
static void touched_while_written(const struct s2pt_format *fmt)
{
    struct swap_env *env = async_env(fmt, MM_ENV_ARENA, 8, BLK_ASYNC_FIFO);
    struct swap *sw = &env->sw;
    fill(env, 80, 900);
    struct frame *f5 = mm_env_frame(env->m, pg(5)), *f70 = mm_env_frame(env->m, pg(70));
    reclaim_run(sw, 80, 10000);
    assert_int_equal(sw->wb.inflight, 80);
    uint64_t minor0 = sw->st.ins_minor, reads0 = sw->area.st.read_requests;
    assert_true(swap_env_has(env, pg(5), 905));       /* waits: no read, minor */
    assert_int_equal(sw->wb.st.waits, 1);
    assert_int_equal(sw->st.ins_minor, minor0 + 1);
    assert_int_equal(sw->area.st.read_requests, reads0);
    assert_true(mm_env_frame(env->m, pg(5)) == f5);          /* the same frame, kept */
    assert_false(f5->flags & FRAME_LOCKED);
    swap_env_check(env);
    /* a write to a page of the other request (still in flight) */
    swap_env_write64(env, pg(70) + 16, 0xabcdef);
    assert_int_equal(sw->wb.st.waits, 2);
    assert_int_equal(swap_env_read64(env, pg(70) + 16), 0xabcdef);
    assert_true(mm_env_frame(env->m, pg(70)) == f70);
    assert_int_equal(sw->wb.inflight, 0);
    swap_env_check(env);
    reclaim_tick(sw);
    swap_env_check(env);
    for (unsigned i = 0; i < 80; i++) {
        if (i == 70)
            continue;
        assert_true(swap_env_has(env, pg(i), 900 + i));
    }
    swap_env_free(env);
}
MM_BOTH_FORMATS(touched_while_written)

/* A write that fails (a bad slot): the page comes back resident in the
 * same frame, not cached, on the active list; the slot is bad; nothing
 * else changes. */
static void failed_write_restores_page(const struct s2pt_format *fmt)
{
    struct swap_env *env = async_env(fmt, MM_ENV_ARENA, 8, BLK_ASYNC_FIFO);
    struct swap *sw = &env->sw;
    fill(env, 10, 40);
    hpa_t before = mm_env_lookup(env->m, pg(3)).hpa;
    size_t free0 = frame_free_count(&env->m->fp);
    reclaim_run(sw, 10, 10000);
    uint64_t s3 = swap_env_slot(env, pg(3));
    blk_file_set_bad(&env->blk, s3 * SECTORS_PER_PAGE, (s3 + 1) * SECTORS_PER_PAGE,
                     BLK_FAIL_WRITE);
    env->blk.hold = false;
    host_log_clear();
    reclaim_tick(sw);
    assert_int_equal(sw->wb.st.failed, 1);
    assert_int_equal(sw->st.write_failed, 1);
    assert_int_equal(sw->wb.st.written, 9);
    assert_int_equal(sw->area.slot[s3].state, SLOT_BAD);
    assert_true(host_log_contains("failed: slot marked bad; the page stays in memory"));
    struct s2_info e = mm_env_lookup(env->m, pg(3));
    assert_int_equal(e.state, S2_PRESENT);
    assert_true(e.hpa == before);
    /* mapped back as a swap-in would (writable: its slot's only user), and
     * out of the cache: reclaim writes it whatever its dirty bit says */
    assert_true(e.rights & ACC_W);
    struct frame *f = frame_of(&env->m->fp, e.hpa);
    assert_false(f->flags & (FRAME_SWAPCACHE | FRAME_LOCKED));
    assert_true(f->flags & FRAME_ACTIVE);
    assert_true(frame_free_count(&env->m->fp) >= free0 + 9);
    swap_env_check(env);
    /* the guest writes it: the same frame, made writable */
    swap_env_write64(env, pg(3) + 8, 1234);
    assert_true(mm_env_lookup(env->m, pg(3)).hpa == before);
    assert_int_equal(swap_env_read64(env, pg(3) + 8), 1234);
    for (unsigned i = 0; i < 10; i++)
        if (i != 3)
            assert_true(swap_env_has(env, pg(i), 40 + i));
    /* and it can go out again, to another slot */
    blk_file_set_bad(&env->blk, 0, 0, 0);
    env->sw.recent = NULL;
    assert_true(swap_reclaim(sw, 20) > 0);
    assert_int_equal(swap_env_read64(env, pg(3) + 8), 1234);
    swap_env_free(env);
}
MM_BOTH_FORMATS(failed_write_restores_page)

/* The guest faults on a page whose write then fails: the fault gets the
 * frame (the only copy); the page's restore finishes at the next harvest
 * outside the fault. */
static void failed_write_while_guest_waits(const struct s2pt_format *fmt)
{
    struct swap_env *env = async_env(fmt, MM_ENV_ARENA, 8, BLK_ASYNC_FIFO);
    struct swap *sw = &env->sw;
    fill(env, 6, 70);
    swap_env_fill(env, pg(9), 79);                    /* shared with pg(8) below */
    swap_env_fill(env, pg(8), 79);
    assert_int_equal(mm_merge_pages(&env->m->mm, pg(8), pg(9)), 0);
    env->sw.recent = NULL;
    reclaim_run(sw, 8, 10000);
    uint64_t s8 = swap_env_slot(env, pg(8));
    assert_int_equal(swap_env_slot(env, pg(9)), s8);
    blk_file_set_bad(&env->blk, s8 * SECTORS_PER_PAGE, (s8 + 1) * SECTORS_PER_PAGE,
                     BLK_FAIL_WRITE);
    assert_true(swap_env_has(env, pg(8), 79));        /* waited; failed; handed over */
    assert_int_equal(sw->wb.st.waits, 1);
    assert_int_equal(sw->wb.st.failed, 1);
    struct frame *f8 = mm_env_frame(env->m, pg(8));
    assert_true(f8->flags & FRAME_LOCKED);            /* pg(9) not restored yet */
    assert_int_equal(swap_env_state(env, pg(9)), S2_SWAP);
    swap_env_check(env);
    reclaim_tick(sw);                                 /* restores outside the fault */
    assert_false(f8->flags & (FRAME_LOCKED | FRAME_SWAPCACHE));
    assert_true(mm_env_frame(env->m, pg(9)) == f8);          /* still shared */
    assert_int_equal(sw->area.slot[s8].state, SLOT_BAD);
    swap_env_check(env);
    assert_true(swap_env_has(env, pg(9), 79));
    for (unsigned i = 0; i < 6; i++)
        assert_true(swap_env_has(env, pg(i), 70 + i));
    swap_env_free(env);
}
MM_BOTH_FORMATS(failed_write_while_guest_waits)

/* The device is lost with writes in flight: each is answered with an
 * error, every page is restored, nothing is freed or lost, and no page
 * leaves memory for the failed device any more. */
static void device_lost_mid_flight(const struct s2pt_format *fmt)
{
    struct swap_env *env = async_env(fmt, MM_ENV_ARENA, 8, BLK_ASYNC_RANDOM);
    struct swap *sw = &env->sw;
    fill(env, 150, 3000);
    size_t free0 = frame_free_count(&env->m->fp);
    reclaim_run(sw, 150, 10000);
    assert_int_equal(sw->wb.inflight, 150);
    blk_file_lose(&env->blk);
    host_log_clear();
    reclaim_tick(sw);
    assert_int_equal(sw->wb.inflight, 0);
    assert_int_equal(sw->wb.st.failed, 150);
    assert_int_equal(sw->st.outs, 0);
    assert_int_equal(frame_free_count(&env->m->fp), free0);
    swap_env_check(env);
    uint64_t w0 = sw->area.st.write_requests;
    env->sw.recent = NULL;
    assert_int_equal(swap_reclaim(sw, 10), 0);        /* nothing leaves for a lost device */
    assert_int_equal(sw->area.st.write_requests, w0);
    assert_true(host_log_contains("has failed: swap-out stopped"));
    for (unsigned i = 0; i < 150; i++) {
        assert_int_equal(swap_env_state(env, pg(i)), S2_PRESENT);
        assert_true(swap_env_has(env, pg(i), 3000 + i));
    }
    swap_env_free(env);
}
MM_BOTH_FORMATS(device_lost_mid_flight)

/* A device that holds two requests at a time: reclaim waits for room and
 * goes on; every page is written once and comes back. */
static void bounded_by_the_device(const struct s2pt_format *fmt)
{
    struct swap_env *env = async_env(fmt, MM_ENV_ARENA, 2, BLK_ASYNC_REVERSE);
    struct swap *sw = &env->sw;
    env->blk.hold = false;
    env->blk.delay_one_in = 2;
    fill(env, 300, 7000);
    assert_int_equal(swap_reclaim(sw, 300), 300);
    assert_int_equal(sw->st.outs, 300);
    assert_true(sw->wb.st.full_waits > 0);
    assert_true(sw->wb.st.peak_pages <= 2 * WB_PAGES);
    assert_int_equal(sw->wb.st.sync_fallback, 0);
    swap_env_check(env);
    for (unsigned i = 0; i < 300; i++)
        assert_true(swap_env_has(env, pg(i), 7000 + i));
    swap_env_free(env);
}
MM_BOTH_FORMATS(bounded_by_the_device)

/* A guest much larger than its frames, reclaim driven by the fault path
 * (watermarks), completions delayed and reordered at random: every page
 * comes back as written, the frame pool ends exactly where it started. */
static void overcommitted_random_completions(const struct s2pt_format *fmt)
{
    struct swap_env *env = async_env(fmt, SMALL_ARENA, 6, BLK_ASYNC_RANDOM);
    struct swap *sw = &env->sw;
    env->blk.hold = false;
    env->blk.delay_one_in = 3;
    const unsigned n = 900; /* ~2.5x the frames */
    for (unsigned round = 0; round < 2; round++) {
        for (unsigned i = 0; i < n; i++) {
            swap_env_fill(env, pg(i), round * 10000 + i);
            if (i % 97 == 0)
                reclaim_tick(sw);
        }
        for (unsigned i = 0; i < n; i += 7)
            assert_true(swap_env_has(env, pg(i), round * 10000 + i));
        swap_env_check(env);
    }
    for (unsigned i = 0; i < n; i++)
        assert_true(swap_env_has(env, pg(i), 10000 + i));
    assert_true(sw->wb.st.requests > 0);
    assert_true(sw->wb.st.written > n);
    assert_int_equal(sw->wb.st.failed, 0);
    swap_env_free(env); /* mm_env_free: the pool is whole again */
}
MM_BOTH_FORMATS(overcommitted_random_completions)

/* The free-frame reserve (kswapd-like): below low, the fault path's
 * reclaim submits writes up to high and the fault goes on without waiting
 * for them; a fault waits only once no frame is free at all. */
static void reserve_refilled_without_waiting(const struct s2pt_format *fmt)
{
    struct swap_env *env = async_env(fmt, SMALL_ARENA, 16, BLK_ASYNC_FIFO);
    struct swap *sw = &env->sw;
    struct frame_pool *fp = &env->m->fp;
    unsigned i = 0;
    while (sw->wb.inflight == 0) {
        assert_true(i < 2000);
        swap_env_fill(env, pg(i), 20000 + i);
        i++;
    }
    /* the first writes went out below low, asynchronously: nobody waited */
    assert_true(frame_free_count(fp) < sw->wm.low);
    assert_true(frame_free_count(fp) > 0);
    assert_int_equal(env->blk.waited, 0);
    assert_int_equal(sw->wb.st.waits, 0);
    assert_int_equal(sw->st.urgent, 0);
    assert_true(sw->st.direct > 0);
    /* completions held: the guest goes on until nothing is free, then a
     * fault waits for a write (urgent reclaim) */
    while (sw->st.urgent == 0) {
        assert_true(i < 2000);
        swap_env_fill(env, pg(i), 20000 + i);
        i++;
    }
    assert_true(env->blk.waited > 0);
    env->blk.hold = false;
    reclaim_tick(sw);
    swap_env_check(env);
    for (unsigned k = 0; k < i; k++)
        assert_true(swap_env_has(env, pg(k), 20000 + k));
    swap_env_free(env);
}
MM_BOTH_FORMATS(reserve_refilled_without_waiting)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(freed_only_when_written_both),
        cmocka_unit_test(touched_while_written_both),
        cmocka_unit_test(failed_write_restores_page_both),
        cmocka_unit_test(failed_write_while_guest_waits_both),
        cmocka_unit_test(device_lost_mid_flight_both),
        cmocka_unit_test(bounded_by_the_device_both),
        cmocka_unit_test(overcommitted_random_completions_both),
        cmocka_unit_test(reserve_refilled_without_waiting_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

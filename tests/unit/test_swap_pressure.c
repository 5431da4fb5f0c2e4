/*
 * Unit tests for reclaim under memory pressure (swap/reclaim.c with the
 * fault-path hooks): watermarks, direct and urgent reclaim, OOM without a
 * device or with a full one, reclaim ticks. The rest of reclaim:
 * test_swap_reclaim.c.
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
#define SMALL_ARENA (1536u << 10) /* ~370 frames */

static gpa_t pg(unsigned i) { return RAM + (gpa_t)i * PAGE_SIZE; }

static void test_watermarks(void **state)
{
    (void)state;
    struct reclaim_marks wm;
    reclaim_marks_for(100, &wm);
    assert_int_equal(wm.min, 8);
    assert_int_equal(wm.low, 16);
    assert_int_equal(wm.high, 24);
    reclaim_marks_for(65536, &wm); /* 256 MiB */
    assert_int_equal(wm.min, 512);
    assert_int_equal(wm.low, 1024);
    assert_int_equal(wm.high, 1536);
    reclaim_marks_for(1u << 30, &wm);
    assert_int_equal(wm.min, 4096);
}

/* A small pool and a guest three times its size: direct reclaim keeps free
 * frames above min and the data survives. */
static void direct_reclaim(const struct s2pt_format *fmt)
{
    struct swap_env *env = swap_env_new(fmt, true, SMALL_ARENA, 2048, NULL, 0, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    size_t nframes = env->m->fp.nframes;
    unsigned npages = (unsigned)(3 * nframes);
    assert_int_equal(mm_add_anon(&env->m->mm, RAM, RAM + npages * PAGE_SIZE, "ram"), 0);
    env->m->mm.huge_anon = false;
    assert_int_equal(env->m->mm.reclaim_low, sw->wm.low);
    for (unsigned i = 0; i < npages; i++) {
        swap_env_fill(env, pg(i), 7 + i);
        assert_true(frame_free_count(&env->m->fp) >= sw->wm.min);
    }
    assert_true(sw->st.direct > 0);
    assert_true(sw->st.outs > nframes);
    assert_int_equal(sw->st.urgent, 0);
    swap_env_check(env);
    for (unsigned i = 0; i < npages; i++)
        if (!swap_env_has(env, pg(i), 7 + i))
            fail_msg("[%s] page %u lost", fmt->name, i);
    swap_env_free(env);
}
MM_BOTH_FORMATS(direct_reclaim)

/* No direct reclaim (reclaim_low 0): allocation fails, the urgent hook frees
 * frames and the fault is resolved on the second try. */
static void urgent_reclaim(const struct s2pt_format *fmt)
{
    struct swap_env *env = swap_env_new(fmt, true, SMALL_ARENA, 2048, NULL, 0, RA_OFF, 0);
    struct swap *sw = &env->sw;
    unsigned npages = (unsigned)(2 * env->m->fp.nframes);
    assert_int_equal(mm_add_anon(&env->m->mm, RAM, RAM + npages * PAGE_SIZE, "ram"), 0);
    env->m->mm.reclaim_low = 0;
    for (unsigned i = 0; i < npages; i++)
        swap_env_fill(env, pg(i), 3 + i);
    assert_int_equal(sw->st.direct, 0);
    assert_true(sw->st.urgent > 0);
    assert_int_equal(env->m->mm.stats.count[RES_OOM], 0);
    for (unsigned i = 0; i < npages; i++)
        assert_true(swap_env_has(env, pg(i), 3 + i));
    swap_env_free(env);
}
MM_BOTH_FORMATS(urgent_reclaim)

/* Without a device only zero pages can go: zeros fit, data runs out. */
static void oom_without_device(const struct s2pt_format *fmt)
{
    struct swap_env *env = swap_env_new(fmt, true, SMALL_ARENA, 0, NULL, 0, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    unsigned npages = (unsigned)(3 * env->m->fp.nframes);
    assert_int_equal(mm_add_anon(&env->m->mm, RAM, RAM + 2 * npages * PAGE_SIZE, "ram"), 0);
    for (unsigned i = 0; i < npages; i++)
        swap_env_write64(env, pg(i), 0); /* guests zero a lot of memory */
    assert_true(sw->st.zero_recovered > npages / 2);
    unsigned i;
    for (i = npages; i < 2 * npages; i++) {
        uint64_t v = i;
        if (mm_write(&env->m->mm, pg(i), &v, sizeof(v)) != 0)
            break;
    }
    assert_true(i < 2 * npages);
    struct fault_outcome o = mm_env_fault(env->m, pg(i), ACC_W);
    assert_int_equal(o.kind, FAULT_OOM);
    assert_int_equal(o.res, RES_OOM);
    char buf[256];
    swap_describe_oom(sw, buf, sizeof(buf));
    assert_non_null(strstr(buf, "swap none: 0 of 0 slots used"));
    assert_non_null(strstr(buf, "nothing left to reclaim"));
    /* what was written is still there */
    for (unsigned k = npages; k < i; k++)
        assert_int_equal(swap_env_read64(env, pg(k)), k);
    swap_env_free(env);
}
MM_BOTH_FORMATS(oom_without_device)

/* A full swap device: dirty pages stay, the guest is paused with OOM. */
static void oom_swap_full(const struct s2pt_format *fmt)
{
    struct swap_env *env = swap_env_new(fmt, true, SMALL_ARENA, 32, NULL, 0, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    unsigned npages = (unsigned)(2 * env->m->fp.nframes);
    assert_int_equal(mm_add_anon(&env->m->mm, RAM, RAM + npages * PAGE_SIZE, "ram"), 0);
    unsigned i;
    for (i = 0; i < npages; i++) {
        uint64_t v = i + 1;
        if (mm_write(&env->m->mm, pg(i), &v, sizeof(v)) != 0)
            break;
    }
    assert_true(i < npages);
    assert_int_equal(sw->area.used, sw->area.nslots);
    assert_true(sw->st.swap_full > 0);
    assert_int_equal(mm_env_fault(env->m, pg(i), ACC_W).kind, FAULT_OOM);
    /* nothing lost: resident pages hold their data, the others' slots do
     * (reading those back would need a frame: that is the OOM) */
    for (unsigned k = 0; k < i; k++) {
        struct s2_info e = mm_env_lookup(env->m, pg(k));
        if (e.state == S2_PRESENT) {
            assert_int_equal(swap_env_read64(env, pg(k)), k + 1);
            continue;
        }
        assert_int_equal(e.state, S2_SWAP);
        uint64_t v;
        memcpy(&v, swap_env_slot_data(env, swp_offset(e.swap)), sizeof(v));
        assert_int_equal(v, k + 1);
    }
    swap_env_free(env);
}
MM_BOTH_FORMATS(oom_swap_full)

/* Background ticks bring free frames back to high; frames of a split 2 MiB
 * block, which no fault put on the LRU, are adopted. */
static void ticks_and_adoption(const struct s2pt_format *fmt)
{
    struct swap_env *env = swap_env_new(fmt, true, 6u << 20, 2048, NULL, 0, RA_CLUSTER, 8);
    struct swap *sw = &env->sw;
    struct guest_mm *mm = &env->m->mm;
    assert_int_equal(mm_add_anon(mm, 2 * MiB, 4 * MiB, "huge"), 0);
    mm->huge_anon = true;
    swap_env_write64(env, 2 * MiB, 42);
    assert_int_equal(mm_env_lookup(env->m, 2 * MiB).size, HUGE_2M);
    assert_int_equal(lru_total(&sw->lru), 0); /* 2 MiB blocks are never listed */
    /* cut the block: the rest becomes 511 independent frames */
    assert_int_equal(mm_unmap_range(mm, 2 * MiB + 511 * PAGE_SIZE, 4 * MiB), 0);
    assert_int_equal(reclaim_adopt(sw, env->m->fp.nframes), 511);
    assert_int_equal(sw->st.adopted, 511);

    mm->reclaim_low = 0; /* only ticks reclaim here */
    assert_int_equal(mm_add_anon(mm, 8 * MiB, 16 * MiB, "ram"), 0);
    mm->huge_anon = false;
    for (gpa_t g = 8 * MiB; frame_free_count(&env->m->fp) >= sw->wm.high; g += PAGE_SIZE)
        swap_env_write64(env, g, g);
    size_t freed = reclaim_tick(sw);
    assert_true(freed > 0);
    assert_true(frame_free_count(&env->m->fp) >= sw->wm.high);
    assert_int_equal(sw->st.ticks, 1);
    assert_int_equal(reclaim_tick(sw), 0); /* above high: nothing to do */
    assert_int_equal(swap_env_read64(env, 2 * MiB), 42);
    swap_env_free(env);
}
MM_BOTH_FORMATS(ticks_and_adoption)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watermarks),
        cmocka_unit_test(direct_reclaim_both),
        cmocka_unit_test(urgent_reclaim_both),
        cmocka_unit_test(oom_without_device_both),
        cmocka_unit_test(oom_swap_full_both),
        cmocka_unit_test(ticks_and_adoption_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the swap cache (swap/swap_cache.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "swap/swap_cache.h"

#define ARENA (4u << 20)

struct cache_env {
    void *arena;
    struct frame_pool fp;
    struct swap_cache c;
    void *mem;
};

static struct cache_env *env_new(size_t nframes)
{
    struct cache_env *e = calloc(1, sizeof(*e));
    e->arena = aligned_alloc(HUGE_2M, ARENA);
    assert_int_equal(frame_pool_init(&e->fp, va_hpa(e->arena), ARENA), 0);
    size_t len = swap_cache_meta_size(nframes);
    e->mem = aligned_alloc(8, len);
    memset(e->mem, 0x5a, len);
    assert_int_equal(swap_cache_init(&e->c, e->mem, len, nframes), 0);
    return e;
}

static void env_free(struct cache_env *e)
{
    assert_true(swap_cache_check(&e->c));
    assert_true(frame_pool_check(&e->fp));
    free(e->mem);
    free(e->arena);
    free(e);
}

static void test_insert_lookup_remove(void **state)
{
    (void)state;
    struct cache_env *e = env_new(100);
    assert_int_equal(e->c.cap, 256); /* >= 2 * frames, power of two */
    struct frame *f = frame_alloc(&e->fp, FRAME_GUEST);
    struct frame *g = frame_alloc(&e->fp, FRAME_GUEST);
    assert_null(swap_cache_lookup(&e->c, 5));
    assert_int_equal(swap_cache_insert(&e->c, 5, f), 0);
    assert_int_equal(swap_cache_insert(&e->c, 6, g), 0);
    assert_ptr_equal(swap_cache_lookup(&e->c, 5), f);
    assert_ptr_equal(swap_cache_lookup(&e->c, 6), g);
    assert_ptr_equal(swap_cache_peek(&e->c, 6), g);
    assert_int_equal(f->refcount, 2); /* the cache holds one */
    assert_true(f->flags & FRAME_SWAPCACHE);
    assert_int_equal(f->swap_slot, 5);
    assert_int_equal(e->c.n, 2);
    /* a slot or a frame is cached once */
    assert_int_equal(swap_cache_insert(&e->c, 5, g), -PV_EEXIST);
    assert_int_equal(swap_cache_insert(&e->c, 9, f), -PV_EEXIST);
    assert_true(swap_cache_check(&e->c));

    size_t free0 = frame_free_count(&e->fp);
    assert_true(swap_cache_remove(&e->c, &e->fp, 5));
    assert_false(swap_cache_remove(&e->c, &e->fp, 5));
    assert_null(swap_cache_lookup(&e->c, 5));
    assert_int_equal(f->refcount, 1);
    assert_false(f->flags & FRAME_SWAPCACHE);
    assert_true(f->swap_slot == SWAP_SLOT_NONE);
    assert_int_equal(frame_free_count(&e->fp), free0);
    /* the cache's reference being the last one frees the frame */
    frame_put(&e->fp, g);
    assert_int_equal(g->refcount, 1);
    assert_true(swap_cache_remove(&e->c, &e->fp, 6));
    assert_int_equal(frame_free_count(&e->fp), free0 + 1);
    frame_put(&e->fp, f);
    assert_int_equal(e->c.lookups, 4);
    assert_int_equal(e->c.hits, 2);
    env_free(e);
}

/* Nearly full table, removals in a scrambled order: every remaining entry
 * must stay reachable (backward-shift deletion keeps probe runs intact). */
static void test_full_table_churn(void **state)
{
    (void)state;
    struct cache_env *e = env_new(64); /* cap 128 */
    enum { N = 127 };
    struct frame *fr[N];
    uint64_t slots[N];
    for (int i = 0; i < N; i++) {
        fr[i] = frame_alloc(&e->fp, FRAME_GUEST);
        slots[i] = 1000 + (uint64_t)i * 128; /* 127 of 128: long probe runs */
        assert_int_equal(swap_cache_insert(&e->c, slots[i], fr[i]), 0);
    }
    struct frame *extra = frame_alloc(&e->fp, FRAME_GUEST);
    assert_int_equal(swap_cache_insert(&e->c, 7, extra), -PV_ENOMEM);
    assert_true(swap_cache_check(&e->c));
    uint64_t x = 12345;
    bool gone[N] = { false };
    for (int k = 0; k < N; k++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int i = (int)((x >> 33) % N);
        while (gone[i])
            i = (i + 1) % N;
        assert_true(swap_cache_remove(&e->c, &e->fp, slots[i]));
        gone[i] = true;
        for (int j = 0; j < N; j++)
            assert_ptr_equal(swap_cache_peek(&e->c, slots[j]), gone[j] ? NULL : fr[j]);
        assert_true(swap_cache_check(&e->c));
    }
    assert_int_equal(e->c.n, 0);
    for (int i = 0; i < N; i++)
        frame_put(&e->fp, fr[i]);
    frame_put(&e->fp, extra);
    env_free(e);
}

static void test_init_errors(void **state)
{
    (void)state;
    struct swap_cache c;
    uint64_t mem[64];
    assert_int_equal(swap_cache_meta_size(1), 16 * sizeof(struct swap_cache_ent));
    assert_int_equal(swap_cache_init(&c, mem, sizeof(mem), 100), -PV_EINVAL);
    assert_int_equal(swap_cache_init(&c, (char *)mem + 1, sizeof(mem) - 8, 1), -PV_EINVAL);
    assert_int_equal(swap_cache_init(&c, NULL, 0, 1), -PV_EINVAL);
    assert_int_equal(swap_cache_init(&c, mem, 16 * sizeof(struct swap_cache_ent), 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_lookup_remove),
        cmocka_unit_test(test_full_table_churn),
        cmocka_unit_test(test_init_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

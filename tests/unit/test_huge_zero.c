/*
 * A 2 MiB block that already reads as zero is mapped without being cleared
 * again (ept/fault.c, try_anon_huge; ept/zero_scan.c): the scan itself, and
 * through the fault path that a block with residue anywhere in it, its
 * last word included, is still cleared before the guest sees it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "mm_env.h"

#define SCAN_BYTES 8192u
#define MiB (1ull << 20)

static void scan_finds_zero_and_any_residue(void **state)
{
    (void)state;
    uint64_t *buf = aligned_alloc(64, SCAN_BYTES);
    assert_non_null(buf);
    memset(buf, 0, SCAN_BYTES);
    assert_true(frame_bytes_zero(buf, SCAN_BYTES));
    assert_true(frame_bytes_zero(buf, 0));
    /* one non-zero byte at the edges of a step, and at the very end */
    static const size_t at[] = { 0, 7, 8, 63, 64, 4095, 4096, SCAN_BYTES - 1 };
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        ((uint8_t *)buf)[at[i]] = 0x01;
        if (frame_bytes_zero(buf, SCAN_BYTES))
            fail_msg("a byte at offset %zu went unseen", at[i]);
        ((uint8_t *)buf)[at[i]] = 0;
    }
    /* bytes past the length are not read */
    ((uint8_t *)buf)[4096] = 0x80;
    assert_true(frame_bytes_zero(buf, 4096));
    free(buf);
}

static bool block_reads_zero(struct mm_env *env, gpa_t gpa)
{
    struct s2_info e = mm_env_lookup(env, gpa);
    assert_int_equal(e.size, HUGE_2M);
    const uint64_t *w = hpa_va(e.leaf_hpa);
    for (size_t i = 0; i < HUGE_2M / sizeof(*w); i++)
        if (w[i])
            return false;
    return true;
}

/*
 * The arena starts as 0xcc garbage: the first block is cleared. Unmapped,
 * the block returns to the pool still zero, and the next fault on it finds
 * it so (huge-found-zero 1). Residue in its last word then makes the next
 * fault clear it again (the counter stays 1), and the guest reads zeros.
 */
static void zero_block_mapped_uncleared_residue_cleared(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 0, 8 * MiB, "ram"), 0);

    mm_env_expect(env, 2 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_HUGE);
    assert_true(block_reads_zero(env, 2 * MiB));
    assert_int_equal(env->mm.stats.huge_found_zero, 0);
    hpa_t first = mm_env_lookup(env, 2 * MiB).leaf_hpa;

    assert_int_equal(mm_unmap_range(&env->mm, 2 * MiB, 4 * MiB), 0);
    mm_env_expect(env, 2 * MiB + 0x3000, ACC_W, FAULT_MAPPED, RES_ANON_HUGE);
    assert_int_equal(mm_env_lookup(env, 2 * MiB).leaf_hpa, first); /* the same block */
    assert_int_equal(env->mm.stats.huge_found_zero, 1);
    assert_true(block_reads_zero(env, 2 * MiB));

    /* what the guest leaves in it: its last word */
    uint64_t *w = hpa_va(first);
    w[HUGE_2M / sizeof(*w) - 1] = 0x5eed;
    assert_int_equal(mm_unmap_range(&env->mm, 2 * MiB, 4 * MiB), 0);
    mm_env_expect(env, 2 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_HUGE);
    assert_int_equal(mm_env_lookup(env, 2 * MiB).leaf_hpa, first);
    assert_int_equal(env->mm.stats.huge_found_zero, 1);
    assert_true(block_reads_zero(env, 2 * MiB));

    mm_env_expect_stats(env, "anon-huge=3");
    mm_env_free(env);
}
MM_BOTH_FORMATS(zero_block_mapped_uncleared_residue_cleared)

/* The counter has its line in the stats block. */
static void emit_line(void *ctx, const char *line)
{
    if (strcmp(line, "fault huge-found-zero 2") == 0)
        (*(int *)ctx)++;
}

static void the_counter_is_rendered(void **state)
{
    (void)state;
    struct fault_stats st;
    fault_stats_init(&st);
    st.huge_found_zero = 2;
    int seen = 0;
    fault_stats_render(&st, emit_line, &seen);
    assert_int_equal(seen, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scan_finds_zero_and_any_residue),
        cmocka_unit_test(zero_block_mapped_uncleared_residue_cleared_both),
        cmocka_unit_test(the_counter_is_rendered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for reclaim's operations on one frame's mappings
 * (ept/unmap.c): mm_unmap_frame to nothing / the zero frame / a swap entry,
 * for a frame mapped once and one shared by merging, its failure contract,
 * and mm_frame_referenced with accessed bits and with the rights-clearing
 * fallback. Exact counters and references everywhere; both EPT and NPT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "tests/unit/mm_env.h"

#define MiB (1ull << 20)
#define RAM (1 * MiB)
#define RAM_END (2 * MiB)

static struct mm_env *env_new(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, RAM, RAM_END, "ram"), 0);
    env->mm.huge_anon = false;
    return env;
}

static gpa_t pg(unsigned i) { return RAM + (gpa_t)i * PAGE_SIZE; }


/* A frame holding fill at pg(i) for each i in at[0..n), shared by merging
 * when n > 1 (anon-new=n). */
static struct frame *shared_frame(struct mm_env *env, const unsigned *at, size_t n,
                                  uint8_t fill)
{
    for (size_t i = 0; i < n; i++) {
        mm_env_expect(env, pg(at[i]), ACC_W, FAULT_MAPPED, RES_ANON_NEW);
        memset(mm_env_page(env, pg(at[i])), fill, PAGE_SIZE);
    }
    for (size_t i = 1; i < n; i++)
        assert_int_equal(mm_merge_pages(&env->mm, pg(at[0]), pg(at[i])), 0);
    struct frame *f = mm_env_frame(env, pg(at[0]));
    assert_int_equal(f->mapcount, n);
    assert_int_equal(f->refcount, n);
    return f;
}

static void set_accessed(struct mm_env *env, gpa_t gpa)
{
    struct s2_info e;
    struct s2_slot sl;
    s2pt_lookup_slot(&env->mm.s2, gpa, &e, &sl);
    assert_int_equal(e.state, S2_PRESENT);
    ((uint64_t *)hpa_va(sl.table))[sl.idx] |= env->fmt->accessed_bit;
}

/* ---- mm_unmap_frame ------------------------------------------------------------ */

/* An all-zero frame shared by three anon gpas -> every one goes back to
 * untouched (an empty entry reads as zero there), the frame is freed with
 * the last mapping, one invalidation per replaced leaf; a write then is a
 * first touch again (anon-new), which fault-around can batch. */
static void to_zero(const struct s2pt_format *fmt)
{
    struct mm_env *env = env_new(fmt);
    const unsigned at[] = { 0, 5, 9 };
    struct frame *f = shared_frame(env, at, 3, 0);
    size_t free0 = frame_free_count(&env->fp);
    uint64_t inv = env->inv;
    size_t done = 99;

    assert_int_equal(mm_unmap_frame(&env->mm, f, MM_UNMAP_ZERO, 0, &done), 0);
    assert_int_equal(done, 3);
    assert_int_equal(env->inv, inv + 3);
    assert_true(frame_free_count(&env->fp) >= free0 + 1); /* table pages may go too */
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(mm_env_lookup(env, pg(at[i])).state, S2_NONE);
    assert_true(mm_check(&env->mm));
    mm_env_expect(env, pg(5), ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_int_equal(mm_env_page(env, pg(5))[7], 0);
    mm_env_expect_stats(env, "anon-new=4");
    mm_env_free(env);
}
MM_BOTH_FORMATS(to_zero)

/* A zero private copy of an image page: an empty entry there would read
 * the image again, so it maps the zero frame read-only (the region's
 * rights minus W); a write then takes cow-zero. */
static void to_zero_image_page(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    uint8_t *img = aligned_alloc(PAGE_SIZE, 2 * PAGE_SIZE);
    assert_non_null(img);
    memset(img, 0, 2 * PAGE_SIZE);
    gpa_t k = 16 * MiB;
    assert_int_equal(mm_add_image(&env->mm, k, k + 2 * PAGE_SIZE, va_hpa(img), 0,
                                  2 * PAGE_SIZE, "image"),
                     0);
    mm_env_expect(env, k, ACC_W, FAULT_MAPPED, RES_FILE_COPY);
    struct frame *f = mm_env_frame(env, k);
    size_t done = 0;
    assert_int_equal(mm_unmap_frame(&env->mm, f, MM_UNMAP_ZERO, 0, &done), 0);
    assert_int_equal(done, 1);
    struct s2_info e = mm_env_lookup(env, k);
    assert_int_equal(e.state, S2_PRESENT);
    assert_int_equal(e.hpa, mm_env_zero_hpa(env));
    assert_int_equal(e.rights, ACC_RX);
    assert_int_equal(e.memtype, MT_WB);
    assert_true(mm_check(&env->mm));
    mm_env_expect(env, k, ACC_W, FAULT_MAPPED, RES_COW_ZERO);
    mm_env_expect_stats(env, "file-copy=1 cow-zero=1");
    mm_env_free(env);
    free(img);
}
MM_BOTH_FORMATS(to_zero_image_page)

/* A frame someone else holds a reference on (as the swap cache does) ->
 * every mapping becomes the swap entry, the frame survives with that one
 * reference and no mapping; the entries stay until unmapped. Without swap
 * installed, a fault on one is an error naming the entry. */
static void to_swap(const struct s2pt_format *fmt)
{
    struct mm_env *env = env_new(fmt);
    const unsigned at[] = { 2, 3 };
    struct frame *f = shared_frame(env, at, 2, 0x77);
    swp_entry_t se = swp_entry(0, 123);
    size_t done = 0;

    frame_get(f); /* the "cache's" reference */
    assert_int_equal(mm_unmap_frame(&env->mm, f, MM_UNMAP_SWAP, se, &done), 0);
    assert_int_equal(done, 2);
    assert_int_equal(f->refcount, 1);
    assert_int_equal(f->mapcount, 0);
    for (size_t i = 0; i < 2; i++) {
        struct s2_info e = mm_env_lookup(env, pg(at[i]));
        assert_int_equal(e.state, S2_SWAP);
        assert_true(e.swap == se);
    }
    size_t free0 = frame_free_count(&env->fp);
    assert_true(frame_put(&env->fp, f));
    assert_int_equal(frame_free_count(&env->fp), free0 + 1);
    struct fault_outcome o = mm_env_fault(env, pg(3), ACC_R);
    assert_int_equal(o.kind, FAULT_ERROR);
    assert_int_equal(o.err, -PV_ENOENT);
    assert_true(o.swap == se);
    assert_int_equal(mm_unmap_range(&env->mm, pg(2), pg(4)), 0);
    mm_env_expect_stats(env, "anon-new=2 error=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(to_swap)

/* To nothing: the entry is empty, the frame freed, and the next access
 * faults the page in afresh from its region (a read: zero-map). */
static void to_empty(const struct s2pt_format *fmt)
{
    struct mm_env *env = env_new(fmt);
    const unsigned at[] = { 7 };
    struct frame *f = shared_frame(env, at, 1, 0x42);
    size_t free0 = frame_free_count(&env->fp);
    uint64_t tables0 = env->mm.s2.tables;
    uint64_t inv = env->inv;
    size_t done = 0;

    assert_int_equal(mm_unmap_frame(&env->mm, f, MM_UNMAP_EMPTY, 0, &done), 0);
    assert_int_equal(done, 1);
    assert_int_equal(env->inv, inv + 1);
    assert_int_equal(mm_env_lookup(env, pg(7)).state, S2_NONE);
    /* the frame, and the table pages the unmap emptied */
    assert_int_equal(frame_free_count(&env->fp), free0 + 1 + (tables0 - env->mm.s2.tables));
    mm_env_expect(env, pg(7), ACC_R, FAULT_MAPPED, RES_ZERO_MAP);
    mm_env_expect_stats(env, "anon-new=1 zero-map=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(to_empty)

/* A gpa in the rmap that does not map the frame stops the operation there,
 * logged: the mappings before it are replaced, the frame keeps the rest.
 * A `to` that is none of the three changes nothing. */
static void refuses_bad_rmap(const struct s2pt_format *fmt)
{
    struct mm_env *env = env_new(fmt);
    const unsigned at[] = { 1, 4 };
    struct frame *f = shared_frame(env, at, 2, 0);
    size_t done = 99;

    assert_int_equal(mm_unmap_frame(&env->mm, f, (enum mm_unmap_to)7, 0, &done), -PV_EINVAL);
    assert_int_equal(done, 0);
    assert_int_equal(f->mapcount, 2);
    assert_true(mm_check(&env->mm));

    /* pg(4)'s leaf goes behind mm's back; the rmap still names it */
    assert_int_equal(s2pt_unmap(&env->mm.s2, pg(4), PAGE_SIZE), 0);
    host_log_clear();
    assert_int_equal(mm_unmap_frame(&env->mm, f, MM_UNMAP_ZERO, 0, &done), -PV_EINVAL);
    assert_int_equal(done, 1);
    assert_true(host_log_contains("rmap says gpa 0x104000 maps frame"));
    assert_int_equal(mm_env_lookup(env, pg(1)).state, S2_NONE);
    assert_int_equal(f->mapcount, 1);
    assert_true(f->rmap == pg(4));
    /* undo the damage so the tear-down checks hold */
    assert_int_equal(frame_rmap_del(&env->fp, f, pg(4)), 0);
    assert_true(frame_put(&env->fp, f));
    mm_env_free(env);
}
MM_BOTH_FORMATS(refuses_bad_rmap)

/* ---- mm_frame_referenced ----------------------------------------------------------- */

/* With accessed bits: any mapping's bit counts, every bit is cleared. */
static void referenced_by_accessed_bit(const struct s2pt_format *fmt)
{
    struct mm_env *env = env_new(fmt);
    const unsigned at[] = { 0, 6 };
    struct frame *f = shared_frame(env, at, 2, 0x11);

    assert_true(env->mm.s2.use_ad);
    mm_frame_referenced(&env->mm, f); /* whatever a new leaf starts with */
    assert_false(mm_frame_referenced(&env->mm, f));
    set_accessed(env, pg(6));
    assert_true(mm_frame_referenced(&env->mm, f));
    assert_false(mm_env_lookup(env, pg(6)).accessed);
    assert_false(mm_frame_referenced(&env->mm, f));
    set_accessed(env, pg(0));
    set_accessed(env, pg(6));
    assert_true(mm_frame_referenced(&env->mm, f));
    assert_false(mm_env_lookup(env, pg(0)).accessed);
    assert_false(mm_env_lookup(env, pg(6)).accessed);
    assert_int_equal(mm_env_lookup(env, pg(0)).rights, ACC_RX); /* rights untouched */
    mm_env_free(env);
}
MM_BOTH_FORMATS(referenced_by_accessed_bit)

/* Without: a leaf with rights counts and loses them (rights 0, still
 * mapped); its next use faults (reprotect) and gives them back. A frame
 * nobody maps was not referenced. anon-new=1 reprotect=1. */
static void referenced_by_rights(const struct s2pt_format *fmt)
{
    struct mm_env *env = env_new(fmt);
    env->mm.s2.use_ad = false;
    const unsigned at[] = { 3 };
    struct frame *f = shared_frame(env, at, 1, 0x22);
    hpa_t hpa = frame_hpa(&env->fp, f);

    assert_true(mm_frame_referenced(&env->mm, f));
    struct s2_info e = mm_env_lookup(env, pg(3));
    assert_int_equal(e.state, S2_PRESENT);
    assert_int_equal(e.rights, 0);
    assert_int_equal(e.hpa, hpa);
    assert_false(mm_frame_referenced(&env->mm, f));
    mm_env_expect(env, pg(3), ACC_R, FAULT_MAPPED, RES_REPROTECT);
    assert_int_equal(mm_env_lookup(env, pg(3)).rights, ACC_RX);
    assert_true(mm_frame_referenced(&env->mm, f));
    assert_int_equal(mm_env_lookup(env, pg(3)).rights, 0);
    mm_env_expect_stats(env, "anon-new=1 reprotect=1");

    size_t done;
    assert_int_equal(mm_unmap_frame(&env->mm, f, MM_UNMAP_EMPTY, 0, &done), 0);
    struct frame *g = frame_alloc(&env->fp, FRAME_GUEST);
    assert_non_null(g);
    assert_false(mm_frame_referenced(&env->mm, g));
    frame_put(&env->fp, g);
    mm_env_free(env);
}
MM_BOTH_FORMATS(referenced_by_rights)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(to_zero_both),
        cmocka_unit_test(to_zero_image_page_both),
        cmocka_unit_test(to_swap_both),
        cmocka_unit_test(to_empty_both),
        cmocka_unit_test(refuses_bad_rmap_both),
        cmocka_unit_test(referenced_by_accessed_bit_both),
        cmocka_unit_test(referenced_by_rights_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

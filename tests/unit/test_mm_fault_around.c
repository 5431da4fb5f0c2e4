/*
 * Unit tests for fault-around of anon first touches (ept/fault_around.c):
 * a write fault maps the empty pages of its aligned block too — zeroed,
 * writable, referenced and in the rmap — never replacing an entry that is
 * there (zero-frame mapping, swap entry, present leaf), clipped to the
 * region, held back when the pool is near its reclaim mark, and off by
 * default; in a file-private region only past its image (the partial last
 * page and the image's pages are never zero-mapped); under huge_anon only
 * where no 2 MiB leaf applies. Exact frame counts; both EPT and NPT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "tests/unit/mm_env.h"

#define MiB (1ull << 20)
#define RAM (1 * MiB)
#define RAM_END (RAM + 20 * PAGE_SIZE) /* a region ending inside a block */
#define BLOCK 16u

static gpa_t pg(unsigned i) { return RAM + (gpa_t)i * PAGE_SIZE; }

static struct mm_env *env_new(const struct s2pt_format *fmt, size_t around)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, RAM, RAM_END, "ram"), 0);
    env->mm.huge_anon = false;
    env->mm.fault_around = around;
    return env;
}

static void maps_the_block(const struct s2pt_format *fmt)
{
    struct mm_env *env = env_new(fmt, BLOCK);
    size_t free0 = frame_free_count(&env->fp);
    size_t tables0 = env->mm.s2.tables;

    mm_env_expect(env, pg(5), ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_int_equal(env->mm.stats.around, BLOCK - 1);
    /* 16 frames, and the table pages down to the block's leaf table */
    assert_int_equal(frame_free_count(&env->fp), free0 - BLOCK - (env->mm.s2.tables - tables0));
    for (unsigned i = 0; i < BLOCK; i++) {
        struct s2_info e = mm_env_lookup(env, pg(i));
        assert_int_equal(e.state, S2_PRESENT);
        assert_int_equal(e.rights, ACC_RWX);
        struct frame *f = frame_of(&env->fp, e.leaf_hpa);
        assert_non_null(f);
        assert_int_equal(f->refcount, 1);
        assert_int_equal(f->rmap, pg(i));
        const uint8_t *p = mm_env_page(env, pg(i));
        for (size_t b = 0; b < PAGE_SIZE; b++)
            assert_int_equal(p[b], 0);
    }
    /* the neighbours take no fault: a write there is already allowed */
    struct fault_outcome o = mm_env_fault(env, pg(9), ACC_W);
    assert_int_equal(o.kind, FAULT_RETRY);
    assert_int_equal(o.res, RES_SPURIOUS);
    assert_true(mm_check(&env->mm));
    mm_env_free(env); /* every frame comes back */
}
MM_BOTH_FORMATS(maps_the_block)

/* Entries already there stay: a zero-frame mapping from a read, a swap
 * entry; and the block is clipped to the region (pages 16..19 only). */
static void keeps_entries_and_region(const struct s2pt_format *fmt)
{
    struct mm_env *env = env_new(fmt, BLOCK);
    mm_env_expect(env, pg(17), ACC_R, FAULT_MAPPED, RES_ZERO_MAP);
    swp_entry_t se = swp_entry(0, 9);
    assert_int_equal(s2pt_set_swap(&env->mm.s2, pg(18), se), 0);

    mm_env_expect(env, pg(16), ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_int_equal(env->mm.stats.around, 1); /* page 19 alone */
    assert_int_equal(mm_env_lookup(env, pg(17)).leaf_hpa, mm_env_zero_hpa(env));
    struct s2_info e = mm_env_lookup(env, pg(18));
    assert_int_equal(e.state, S2_SWAP);
    assert_true(e.swap == se);
    assert_int_equal(mm_env_lookup(env, pg(19)).state, S2_PRESENT);
    assert_int_equal(mm_env_lookup(env, RAM_END).state, S2_NONE);
    assert_int_equal(mm_unmap_range(&env->mm, pg(18), pg(19)), 0);
    assert_true(mm_check(&env->mm));
    mm_env_free(env);
}
MM_BOTH_FORMATS(keeps_entries_and_region)

/* Near the reclaim mark fault-around takes only the frames above it: none
 * with one free frame above low (the faulting page's own), the block's
 * first empty pages up to what is above low otherwise; off when
 * fault_around is 0, 1 or not a power of two; reads never fault around. */
static void held_back_and_off(const struct s2pt_format *fmt)
{
    struct mm_env *env = env_new(fmt, BLOCK);
    env->mm.reclaim_low = frame_free_count(&env->fp) - 1;
    mm_env_expect(env, pg(0), ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_int_equal(env->mm.stats.around, 0);
    /* two frames above low once the fault has its own: the block's (pages
     * 16-19, the region's end) first two empty pages */
    env->mm.reclaim_low = frame_free_count(&env->fp) - 3;
    mm_env_expect(env, pg(BLOCK + 2), ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_int_equal(env->mm.stats.around, 2);
    assert_int_equal(frame_free_count(&env->fp), env->mm.reclaim_low);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(mm_env_lookup(env, pg(BLOCK + i)).state, S2_PRESENT);
    assert_int_equal(mm_env_lookup(env, pg(BLOCK + 3)).state, S2_NONE);
    env->mm.stats.around = 0;
    env->mm.reclaim_low = 0;
    const size_t off[] = { 0, 1, 12 };
    for (unsigned i = 0; i < 3; i++) {
        env->mm.fault_around = off[i];
        mm_env_expect(env, pg(1 + i), ACC_W, FAULT_MAPPED, RES_ANON_NEW);
        assert_int_equal(env->mm.stats.around, 0);
    }
    env->mm.fault_around = BLOCK;
    mm_env_expect(env, pg(BLOCK + 3), ACC_R, FAULT_MAPPED, RES_ZERO_MAP);
    assert_int_equal(env->mm.stats.around, 0);
    assert_true(mm_check(&env->mm));
    mm_env_free(env);
}
MM_BOTH_FORMATS(held_back_and_off)

/* A file-private region whose image ends inside a block (3.5 pages): a
 * write past the image maps the block's pages past the image too, never
 * the image's pages nor the partial last one, which a read still gets as
 * a zero-filled copy of the image's tail. */
#define IMG_BYTES (3 * PAGE_SIZE + PAGE_SIZE / 2)
static void file_region_past_image(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    env->mm.fault_around = BLOCK;
    uint8_t *img = aligned_alloc(PAGE_SIZE, 4 * PAGE_SIZE);
    assert_non_null(img);
    memset(img, 0xA5, 4 * PAGE_SIZE);
    assert_int_equal(mm_add_image(&env->mm, RAM, RAM + 40 * PAGE_SIZE, va_hpa(img), 0,
                                  IMG_BYTES, "kernel"), 0);
    size_t free0 = frame_free_count(&env->fp);
    size_t tables0 = env->mm.s2.tables;

    mm_env_expect(env, pg(5), ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_int_equal(env->mm.stats.around, BLOCK - 4 - 1); /* pages 4..15 but 5 */
    assert_int_equal(frame_free_count(&env->fp), free0 - (BLOCK - 4) - (env->mm.s2.tables - tables0));
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(mm_env_lookup(env, pg(i)).state, S2_NONE);
    for (unsigned i = 4; i < BLOCK; i++) {
        struct s2_info e = mm_env_lookup(env, pg(i));
        assert_int_equal(e.state, S2_PRESENT);
        const uint8_t *p = mm_env_page(env, pg(i));
        for (size_t b = 0; b < PAGE_SIZE; b++)
            assert_int_equal(p[b], 0);
    }
    assert_int_equal(mm_env_lookup(env, pg(BLOCK)).state, S2_NONE); /* next block */
    /* the image's pages keep their own resolutions */
    mm_env_expect(env, pg(3), ACC_R, FAULT_MAPPED, RES_FILE_COPY);
    const uint8_t *tail = mm_env_page(env, pg(3));
    assert_int_equal(tail[0], 0xA5);
    assert_int_equal(tail[PAGE_SIZE - 1], 0);
    mm_env_expect(env, pg(1), ACC_R, FAULT_MAPPED, RES_FILE_MAP);
    assert_int_equal(env->mm.stats.around_file, 2); /* whole image pages 0 and 2 */
    /* a write fault on an image page is no first touch of anon memory */
    size_t around = env->mm.stats.around;
    mm_env_expect(env, pg(2), ACC_W, FAULT_MAPPED, RES_COW_COPY);
    assert_int_equal(env->mm.stats.around, around);
    assert_true(mm_check(&env->mm));
    mm_env_free(env);
    free(img);
}
MM_BOTH_FORMATS(file_region_past_image)

/* With 2 MiB leaves on (no overcommit): a write to an empty 2 MiB block
 * takes a huge leaf and maps nothing around; once the block is split (a
 * read mapped the zero frame in it), first touches fault around. */
static void huge_first_then_around(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    const gpa_t base = 4 * MiB;
    assert_int_equal(mm_add_anon(&env->mm, base, base + 4 * MiB, "ram"), 0);
    env->mm.huge_anon = true;
    env->mm.fault_around = BLOCK;
    mm_env_expect(env, base + 5 * PAGE_SIZE, ACC_W, FAULT_MAPPED, RES_ANON_HUGE);
    assert_int_equal(env->mm.stats.around, 0);
    const gpa_t second = base + 2 * MiB;
    mm_env_expect(env, second, ACC_R, FAULT_MAPPED, RES_ZERO_MAP);
    mm_env_expect(env, second + 3 * PAGE_SIZE, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_int_equal(env->mm.stats.around, BLOCK - 2); /* not the zero-mapped page */
    assert_int_equal(mm_env_lookup(env, second).leaf_hpa, mm_env_zero_hpa(env));
    assert_true(mm_check(&env->mm));
    mm_env_free(env);
}
MM_BOTH_FORMATS(huge_first_then_around)

/* Reads of an image (20.5 pages): a file-map read maps the other whole
 * image pages of its block read-only from the image, no frame taken; the
 * partial last page and the pages past the image are left to their own
 * faults; a write still copies; off with fault_around 0. */
#define IMG2_PAGES 20
static void file_reads_map_the_image_block(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    env->mm.fault_around = BLOCK;
    size_t bytes = IMG2_PAGES * PAGE_SIZE + PAGE_SIZE / 2;
    uint8_t *img = aligned_alloc(PAGE_SIZE, (IMG2_PAGES + 1) * PAGE_SIZE);
    assert_non_null(img);
    memset(img, 0x3C, (IMG2_PAGES + 1) * PAGE_SIZE);
    assert_int_equal(mm_add_image(&env->mm, RAM, RAM + 40 * PAGE_SIZE, va_hpa(img), 0, bytes,
                                  "initrd"), 0);
    size_t free0 = frame_free_count(&env->fp);
    size_t tables0 = env->mm.s2.tables;

    mm_env_expect(env, pg(2), ACC_R, FAULT_MAPPED, RES_FILE_MAP);
    assert_int_equal(env->mm.stats.around_file, BLOCK - 1);
    assert_int_equal(env->mm.stats.around, 0);
    /* no frame: only the table pages */
    assert_int_equal(frame_free_count(&env->fp), free0 - (env->mm.s2.tables - tables0));
    for (unsigned i = 0; i < BLOCK; i++) {
        struct s2_info e = mm_env_lookup(env, pg(i));
        assert_int_equal(e.state, S2_PRESENT);
        assert_int_equal(e.rights & ACC_W, 0);
        assert_int_equal(e.leaf_hpa, va_hpa(img + i * PAGE_SIZE));
    }
    /* a write to a neighbour copies it, as after its own read */
    mm_env_expect(env, pg(7), ACC_W, FAULT_MAPPED, RES_COW_COPY);
    assert_int_not_equal(mm_env_lookup(env, pg(7)).leaf_hpa, va_hpa(img + 7 * PAGE_SIZE));
    assert_int_equal(mm_env_page(env, pg(7))[0], 0x3C);
    /* next block: whole pages 16..19 only */
    mm_env_expect(env, pg(17), ACC_R, FAULT_MAPPED, RES_FILE_MAP);
    assert_int_equal(env->mm.stats.around_file, BLOCK - 1 + 3);
    assert_int_equal(mm_env_lookup(env, pg(IMG2_PAGES)).state, S2_NONE);     /* partial */
    assert_int_equal(mm_env_lookup(env, pg(IMG2_PAGES + 1)).state, S2_NONE); /* past */
    mm_env_expect(env, pg(IMG2_PAGES), ACC_R, FAULT_MAPPED, RES_FILE_COPY);
    assert_int_equal(mm_env_page(env, pg(IMG2_PAGES))[PAGE_SIZE - 1], 0);
    /* off */
    env->mm.fault_around = 0;
    mm_env_expect(env, pg(33), ACC_R, FAULT_MAPPED, RES_ZERO_MAP); /* past the image */
    assert_int_equal(env->mm.stats.around_file, BLOCK - 1 + 3);
    assert_true(mm_check(&env->mm));
    mm_env_free(env);
    free(img);
}
MM_BOTH_FORMATS(file_reads_map_the_image_block)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(maps_the_block_both),
        cmocka_unit_test(keeps_entries_and_region_both),
        cmocka_unit_test(held_back_and_off_both),
        cmocka_unit_test(file_region_past_image_both),
        cmocka_unit_test(huge_first_then_around_both),
        cmocka_unit_test(file_reads_map_the_image_block_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

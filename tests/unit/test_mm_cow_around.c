/*
 * Unit tests for copy-on-write around (ept/fault_around.c, mm_cow_around):
 * a write to an image page of a file-private region one page above the
 * last one copied continues an ascending walk of writes, and the block's
 * pages above it still mapped straight from the image get private,
 * writable, byte-exact copies at once (one frame each, in the rmap,
 * dirty); the first write of a walk, a jump, a descending write, a page
 * not mapped from the image, the frame budget and fault_around 0 stop
 * it. Exact frame counts; both EPT and NPT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "tests/unit/mm_env.h"

#define MiB (1ull << 20)
#define RAM (1 * MiB)
#define BLOCK 16u
#define IMG_PAGES 40u

static gpa_t pg(unsigned i) { return RAM + (gpa_t)i * PAGE_SIZE; }

static uint8_t pattern(unsigned page, size_t b) { return (uint8_t)(page * 7 + b * 13 + 1); }

struct cow_env {
    struct mm_env *m;
    uint8_t *img;
};

/* An image of IMG_PAGES whole pages, each with its own bytes, in a
 * file-private region; reads of pages 2 and 18 map the first two blocks
 * from the image (file-around), as a guest's reads of its kernel do. */
static struct cow_env env_new(const struct s2pt_format *fmt)
{
    struct cow_env c = { mm_env_new(fmt), aligned_alloc(PAGE_SIZE, IMG_PAGES * PAGE_SIZE) };
    assert_non_null(c.img);
    for (unsigned i = 0; i < IMG_PAGES; i++)
        for (size_t b = 0; b < PAGE_SIZE; b++)
            c.img[i * PAGE_SIZE + b] = pattern(i, b);
    c.m->mm.fault_around = BLOCK;
    assert_int_equal(mm_add_image(&c.m->mm, RAM, pg(IMG_PAGES), va_hpa(c.img), 0,
                                  IMG_PAGES * PAGE_SIZE, "kernel"),
                     0);
    mm_env_expect(c.m, pg(2), ACC_R, FAULT_MAPPED, RES_FILE_MAP);
    mm_env_expect(c.m, pg(18), ACC_R, FAULT_MAPPED, RES_FILE_MAP);
    assert_int_equal(c.m->mm.stats.around_file, 2 * (BLOCK - 1));
    return c;
}

static void env_free(struct cow_env c)
{
    assert_true(mm_check(&c.m->mm));
    mm_env_free(c.m);
    free(c.img);
}

/* Page i is a private writable copy of its image page. */
static void copied(struct cow_env *c, unsigned i)
{
    struct s2_info e = mm_env_lookup(c->m, pg(i));
    assert_int_equal(e.state, S2_PRESENT);
    assert_true(e.rights & ACC_W);
    struct frame *f = frame_of(&c->m->fp, e.leaf_hpa);
    assert_non_null(f);
    assert_int_equal(f->refcount, 1);
    assert_int_equal(f->mapcount, 1);
    assert_int_equal(f->rmap, pg(i));
    assert_true(f->flags & FRAME_DIRTY);
    const uint8_t *p = mm_env_page(c->m, pg(i));
    for (size_t b = 0; b < PAGE_SIZE; b++)
        assert_int_equal(p[b], pattern(i, b));
}

/* Page i is still mapped read-only from the image. */
static void from_image(struct cow_env *c, unsigned i)
{
    struct s2_info e = mm_env_lookup(c->m, pg(i));
    assert_int_equal(e.state, S2_PRESENT);
    assert_int_equal(e.rights & ACC_W, 0);
    assert_int_equal(e.leaf_hpa, va_hpa(c->img + i * PAGE_SIZE));
}

/* Writes up through the image: the first copies its page only; the next
 * page up continues the walk and copies the rest of its block; the walk
 * goes on into the next block (it was mapped from the image by a read),
 * one fault per block. */
static void ascending_writes_copy_the_block(const struct s2pt_format *fmt)
{
    struct cow_env c = env_new(fmt);
    size_t free0 = frame_free_count(&c.m->fp);

    mm_env_expect(c.m, pg(3), ACC_W, FAULT_MAPPED, RES_COW_COPY);
    assert_int_equal(c.m->mm.stats.around_cow, 0);
    from_image(&c, 4);
    mm_env_expect(c.m, pg(4), ACC_W, FAULT_MAPPED, RES_COW_COPY);
    assert_int_equal(c.m->mm.stats.around_cow, BLOCK - 5); /* pages 5..15 */
    assert_int_equal(frame_free_count(&c.m->fp), free0 - (BLOCK - 3));
    for (unsigned i = 3; i < BLOCK; i++)
        copied(&c, i);
    for (unsigned i = 0; i < 3; i++)
        from_image(&c, i); /* below the walk: left alone */
    from_image(&c, BLOCK); /* the next block waits for the walk's fault */

    mm_env_expect(c.m, pg(BLOCK), ACC_W, FAULT_MAPPED, RES_COW_COPY);
    assert_int_equal(c.m->mm.stats.around_cow, (BLOCK - 5) + (BLOCK - 1));
    for (unsigned i = BLOCK; i < 2 * BLOCK; i++)
        copied(&c, i);
    assert_int_equal(c.m->mm.stats.count[RES_COW_COPY], 3);
    /* the copies take no fault: a write there is already allowed */
    mm_env_expect(c.m, pg(9), ACC_W, FAULT_RETRY, RES_SPURIOUS);
    env_free(c);
}
MM_BOTH_FORMATS(ascending_writes_copy_the_block)

/* A jump, or a write below the last, starts no walk; a page on the way
 * that is not mapped from the image (copied already, or never read) ends
 * the run of copies there. */
static void no_walk_no_copies(const struct s2pt_format *fmt)
{
    struct cow_env c = env_new(fmt);

    mm_env_expect(c.m, pg(3), ACC_W, FAULT_MAPPED, RES_COW_COPY);
    mm_env_expect(c.m, pg(9), ACC_W, FAULT_MAPPED, RES_COW_COPY); /* a jump */
    mm_env_expect(c.m, pg(8), ACC_W, FAULT_MAPPED, RES_COW_COPY); /* down */
    assert_int_equal(c.m->mm.stats.around_cow, 0);
    for (unsigned i = 4; i < 8; i++)
        from_image(&c, i);
    /* 9 is a private copy already: the walk 8 -> 9 does not fault there,
     * but one from 5 to 6 copies 7 and stops at 8 */
    mm_env_expect(c.m, pg(5), ACC_W, FAULT_MAPPED, RES_COW_COPY);
    mm_env_expect(c.m, pg(6), ACC_W, FAULT_MAPPED, RES_COW_COPY);
    assert_int_equal(c.m->mm.stats.around_cow, 1);
    copied(&c, 7);
    for (unsigned i = 10; i < BLOCK; i++)
        from_image(&c, i);
    env_free(c);
}
MM_BOTH_FORMATS(no_walk_no_copies)

/* The frame budget of fault-around (frames above reclaim_low, less one for
 * the fault itself) bounds the copies; fault_around 0 turns it off. */
static void held_back_and_off(const struct s2pt_format *fmt)
{
    struct cow_env c = env_new(fmt);

    mm_env_expect(c.m, pg(3), ACC_W, FAULT_MAPPED, RES_COW_COPY);
    c.m->mm.reclaim_low = frame_free_count(&c.m->fp) - 1 - 3;
    mm_env_expect(c.m, pg(4), ACC_W, FAULT_MAPPED, RES_COW_COPY);
    assert_int_equal(c.m->mm.stats.around_cow, 3);
    for (unsigned i = 5; i < 8; i++)
        copied(&c, i);
    from_image(&c, 8);
    c.m->mm.reclaim_low = 0;
    c.m->mm.fault_around = 0;
    mm_env_expect(c.m, pg(8), ACC_W, FAULT_MAPPED, RES_COW_COPY);
    assert_int_equal(c.m->mm.stats.around_cow, 3);
    from_image(&c, 9);
    env_free(c);
}
MM_BOTH_FORMATS(held_back_and_off)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ascending_writes_copy_the_block_both),
        cmocka_unit_test(no_walk_no_copies_both),
        cmocka_unit_test(held_back_and_off_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

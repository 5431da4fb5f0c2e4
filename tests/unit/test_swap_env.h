/*
 * Test fixture for swap/: a guest_mm (from mm_env.h), a RAM block device
 * prepared like mkswap would, and a swap object on them.
 * Include after <cmocka.h>.
 */
#ifndef PV_TESTS_UNIT_TEST_SWAP_ENV_H
#define PV_TESTS_UNIT_TEST_SWAP_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/blk_file.h"
#include "tests/unit/test_swap_mkswap.h"
#include "swap/swap.h"
#include "tests/unit/mm_env.h"

struct swap_env {
    struct mm_env *m;
    uint8_t *disk;
    uint64_t disk_pages;
    struct blk_file blk;
    struct swap sw;
    void *meta;
    size_t meta_len;
    void (*swap_free_hook)(struct frame_pool *, struct frame *, void *);
};

/*
 * A guest_mm over an arena of arena_bytes (its frames), a device of
 * disk_pages pages (mkswap'ed, with the given bad pages), swap with the
 * given readahead policy. use_ad false selects the rights-clearing fallback.
 */
static inline struct swap_env *swap_env_new(const struct s2pt_format *fmt, bool use_ad,
                                            size_t arena_bytes, uint64_t disk_pages,
                                            const uint32_t *bad, uint32_t nbad,
                                            enum ra_policy pol, uint32_t ra_pages)
{
    struct swap_env *env = calloc(1, sizeof(*env));
    assert_non_null(env);
    env->m = mm_env_new_sized(fmt, arena_bytes, MM_ENV_TRACE);
    if (!use_ad) {
        env->m->mm.s2.use_ad = false;
    }
    env->disk_pages = disk_pages;
    if (disk_pages) {
        env->disk = aligned_alloc(PAGE_SIZE, disk_pages * PAGE_SIZE);
        assert_non_null(env->disk);
        memset(env->disk, 0xdd, disk_pages * PAGE_SIZE);
        swap_env_mkswap(env->disk, disk_pages, bad, nbad);
        assert_int_equal(blk_file_init(&env->blk, env->disk, disk_pages * PAGE_SIZE,
                                       BLK_FILE_SECTOR, "ramdisk"),
                         0);
    }
    struct blkdev *dev = disk_pages ? &env->blk.dev : NULL;
    env->meta_len = swap_meta_size(&env->m->fp, dev);
    env->meta = aligned_alloc(PAGE_SIZE, ALIGN_UP(env->meta_len, PAGE_SIZE));
    assert_non_null(env->meta);
    char err[200] = "";
    int rc = swap_init(&env->sw, &env->m->mm, dev, env->meta, env->meta_len, pol, ra_pages,
                       err, sizeof(err));
    if (rc != 0)
        fail_msg("swap_init: %d %s", rc, err);
    return env;
}

static inline void swap_env_check(const struct swap_env *env)
{
    if (!swap_check(&env->sw))
        fail_msg("[%s] swap_check failed", env->m->fmt->name);
    if (!mm_check(&env->m->mm))
        fail_msg("[%s] mm_check failed", env->m->fmt->name);
}

/* Checks, destroys swap then mm (mm_env_free requires the pool back). */
static inline void swap_env_free(struct swap_env *env)
{
    swap_env_check(env);
    swap_destroy(&env->sw);
    mm_env_free(env->m);
    free(env->meta);
    free(env->disk);
    free(env);
}

/* Guest writes / reads through the fault path (mm_read / mm_write). */
static inline void swap_env_write64(struct swap_env *env, gpa_t gpa, uint64_t v)
{
    assert_int_equal(mm_write(&env->m->mm, gpa, &v, sizeof(v)), 0);
}

static inline uint64_t swap_env_read64(struct swap_env *env, gpa_t gpa)
{
    uint64_t v = 0;
    assert_int_equal(mm_read(&env->m->mm, gpa, &v, sizeof(v)), 0);
    return v;
}

/* Set bits (the format's accessed / dirty bits) in the present leaf at gpa,
 * as the hardware does when the guest uses the page; returns the leaf. */
static inline struct s2_info swap_env_mark(struct swap_env *env, gpa_t gpa, uint64_t bits)
{
    struct s2_info e;
    struct s2_slot sl;
    s2pt_lookup_slot(&env->m->mm.s2, gpa, &e, &sl);
    assert_int_equal(e.state, S2_PRESENT);
    ((uint64_t *)hpa_va(sl.table))[sl.idx] |= bits;
    return e;
}

/* A guest write as the hardware does it, with no fault: through a writable
 * leaf, which gains its accessed and dirty bits. */
static inline void swap_env_hw_write64(struct swap_env *env, gpa_t gpa, uint64_t v)
{
    const struct s2pt_format *fmt = env->m->fmt;
    struct s2_info e = swap_env_mark(env, gpa, fmt->accessed_bit | fmt->dirty_bit);
    assert_true(e.rights & ACC_W);
    memcpy(hpa_va(e.hpa + (gpa & (PAGE_SIZE - 1))), &v, sizeof(v));
}

/* Fill a whole guest page with a pattern derived from tag (non-zero). */
static inline void swap_env_fill(struct swap_env *env, gpa_t page, uint64_t tag)
{
    static uint64_t buf[PAGE_SIZE / sizeof(uint64_t)];
    for (size_t i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++)
        buf[i] = tag * 0x9e3779b97f4a7c15ull + i + 1;
    assert_int_equal(mm_write(&env->m->mm, page, buf, PAGE_SIZE), 0);
}

/* True when the page reads back as swap_env_fill(tag) wrote it. */
static inline bool swap_env_has(struct swap_env *env, gpa_t page, uint64_t tag)
{
    static uint64_t buf[PAGE_SIZE / sizeof(uint64_t)];
    if (mm_read(&env->m->mm, page, buf, PAGE_SIZE) != 0)
        return false;
    for (size_t i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++)
        if (buf[i] != tag * 0x9e3779b97f4a7c15ull + i + 1)
            return false;
    return true;
}

/* The slot gpa's swap entry names (the page must be swapped out). */
static inline uint64_t swap_env_slot(struct swap_env *env, gpa_t gpa)
{
    struct s2_info e = mm_env_lookup(env->m, gpa);
    assert_int_equal(e.state, S2_SWAP);
    return swp_offset(e.swap);
}

static inline enum s2_state swap_env_state(struct swap_env *env, gpa_t gpa)
{
    return mm_env_lookup(env->m, gpa).state;
}

/* Fill the n pages from base (page i with tag0 + i) and swap them all out
 * in page order, on a fresh area: page i lands in slot 1 + i. */
static inline void swap_env_swap_out_run(struct swap_env *env, gpa_t base, unsigned n,
                                         uint64_t tag0)
{
    for (unsigned i = 0; i < n; i++)
        swap_env_fill(env, base + (gpa_t)i * PAGE_SIZE, tag0 + i);
    env->sw.recent = NULL;
    assert_int_equal(swap_reclaim(&env->sw, n), n);
    for (unsigned i = 0; i < n; i++) {
        struct s2_info e = mm_env_lookup(env->m, base + (gpa_t)i * PAGE_SIZE);
        assert_int_equal(e.state, S2_SWAP);
        assert_int_equal(swp_offset(e.swap), 1 + i);
    }
}

/* Device page backing slot s. */
static inline uint8_t *swap_env_slot_data(struct swap_env *env, uint64_t slot)
{
    return env->disk + slot * PAGE_SIZE;
}

#endif

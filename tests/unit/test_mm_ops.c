/*
 * Unit tests for guest_mm operations around the fault handler: same-page
 * merging and the cow-copy / cow-reuse split it makes reachable, running out
 * of frames, unmapping and tear-down, the trace ring and its rendering, and
 * mm_read / mm_write. Exact counters everywhere; both EPT and NPT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/mm_env.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* ---- merging ------------------------------------------------------------ */

/*
 * Two anon pages with identical contents (anon-new=2) are merged: one frame,
 * both read-only. A write to a -> cow-copy (the frame has 2 users); then a
 * write to b -> cow-reuse (b is now the sole user, no copy).
 * Totals: anon-new=2 cow-copy=1 cow-reuse=1; frames 2 -> 1 -> 2 -> 2.
 */
static void merge_then_cow(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    gpa_t a = 1 * MiB, b = 1 * MiB + 3 * PAGE_SIZE;
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 2 * MiB, "ram"), 0);
    mm_env_expect(env, a, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    mm_env_expect(env, b, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    memset(mm_env_page(env, a), 0x5a, PAGE_SIZE);
    memset(mm_env_page(env, b), 0x5a, PAGE_SIZE);
    assert_int_equal(mm_env_guest_frames(env), 2);

    uint64_t inv = env->inv;
    assert_int_equal(mm_merge_pages(&env->mm, a, b + 17), 0);
    struct s2_info ea = mm_env_lookup(env, a), eb = mm_env_lookup(env, b);
    assert_int_equal(ea.hpa, eb.hpa);
    assert_int_equal(ea.rights, ACC_RX);
    assert_int_equal(eb.rights, ACC_RX);
    struct frame *shared = frame_of(&env->fp, ea.hpa);
    assert_int_equal(shared->refcount, 2);
    assert_int_equal(shared->mapcount, 2);
    assert_int_equal(mm_env_guest_frames(env), 1);
    assert_true(env->inv > inv); /* both leaves lost W */
    assert_true(mm_check(&env->mm));
    /* Already sharing: nothing to do. */
    assert_int_equal(mm_merge_pages(&env->mm, a, b), 0);

    mm_env_expect(env, a + 1, ACC_W, FAULT_MAPPED, RES_COW_COPY);
    ea = mm_env_lookup(env, a);
    assert_int_not_equal(ea.hpa, eb.hpa);
    assert_int_equal(ea.rights, ACC_RWX);
    assert_int_equal(((uint8_t *)hpa_va(ea.hpa))[100], 0x5a); /* copied */
    assert_int_equal(shared->refcount, 1);
    assert_int_equal(shared->mapcount, 1);
    assert_int_equal(shared->rmap, b);
    assert_int_equal(mm_env_guest_frames(env), 2);

    mm_env_expect(env, b, ACC_W, FAULT_MAPPED, RES_COW_REUSE);
    eb = mm_env_lookup(env, b);
    assert_int_equal(frame_hpa(&env->fp, shared), eb.hpa); /* same frame kept */
    assert_int_equal(eb.rights, ACC_RWX);
    assert_int_equal(mm_env_guest_frames(env), 2);

    mm_env_expect_stats(env, "anon-new=2 cow-copy=1 cow-reuse=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(merge_then_cow)

/* Pages merging refuses: differing contents (1), zero-frame, unmapped,
 * file-mapped and 2 MiB pages (-PV_EINVAL); nothing changes, no faults. */
static void merge_refusals(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    uint8_t *img = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
    assert_non_null(img);
    memset(img, 0, PAGE_SIZE);
    assert_int_equal(mm_add_anon(&env->mm, 0, 16 * MiB, "ram"), 0);
    assert_int_equal(mm_add_image(&env->mm, 16 * MiB, 16 * MiB + PAGE_SIZE,
                                  va_hpa(img), 0, PAGE_SIZE, "img"),
                     0);
    env->mm.huge_anon = false;
    mm_env_expect(env, 0, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    mm_env_expect(env, PAGE_SIZE, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    mm_env_page(env, PAGE_SIZE)[5] = 1;
    mm_env_expect(env, 2 * PAGE_SIZE, ACC_R, FAULT_MAPPED, RES_ZERO_MAP);
    mm_env_expect(env, 16 * MiB, ACC_R, FAULT_MAPPED, RES_FILE_MAP);
    env->mm.huge_anon = true;
    mm_env_expect(env, 4 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_HUGE);

    assert_int_equal(mm_merge_pages(&env->mm, 0, PAGE_SIZE), 1);
    assert_int_equal(mm_merge_pages(&env->mm, 0, 2 * PAGE_SIZE), -PV_EINVAL);
    assert_int_equal(mm_merge_pages(&env->mm, 0, 3 * PAGE_SIZE), -PV_EINVAL);
    assert_int_equal(mm_merge_pages(&env->mm, 0, 16 * MiB), -PV_EINVAL);
    assert_int_equal(mm_merge_pages(&env->mm, 0, 4 * MiB), -PV_EINVAL);
    assert_int_equal(mm_env_lookup(env, 0).rights, ACC_RWX);
    assert_int_equal(mm_env_guest_frames(env), 2 + PAGES_PER_2M);
    mm_env_expect_stats(env, "anon-new=2 zero-map=1 file-map=1 anon-huge=1");
    mm_env_free(env);
    free(img);
}
MM_BOTH_FORMATS(merge_refusals)

/* ---- out of frames -------------------------------------------------------- */

/*
 * A pool of a few frames. The first write in [0, 4 MiB) would qualify for a
 * 2 MiB leaf, but no whole block is free, so it falls back to 4 KiB and
 * takes 3 table pages (levels 3, 2, 1) plus its frame; each further page
 * takes one frame. Fill until 1 frame is left (pages = free_after_init - 3
 * - 1), then:
 *  - write at 1 GiB: the frame is allocated but the table pages for the
 *    new 1 GiB slot are not -> oom, and the frame went back (free stays 1);
 *  - the next low page takes the last frame -> anon-new;
 *  - the one after -> oom (no frame);
 *  - unmapping one page frees a frame -> the retry succeeds.
 * Totals: anon-new = pages + 2, oom = 2.
 */
static void oom_tiny_pool(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new_sized(fmt, 96 * 1024, MM_ENV_TRACE);
    assert_int_equal(mm_add_anon(&env->mm, 0, 4 * MiB, "ram"), 0);
    assert_int_equal(mm_add_anon(&env->mm, 1 * GiB, 1 * GiB + 4 * MiB, "high"), 0);
    size_t avail = frame_free_count(&env->fp);
    assert_true(avail >= 6);
    size_t pages = avail - 3 - 1;

    for (size_t i = 0; i < pages; i++)
        mm_env_expect(env, i * PAGE_SIZE, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_int_equal(frame_free_count(&env->fp), 1);

    mm_env_expect(env, 1 * GiB, ACC_W, FAULT_OOM, RES_OOM);
    assert_int_equal(frame_free_count(&env->fp), 1);
    assert_int_equal(mm_env_lookup(env, 1 * GiB).state, S2_NONE);
    assert_true(mm_check(&env->mm));

    mm_env_expect(env, pages * PAGE_SIZE, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_int_equal(frame_free_count(&env->fp), 0);
    gpa_t last = (pages + 1) * PAGE_SIZE;
    mm_env_expect(env, last, ACC_W, FAULT_OOM, RES_OOM);
    assert_int_equal(mm_env_lookup(env, last).state, S2_NONE);
    uint8_t byte = 1;
    assert_int_equal(mm_write(&env->mm, last, &byte, 1), -PV_ENOMEM);
    assert_true(mm_check(&env->mm));

    assert_int_equal(mm_unmap_range(&env->mm, PAGE_SIZE, 2 * PAGE_SIZE), 0);
    assert_int_equal(frame_free_count(&env->fp), 1);
    mm_env_expect(env, last, ACC_W, FAULT_MAPPED, RES_ANON_NEW);

    char want[96];
    snprintf(want, sizeof(want), "anon-new=%zu oom=3", pages + 2);
    mm_env_expect_stats(env, want); /* the mm_write above faulted once too */
    mm_env_free(env);
}
MM_BOTH_FORMATS(oom_tiny_pool)

/* ---- unmapping and tear-down --------------------------------------------- */

/*
 * Unmapping one page out of a 2 MiB anon leaf splits the leaf and the
 * block: 511 frames stay mapped with their data, the page's frame is freed,
 * and a later read of it is a zero-map. anon-huge=1 zero-map=1.
 */
static void unmap_splits_huge(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    gpa_t blk = 2 * MiB;
    assert_int_equal(mm_add_anon(&env->mm, 0, 16 * MiB, "ram"), 0);
    mm_env_expect(env, blk, ACC_W, FAULT_MAPPED, RES_ANON_HUGE);
    uint8_t *base = mm_env_page(env, blk);
    base[5 * PAGE_SIZE + 9] = 0x77;

    assert_int_equal(mm_unmap_range(&env->mm, blk + PAGE_SIZE,
                                    blk + 2 * PAGE_SIZE), 0);
    assert_int_equal(mm_env_lookup(env, blk + PAGE_SIZE).state, S2_NONE);
    struct s2_info e = mm_env_lookup(env, blk + 5 * PAGE_SIZE);
    assert_int_equal(e.size, PAGE_SIZE);
    assert_int_equal(((uint8_t *)hpa_va(e.hpa))[9], 0x77);
    assert_int_equal(mm_env_guest_frames(env), PAGES_PER_2M - 1);
    assert_false(frame_of(&env->fp, mm_env_lookup(env, blk).hpa)->flags &
                 FRAME_HUGE_HEAD);
    assert_true(mm_check(&env->mm));

    mm_env_expect(env, blk + PAGE_SIZE, ACC_R, FAULT_MAPPED, RES_ZERO_MAP);
    mm_env_expect_stats(env, "anon-huge=1 zero-map=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(unmap_splits_huge)

/*
 * Write to a read-only 2 MiB leaf whose block has one user: the leaf and
 * block are split and only the written page becomes writable, in place.
 * anon-huge=1 cow-reuse=1; still 512 frames.
 */
static void huge_cow_splits(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 0, 16 * MiB, "ram"), 0);
    mm_env_expect(env, 4 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_HUGE);
    hpa_t leaf = mm_env_lookup(env, 4 * MiB).leaf_hpa;
    assert_int_equal(s2pt_protect(&env->mm.s2, 4 * MiB, HUGE_2M, ACC_RX), 0);
    mm_env_expect(env, 4 * MiB + 3 * PAGE_SIZE, ACC_W, FAULT_MAPPED,
                  RES_COW_REUSE);
    struct s2_info e = mm_env_lookup(env, 4 * MiB + 3 * PAGE_SIZE);
    assert_int_equal(e.size, PAGE_SIZE);
    assert_int_equal(e.hpa, leaf + 3 * PAGE_SIZE);
    assert_int_equal(e.rights, ACC_RWX);
    assert_int_equal(mm_env_lookup(env, 4 * MiB).rights, ACC_RX);
    assert_int_equal(mm_env_guest_frames(env), PAGES_PER_2M);
    assert_true(mm_check(&env->mm));
    mm_env_expect_stats(env, "anon-huge=1 cow-reuse=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(huge_cow_splits)

/* Removing a range drops its mappings (frames back) and its region: a later
 * access there is open bus. anon-new=3 open-bus=1. */
static void remove_range(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 2 * MiB, "ram"), 0);
    for (int i = 0; i < 3; i++)
        mm_env_expect(env, 1 * MiB + (gpa_t)i * PAGE_SIZE, ACC_W, FAULT_MAPPED,
                      RES_ANON_NEW);
    assert_int_equal(mm_remove_range(&env->mm, 1 * MiB + PAGE_SIZE,
                                     1 * MiB + 2 * PAGE_SIZE), 0);
    assert_int_equal(mm_env_guest_frames(env), 2);
    mm_env_expect(env, 1 * MiB + PAGE_SIZE, ACC_R, FAULT_OPEN_BUS, RES_OPEN_BUS);
    assert_int_equal(env->mm.regions.count, 2);
    mm_env_expect_stats(env, "anon-new=3 open-bus=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(remove_range)

/* Every kind of mapping at once; destroy gives the pool back exactly
 * (mm_env_free asserts free count == the count before mm_init). */
static void destroy_returns_pool(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    uint8_t *img = aligned_alloc(PAGE_SIZE, 2 * PAGE_SIZE);
    uint8_t *host = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
    assert_non_null(img);
    assert_non_null(host);
    memset(img, 3, 2 * PAGE_SIZE);
    size_t before = frame_free_count(&env->fp);
    assert_int_equal(mm_add_anon(&env->mm, 0, 0xa0000, "low"), 0);
    assert_int_equal(mm_add_rom(&env->mm, 0xf0000, 0x100000, va_hpa(img),
                                PAGE_SIZE + 1, "bios"), 0);
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 8 * MiB, "ram"), 0);
    assert_int_equal(mm_add_image(&env->mm, 8 * MiB, 8 * MiB + 4 * PAGE_SIZE,
                                  va_hpa(img), 0, PAGE_SIZE + 1, "k"), 0);
    assert_int_equal(mm_add_passthrough(&env->mm, 0xfee00000, 0xfee01000,
                                        va_hpa(host), MT_UC, "lapic"), 0);
    assert_int_equal(mm_add_anon(&env->mm, 4 * GiB, 4 * GiB + 4 * MiB, "hi"), 0);

    mm_env_fault(env, 0x1000, ACC_R);
    mm_env_fault(env, 0x2000, ACC_W);
    mm_env_fault(env, 0x3000, ACC_W);
    assert_int_equal(mm_merge_pages(&env->mm, 0x2000, 0x3000), 0);
    mm_env_fault(env, 0xf0000, ACC_X);
    mm_env_fault(env, 0xf1000, ACC_R);
    mm_env_fault(env, 2 * MiB, ACC_W);
    mm_env_fault(env, 8 * MiB, ACC_R);
    mm_env_fault(env, 8 * MiB + PAGE_SIZE, ACC_R);
    mm_env_fault(env, 8 * MiB + 2 * PAGE_SIZE, ACC_W);
    mm_env_fault(env, 0xfee00000, ACC_W);
    mm_env_fault(env, 4 * GiB, ACC_W);
    mm_env_fault(env, 4 * GiB + 2 * MiB + PAGE_SIZE, ACC_R);
    assert_true(frame_free_count(&env->fp) < before - 2 * PAGES_PER_2M);
    /* 8 MiB + 2 pages lies past the image: bss-like anon-new. */
    mm_env_expect_stats(env, "zero-map=2 anon-new=3 rom-map=2 anon-huge=2 "
                             "file-map=1 file-copy=1 passthrough-map=1");
    mm_env_free(env);
    free(img);
    free(host);
}
MM_BOTH_FORMATS(destroy_returns_pool)

/* ---- trace ring and rendering --------------------------------------------- */

struct lines {
    char text[32][192];
    size_t n;
};

static void collect(void *ctx, const char *line)
{
    struct lines *l = ctx;
    assert_true(l->n < 32);
    snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", line);
}

static bool has_line(const struct lines *l, const char *exact)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->text[i], exact) == 0)
            return true;
    return false;
}

/*
 * A 4-event ring after 6 faults holds events #2..#5 (zero-map, cow-zero,
 * anon-new, open-bus, spurious, zero-map in that order), newest first via
 * fault_trace_get and oldest first in the rendering.
 */
static void trace_ring(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new_sized(fmt, MM_ENV_ARENA, 4);
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 2 * MiB, "ram"), 0);
    mm_env_fault(env, 1 * MiB, ACC_R);
    mm_env_fault(env, 1 * MiB, ACC_W);
    mm_env_fault(env, 1 * MiB + PAGE_SIZE, ACC_W);
    mm_env_fault(env, 3 * GiB, ACC_R);
    mm_env_fault(env, 1 * MiB, ACC_W);
    mm_env_fault(env, 1 * MiB + 2 * PAGE_SIZE, ACC_R);

    const struct fault_trace *tr = &env->mm.trace;
    assert_int_equal(fault_trace_len(tr), 4);
    struct fault_event ev[4], none;
    for (size_t i = 0; i < 4; i++)
        assert_true(fault_trace_get(tr, i, &ev[i]));
    assert_false(fault_trace_get(tr, 4, &none));
    assert_int_equal(ev[0].res, RES_ZERO_MAP);
    assert_int_equal(ev[0].gpa, 1 * MiB + 2 * PAGE_SIZE);
    assert_int_equal(ev[0].entry_state, S2_NONE);
    assert_int_equal(ev[1].res, RES_SPURIOUS);
    assert_int_equal(ev[1].entry_state, S2_PRESENT);
    assert_int_equal(ev[1].entry_rights, ACC_RWX);
    assert_int_equal(ev[1].access, ACC_W);
    assert_int_equal(ev[2].res, RES_OPEN_BUS);
    assert_int_equal(ev[3].res, RES_ANON_NEW);
    assert_int_equal(ev[3].rip, 0x1000 + 1 * MiB + PAGE_SIZE);
    for (size_t i = 0; i + 1 < 4; i++)
        assert_true(ev[i].tsc >= ev[i + 1].tsc);

    struct lines l = { .n = 0 };
    mm_render_trace(&env->mm, 10, collect, &l);
    assert_int_equal(l.n, 4);
    assert_true(strncmp(l.text[0], "#2 ", 3) == 0);
    assert_non_null(strstr(l.text[0], "acc -w- entry none res anon-new"));
    assert_non_null(strstr(l.text[0], "gpa 0x0000101000"));
    assert_true(strncmp(l.text[3], "#5 ", 3) == 0);
    assert_non_null(strstr(l.text[2], "entry present rwx res spurious"));
    l.n = 0;
    mm_render_trace(&env->mm, 2, collect, &l);
    assert_int_equal(l.n, 2);
    assert_true(strncmp(l.text[0], "#4 ", 3) == 0);

    l.n = 0;
    mm_render_stats(&env->mm, collect, &l);
    /* Every resolution, the six totals, and the cost of the five taken. */
    assert_int_equal(l.n, RES_COUNT + 6 + 5);
    unsigned cost_lines = 0;
    for (unsigned i = 0; i < l.n; i++)
        if (strncmp(l.text[i], "fault-cycles ", 13) == 0 && strstr(l.text[i], " per fault"))
            cost_lines++;
    assert_int_equal(cost_lines, 5);
    assert_true(has_line(&l, "fault around 0"));
    assert_true(has_line(&l, "fault around-file 0"));
    assert_true(has_line(&l, "fault around-cow 0"));
    assert_true(has_line(&l, "fault huge-found-zero 0"));
    assert_true(has_line(&l, "fault zero-map 2"));
    assert_true(has_line(&l, "fault cow-zero 1"));
    assert_true(has_line(&l, "fault anon-new 1"));
    assert_true(has_line(&l, "fault spurious 1"));
    assert_true(has_line(&l, "fault open-bus 1"));
    assert_true(has_line(&l, "fault cow-copy 0"));
    assert_true(has_line(&l, "fault total 6"));
    assert_true(has_line(&l, "open-bus reads 1 writes 0"));
    mm_env_expect_stats(env,
                        "zero-map=2 cow-zero=1 anon-new=1 open-bus=1 spurious=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(trace_ring)

/* ---- mm_read / mm_write ---------------------------------------------------- */

/*
 * Boot-path access faults exactly like the guest would:
 *  write 100 bytes across the page boundary at 1 MiB + 4090 -> anon-new x2
 *  read an untouched page -> zero-map; then write into it -> cow-zero
 *  read ROM -> rom-map; write ROM -> denied (-PV_EINVAL)
 *  read a gap -> open-bus (-PV_ENOENT); write MMIO -> mmio (-PV_EINVAL)
 * Totals: anon-new=2 zero-map=1 cow-zero=1 rom-map=1 denied=1 open-bus=1 mmio=1.
 */
static void read_write(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    uint8_t *img = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
    assert_non_null(img);
    for (size_t i = 0; i < PAGE_SIZE; i++)
        img[i] = (uint8_t)(i ^ 0x3c);
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 2 * MiB, "ram"), 0);
    assert_int_equal(mm_add_rom(&env->mm, 0xf0000, 0xf1000, va_hpa(img),
                                PAGE_SIZE, "bios"), 0);
    assert_int_equal(mm_add_mmio(&env->mm, 0xfed00000, 0xfed01000, 1, NULL,
                                 "dev"), 0);

    uint8_t out[100], in[100];
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (uint8_t)(i * 3 + 1);
    assert_int_equal(mm_write(&env->mm, 1 * MiB + 4090, out, sizeof(out)), 0);
    memset(in, 0, sizeof(in));
    assert_int_equal(mm_read(&env->mm, 1 * MiB + 4090, in, sizeof(in)), 0);
    assert_memory_equal(in, out, sizeof(out));
    assert_int_equal(mm_env_page(env, 1 * MiB + PAGE_SIZE)[93], out[99]);

    uint8_t z[16];
    memset(z, 0xff, sizeof(z));
    assert_int_equal(mm_read(&env->mm, 1 * MiB + 64 * PAGE_SIZE, z, sizeof(z)), 0);
    for (size_t i = 0; i < sizeof(z); i++)
        assert_int_equal(z[i], 0);
    assert_int_equal(mm_write(&env->mm, 1 * MiB + 64 * PAGE_SIZE, out, 8), 0);

    assert_int_equal(mm_read(&env->mm, 0xf0010, in, 16), 0);
    assert_memory_equal(in, img + 0x10, 16);
    assert_int_equal(mm_write(&env->mm, 0xf0010, out, 1), -PV_EINVAL);
    assert_int_equal(img[0x10], 0x10 ^ 0x3c);
    assert_int_equal(mm_read(&env->mm, 3 * GiB, in, 4), -PV_ENOENT);
    assert_int_equal(mm_write(&env->mm, 0xfed00000, out, 4), -PV_EINVAL);

    mm_env_expect_stats(env, "anon-new=2 zero-map=1 cow-zero=1 rom-map=1 "
                             "denied=1 open-bus=1 mmio=1");
    mm_env_free(env);
    free(img);
}
MM_BOTH_FORMATS(read_write)

/* mm_check notices broken invariants: a shared frame or the zero frame
 * mapped writable, a leaf outside every region. (zero-map=1 anon-new=2) */
static void check_catches(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 2 * MiB, "ram"), 0);
    mm_env_expect(env, 1 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    mm_env_expect(env, 1 * MiB + PAGE_SIZE, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    mm_env_expect(env, 1 * MiB + 2 * PAGE_SIZE, ACC_R, FAULT_MAPPED, RES_ZERO_MAP);
    assert_int_equal(mm_merge_pages(&env->mm, 1 * MiB, 1 * MiB + PAGE_SIZE), 0);
    assert_true(mm_check(&env->mm));

    s2pt_protect(&env->mm.s2, 1 * MiB, PAGE_SIZE, ACC_RWX);
    assert_false(mm_check(&env->mm));
    s2pt_protect(&env->mm.s2, 1 * MiB, PAGE_SIZE, ACC_RX);
    assert_true(mm_check(&env->mm));

    s2pt_protect(&env->mm.s2, 1 * MiB + 2 * PAGE_SIZE, PAGE_SIZE, ACC_RWX);
    assert_false(mm_check(&env->mm));
    s2pt_protect(&env->mm.s2, 1 * MiB + 2 * PAGE_SIZE, PAGE_SIZE, ACC_RX);

    s2pt_map(&env->mm.s2, 3 * MiB, mm_env_zero_hpa(env), PAGE_SIZE, ACC_R, MT_WB);
    assert_false(mm_check(&env->mm));
    s2pt_unmap(&env->mm.s2, 3 * MiB, PAGE_SIZE);
    assert_true(mm_check(&env->mm));
    mm_env_expect_stats(env, "zero-map=1 anon-new=2");
    mm_env_free(env);
}
MM_BOTH_FORMATS(check_catches)

/* fault_res_name covers every resolution with a distinct name. */
static void res_names(void **state)
{
    (void)state;
    for (unsigned a = 0; a < RES_COUNT; a++) {
        assert_string_not_equal(fault_res_name(a), "?");
        for (unsigned b = a + 1; b < RES_COUNT; b++)
            assert_string_not_equal(fault_res_name(a), fault_res_name(b));
    }
    assert_string_equal(fault_res_name(RES_COUNT), "?");
    assert_string_equal(fault_res_name(RES_PASSTHROUGH), "passthrough-map");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_then_cow_both),
        cmocka_unit_test(merge_refusals_both),
        cmocka_unit_test(oom_tiny_pool_both),
        cmocka_unit_test(unmap_splits_huge_both),
        cmocka_unit_test(huge_cow_splits_both),
        cmocka_unit_test(remove_range_both),
        cmocka_unit_test(destroy_returns_pool_both),
        cmocka_unit_test(trace_ring_both),
        cmocka_unit_test(read_write_both),
        cmocka_unit_test(check_catches_both),
        cmocka_unit_test(res_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

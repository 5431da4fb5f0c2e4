/*
 * Unit tests for the fault path (ept/fault.c): one scenario per resolution,
 * each asserting the exact counters it must leave, on both EPT and NPT.
 * Page merging, OOM, tear-down, tracing and mm_read/mm_write are in
 * test_mm_ops.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "tests/unit/mm_env.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* ---- anon ------------------------------------------------------------- */

/*
 * Read then write of one anon page = 1 zero-map + 1 cow-zero. Not cow-reuse:
 * the zero frame is shared by every zero-mapped page, so it is never a sole
 * owner; and not cow-copy: the write takes a fresh zeroed frame instead of
 * copying 4 KiB of zeros. A second page read also maps the same zero frame
 * (zero-map = 2 in the end) and uses no frame.
 */
static void anon_read_then_write(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    /* 1 MiB at 1 MiB: holds no whole 2 MiB block, so no anon-huge. */
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 2 * MiB, "ram"), 0);

    mm_env_expect(env, 1 * MiB + 0x123, ACC_R, FAULT_MAPPED, RES_ZERO_MAP);
    struct s2_info e = mm_env_lookup(env, 1 * MiB);
    assert_int_equal(e.state, S2_PRESENT);
    assert_int_equal(e.hpa, mm_env_zero_hpa(env));
    assert_int_equal(e.rights, ACC_RX); /* region RWX minus W */
    assert_int_equal(mm_env_guest_frames(env), 0);
    assert_int_equal(env->inv, 0); /* not-present -> present needs none */

    mm_env_expect(env, 1 * MiB + 0x123, ACC_W, FAULT_MAPPED, RES_COW_ZERO);
    e = mm_env_lookup(env, 1 * MiB);
    assert_int_not_equal(e.hpa, mm_env_zero_hpa(env));
    assert_int_equal(e.rights, ACC_RWX);
    assert_int_equal(mm_env_guest_frames(env), 1);
    for (size_t i = 0; i < PAGE_SIZE; i++)
        assert_int_equal(((uint8_t *)hpa_va(e.hpa))[i], 0);

    mm_env_expect(env, 1 * MiB + PAGE_SIZE, ACC_R, FAULT_MAPPED, RES_ZERO_MAP);
    assert_int_equal(mm_env_lookup(env, 1 * MiB + PAGE_SIZE).hpa,
                     mm_env_zero_hpa(env));
    assert_int_equal(mm_env_guest_frames(env), 1);

    mm_env_expect_stats(env, "zero-map=2 cow-zero=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(anon_read_then_write)

/* Write first = 1 anon-new (zeroed frame, full rights), no invalidation;
 * an execute fetch of an untouched page is a read: zero-map. */
static void anon_write_first(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 2 * MiB, "ram"), 0);

    mm_env_expect(env, 1 * MiB + 0x5008, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    struct s2_info e = mm_env_lookup(env, 1 * MiB + 0x5000);
    assert_int_equal(e.size, PAGE_SIZE);
    assert_int_equal(e.rights, ACC_RWX);
    assert_int_equal(e.memtype, MT_WB);
    struct frame *f = frame_of(&env->fp, e.hpa);
    assert_non_null(f);
    assert_int_equal(f->refcount, 1);
    assert_int_equal(f->mapcount, 1);
    assert_int_equal(f->rmap, 1 * MiB + 0x5000);
    assert_int_equal(env->inv, 0);

    mm_env_expect(env, 1 * MiB + 0x9000, ACC_X, FAULT_MAPPED, RES_ZERO_MAP);
    assert_int_equal(mm_env_guest_frames(env), 1);
    mm_env_expect_stats(env, "anon-new=1 zero-map=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(anon_write_first)

/*
 * The 2 MiB anon rule. Region [0, 16 MiB), huge_anon on:
 *  - write at 2 MiB + 0x1000: the aligned block [2, 4) MiB is in the region
 *    and empty -> anon-huge (one 2 MiB leaf, 512 frames);
 *  - read at 4 MiB (zero-map), then write at 4 MiB + 0x5000: the block
 *    already has a mapping -> anon-new;
 *  - huge_anon off, write at 6 MiB -> anon-new;
 *  - a second region [17, 18) MiB holds no whole block -> anon-new.
 * Totals: anon-huge=1 zero-map=1 anon-new=3; frames 512 + 3.
 */
static void anon_huge_rule(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 0, 16 * MiB, "ram"), 0);
    assert_int_equal(mm_add_anon(&env->mm, 17 * MiB, 18 * MiB, "ram2"), 0);

    mm_env_expect(env, 2 * MiB + 0x1000, ACC_W, FAULT_MAPPED, RES_ANON_HUGE);
    struct s2_info e = mm_env_lookup(env, 2 * MiB + 0x1000);
    assert_int_equal(e.size, HUGE_2M);
    assert_int_equal(e.level, 2);
    assert_true(IS_ALIGNED(e.leaf_hpa, HUGE_2M));
    assert_int_equal(e.rights, ACC_RWX);
    assert_int_equal(mm_env_guest_frames(env), PAGES_PER_2M);
    struct frame *head = frame_of(&env->fp, e.leaf_hpa);
    assert_true(head->flags & FRAME_HUGE_HEAD);
    assert_int_equal(head->rmap, 2 * MiB);
    /* All 2 MiB read as zero. */
    const uint64_t *w = hpa_va(e.leaf_hpa);
    for (size_t i = 0; i < HUGE_2M / sizeof(*w); i++)
        assert_int_equal(w[i], 0);

    mm_env_expect(env, 4 * MiB, ACC_R, FAULT_MAPPED, RES_ZERO_MAP);
    mm_env_expect(env, 4 * MiB + 0x5000, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    assert_int_equal(mm_env_lookup(env, 4 * MiB + 0x5000).size, PAGE_SIZE);

    env->mm.huge_anon = false;
    mm_env_expect(env, 6 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    env->mm.huge_anon = true;
    mm_env_expect(env, 17 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);

    assert_int_equal(mm_env_guest_frames(env), PAGES_PER_2M + 3);
    mm_env_expect_stats(env, "anon-huge=1 zero-map=1 anon-new=3");
    mm_env_free(env);
}
MM_BOTH_FORMATS(anon_huge_rule)

/* ---- file-private ------------------------------------------------------- */

#define IMG_BYTES (2 * PAGE_SIZE + 100) /* 2 full pages + a partial one */
#define IMG_FILL 0xee                   /* staged bytes past the image end */

static uint8_t *make_image(size_t bytes, size_t alloc, uint8_t seed)
{
    uint8_t *img = aligned_alloc(PAGE_SIZE, alloc);
    assert_non_null(img);
    memset(img, IMG_FILL, alloc);
    for (size_t i = 0; i < bytes; i++)
        img[i] = (uint8_t)(seed + i * 7);
    return img;
}

/*
 * Kernel image region of 4 pages at 16 MiB backed by a 2.1-page image:
 *  page 0 read   -> file-map (the staged page itself, read-only, no frame)
 *  page 1 write  -> file-copy (private copy, image untouched)
 *  page 2 read   -> file-copy (partial last page: copy + zero-fill, never
 *                   the staged page, whose tail holds IMG_FILL garbage)
 *  page 3 read   -> zero-map (wholly past the image: bss-like)
 *  page 3 write  -> cow-zero
 *  page 0 write  -> cow-copy (staged page is never ours to modify)
 * Totals: file-map=1 file-copy=2 zero-map=1 cow-zero=1 cow-copy=1;
 * frames: pages 1, 2, 3, 0 -> 4.
 */
static void file_private(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    uint8_t *img = make_image(IMG_BYTES, 3 * PAGE_SIZE, 1);
    uint8_t orig[3 * PAGE_SIZE];
    memcpy(orig, img, sizeof(orig));
    gpa_t k = 16 * MiB;
    assert_int_equal(mm_add_image(&env->mm, k, k + 4 * PAGE_SIZE, va_hpa(img),
                                  0, IMG_BYTES, "kernel"),
                     0);

    mm_env_expect(env, k + 10, ACC_R, FAULT_MAPPED, RES_FILE_MAP);
    struct s2_info e = mm_env_lookup(env, k);
    assert_int_equal(e.hpa, va_hpa(img));
    assert_int_equal(e.rights, ACC_RX);
    assert_int_equal(mm_env_guest_frames(env), 0);

    mm_env_expect(env, k + PAGE_SIZE, ACC_W, FAULT_MAPPED, RES_FILE_COPY);
    e = mm_env_lookup(env, k + PAGE_SIZE);
    assert_int_not_equal(e.hpa, va_hpa(img + PAGE_SIZE));
    assert_int_equal(e.rights, ACC_RWX);
    assert_memory_equal(hpa_va(e.hpa), img + PAGE_SIZE, PAGE_SIZE);

    mm_env_expect(env, k + 2 * PAGE_SIZE, ACC_R, FAULT_MAPPED, RES_FILE_COPY);
    uint8_t *p = mm_env_page(env, k + 2 * PAGE_SIZE);
    assert_ptr_not_equal(p, img + 2 * PAGE_SIZE);
    assert_memory_equal(p, img + 2 * PAGE_SIZE, 100);
    for (size_t i = 100; i < PAGE_SIZE; i++)
        assert_int_equal(p[i], 0);

    mm_env_expect(env, k + 3 * PAGE_SIZE, ACC_R, FAULT_MAPPED, RES_ZERO_MAP);
    mm_env_expect(env, k + 3 * PAGE_SIZE, ACC_W, FAULT_MAPPED, RES_COW_ZERO);
    mm_env_expect(env, k + 5, ACC_W, FAULT_MAPPED, RES_COW_COPY);
    p = mm_env_page(env, k);
    assert_ptr_not_equal(p, img);
    assert_memory_equal(p, orig, PAGE_SIZE);
    p[0] ^= 0xff; /* the guest writes its copy ... */
    assert_memory_equal(img, orig, sizeof(orig)); /* ... never the image */

    assert_int_equal(mm_env_guest_frames(env), 4);
    mm_env_expect_stats(env,
                        "file-map=1 file-copy=2 zero-map=1 cow-zero=1 cow-copy=1");
    mm_env_free(env);
    free(img);
}
MM_BOTH_FORMATS(file_private)

/* An image region mapped at a non-zero image offset maps the right bytes. */
static void file_private_offset(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    uint8_t *img = make_image(4 * PAGE_SIZE, 4 * PAGE_SIZE, 9);
    gpa_t g = 32 * MiB;
    assert_int_equal(mm_add_image(&env->mm, g, g + 2 * PAGE_SIZE, va_hpa(img),
                                  2 * PAGE_SIZE, 4 * PAGE_SIZE, "initrd-tail"),
                     0);
    mm_env_expect(env, g + PAGE_SIZE, ACC_R, FAULT_MAPPED, RES_FILE_MAP);
    assert_int_equal(mm_env_lookup(env, g + PAGE_SIZE).hpa,
                     va_hpa(img + 3 * PAGE_SIZE));
    mm_env_expect_stats(env, "file-map=1");
    mm_env_free(env);
    free(img);
}
MM_BOTH_FORMATS(file_private_offset)

/* ---- ROM ---------------------------------------------------------------- */

/*
 * ROM [0xF0000, 0x100000) backed by a 1.5-page image:
 *  page 0 read  -> rom-map (the image page, R-X)
 *  page 0 write -> denied (nothing changes; the caller drops the write)
 *  page 0 exec  -> spurious (already present with X: stale TLB)
 *  page 1 read  -> rom-map via a zero-filled private copy (partial page)
 *  page 1 write -> denied
 *  page 5 exec  -> rom-map of the zero frame (past the image)
 * Totals: rom-map=3 denied=2 spurious=1.
 */
static void rom(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    size_t bytes = PAGE_SIZE + PAGE_SIZE / 2;
    uint8_t *img = make_image(bytes, 2 * PAGE_SIZE, 3);
    gpa_t r = 0xf0000;
    assert_int_equal(mm_add_rom(&env->mm, r, 0x100000, va_hpa(img), bytes,
                                "bios"),
                     0);

    mm_env_expect(env, r + 0xff0, ACC_R, FAULT_MAPPED, RES_ROM_MAP);
    struct s2_info e = mm_env_lookup(env, r);
    assert_int_equal(e.hpa, va_hpa(img));
    assert_int_equal(e.rights, ACC_RX);

    struct fault_outcome o = mm_env_fault(env, r + 0x10, ACC_W);
    assert_int_equal(o.kind, FAULT_DENIED);
    assert_int_equal(o.res, RES_DENIED);
    assert_non_null(o.region);
    assert_int_equal(o.region->kind, REGION_ROM);
    assert_int_equal(mm_env_lookup(env, r).raw, e.raw); /* untouched */

    uint64_t inv = env->inv;
    mm_env_expect(env, r + 0x10, ACC_X, FAULT_RETRY, RES_SPURIOUS);
    assert_int_equal(env->inv, inv + 1);

    mm_env_expect(env, r + PAGE_SIZE, ACC_R, FAULT_MAPPED, RES_ROM_MAP);
    uint8_t *p = mm_env_page(env, r + PAGE_SIZE);
    assert_ptr_not_equal(p, img + PAGE_SIZE);
    assert_memory_equal(p, img + PAGE_SIZE, PAGE_SIZE / 2);
    for (size_t i = PAGE_SIZE / 2; i < PAGE_SIZE; i++)
        assert_int_equal(p[i], 0);
    assert_int_equal(mm_env_lookup(env, r + PAGE_SIZE).rights, ACC_RX);
    mm_env_expect(env, r + PAGE_SIZE, ACC_W, FAULT_DENIED, RES_DENIED);

    mm_env_expect(env, r + 5 * PAGE_SIZE, ACC_X, FAULT_MAPPED, RES_ROM_MAP);
    assert_int_equal(mm_env_lookup(env, r + 5 * PAGE_SIZE).hpa,
                     mm_env_zero_hpa(env));

    mm_env_expect_stats(env, "rom-map=3 denied=2 spurious=1");
    mm_env_free(env);
    free(img);
}
MM_BOTH_FORMATS(rom)

/* ---- open bus, MMIO, passthrough ---------------------------------------- */

/*
 * Accesses outside every region: open-bus outcome, counted per direction,
 * nothing mapped. Logging is rate-limited: the first 8, then every 1024th:
 * 2000 faults log 8 + 1 (the 1024th) = 9 lines.
 */
static void open_bus(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 0, 1 * MiB, "ram"), 0);

    host_log_clear();
    mm_env_expect(env, 3 * GiB + 8, ACC_R, FAULT_OPEN_BUS, RES_OPEN_BUS);
    assert_true(host_log_contains("open bus"));
    struct fault_outcome o = mm_env_fault(env, 1 * MiB, ACC_W);
    assert_int_equal(o.kind, FAULT_OPEN_BUS);
    assert_null(o.region);
    assert_int_equal(mm_env_lookup(env, 1 * MiB).state, S2_NONE);
    assert_int_equal(env->mm.stats.open_bus_reads, 1);
    assert_int_equal(env->mm.stats.open_bus_writes, 1);

    for (int i = 2; i < 2000; i++)
        mm_env_fault(env, 5 * GiB + (gpa_t)i * PAGE_SIZE, ACC_R);
    assert_int_equal(host_log_count(), 9);
    assert_int_equal(env->mm.stats.open_bus_reads, 1999);
    mm_env_expect_stats(env, "open-bus=2000");
    mm_env_free(env);
}
MM_BOTH_FORMATS(open_bus)

/* MMIO: the outcome carries the device model and the offset; nothing gets
 * mapped (every access must trap); exec is not allowed (RW region). */
static void mmio(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    int dev_ctx = 42;
    gpa_t base = 0xfed00000;
    assert_int_equal(mm_add_mmio(&env->mm, base, base + PAGE_SIZE, 7, &dev_ctx,
                                 "hpet-emu"),
                     0);
    struct fault_outcome o = mm_env_fault(env, base + 0xf0, ACC_W);
    assert_int_equal(o.kind, FAULT_MMIO);
    assert_int_equal(o.res, RES_MMIO);
    assert_int_equal(o.mmio_dev, 7);
    assert_ptr_equal(o.mmio_ctx, &dev_ctx);
    assert_int_equal(o.mmio_offset, 0xf0);
    assert_int_equal(o.region->kind, REGION_MMIO_EMULATED);
    assert_int_equal(mm_env_lookup(env, base).state, S2_NONE);
    mm_env_expect(env, base + 0xf0, ACC_R, FAULT_MMIO, RES_MMIO);
    mm_env_expect(env, base, ACC_X, FAULT_DENIED, RES_DENIED);
    mm_env_expect_stats(env, "mmio=2 denied=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(mmio)

/* Passthrough maps the host range with the region's memory type and RW;
 * writes go to host memory directly (no copy, no pool frame). */
static void passthrough(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    uint8_t *host = aligned_alloc(PAGE_SIZE, 4 * PAGE_SIZE);
    assert_non_null(host);
    memset(host, 0x11, 4 * PAGE_SIZE);
    gpa_t base = 0xfee00000;
    assert_int_equal(mm_add_passthrough(&env->mm, base, base + 4 * PAGE_SIZE,
                                        va_hpa(host), MT_UC, "lapic"),
                     0);
    mm_env_expect(env, base + 2 * PAGE_SIZE + 0x30, ACC_W, FAULT_MAPPED,
                  RES_PASSTHROUGH);
    struct s2_info e = mm_env_lookup(env, base + 2 * PAGE_SIZE);
    assert_int_equal(e.hpa, va_hpa(host + 2 * PAGE_SIZE));
    assert_int_equal(e.rights, ACC_RW);
    if (fmt == &s2pt_format_ept) /* NPT leaves take the type from PAT/MTRR */
        assert_int_equal(e.memtype, MT_UC);
    assert_int_equal(mm_env_guest_frames(env), 0);
    mm_env_expect(env, base, ACC_X, FAULT_DENIED, RES_DENIED);
    mm_env_expect_stats(env, "passthrough-map=1 denied=1");
    mm_env_free(env);
    free(host);
}
MM_BOTH_FORMATS(passthrough)

/* ---- present entries: spurious, reprotect, swap ------------------------- */

/* A fault on an entry that already allows the access: invalidate exactly
 * once and retry; the mapping is unchanged. anon-new=1 spurious=2. */
static void spurious(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 2 * MiB, "ram"), 0);
    mm_env_expect(env, 1 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    uint64_t raw = mm_env_lookup(env, 1 * MiB).raw;
    uint64_t inv = env->inv;
    mm_env_expect(env, 1 * MiB + 8, ACC_W, FAULT_RETRY, RES_SPURIOUS);
    mm_env_expect(env, 1 * MiB + 8, ACC_R | ACC_X, FAULT_RETRY, RES_SPURIOUS);
    assert_int_equal(env->inv, inv + 2);
    assert_int_equal(mm_env_lookup(env, 1 * MiB).raw, raw);
    mm_env_expect_stats(env, "anon-new=1 spurious=2");
    mm_env_free(env);
}
MM_BOTH_FORMATS(spurious)

/* A right the region grants was taken away (as LRU aging without A/D bits
 * will do): the fault restores it without copying. anon-new=1 reprotect=1;
 * after it the leaf maps the same frame with RWX again. */
static void reprotect(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 2 * MiB, "ram"), 0);
    mm_env_expect(env, 1 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    hpa_t hpa = mm_env_lookup(env, 1 * MiB).hpa;
    assert_int_equal(s2pt_protect(&env->mm.s2, 1 * MiB, PAGE_SIZE, ACC_RW), 0);
    mm_env_expect(env, 1 * MiB, ACC_X, FAULT_MAPPED, RES_REPROTECT);
    struct s2_info e = mm_env_lookup(env, 1 * MiB);
    assert_int_equal(e.hpa, hpa);
    assert_int_equal(e.rights, ACC_RWX);
    mm_env_expect_stats(env, "anon-new=1 reprotect=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(reprotect)

static int swapin_calls;

static int fake_swapin(struct guest_mm *mm, gpa_t gpa, swp_entry_t e, struct frame **out,
                       void *ctx)
{
    (void)ctx;
    (void)gpa;
    swapin_calls++;
    assert_int_equal(swp_offset(e), 77);
    struct frame *f = frame_alloc_zeroed(mm->fp, FRAME_GUEST);
    assert_non_null(f);
    *out = f;
    return MM_SWAPIN_MAJOR;
}

/* The rest of a hook set that does nothing (no LRU, no reclaim). */
static void fake_swapin_mapped(struct guest_mm *mm, struct frame *f, gpa_t gpa,
                               swp_entry_t e, bool minor, void *ctx)
{
    (void)mm, (void)f, (void)gpa, (void)e, (void)minor, (void)ctx;
}
static void fake_frame(struct guest_mm *mm, struct frame *f, gpa_t gpa, void *ctx)
{
    (void)mm, (void)f, (void)gpa, (void)ctx;
}
static void fake_dropped(struct guest_mm *mm, gpa_t gpa, swp_entry_t e, void *ctx)
{
    (void)mm, (void)gpa, (void)e, (void)ctx;
}
static size_t fake_reclaim(struct guest_mm *mm, bool urgent, void *ctx)
{
    (void)mm, (void)urgent, (void)ctx;
    return 0;
}
static const struct mm_swap_hooks fake_hooks = {
    .swapin = fake_swapin,
    .swapin_mapped = fake_swapin_mapped,
    .frame_added = fake_frame,
    .entry_dropped = fake_dropped,
    .write_cached = fake_frame,
    .cached_unmapped = fake_frame,
    .reclaim = fake_reclaim,
};

/* A swap entry with no swap-in hook is an error outcome (pause, never a
 * crash); with a hook, the hook resolves it: error=1 swap-in=1. */
static void swap_entry(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 2 * MiB, "ram"), 0);
    assert_int_equal(s2pt_set_swap(&env->mm.s2, 1 * MiB, swp_entry(0, 77)), 0);
    mm_env_expect(env, 1 * MiB, ACC_R, FAULT_ERROR, RES_ERROR);
    env->mm.swap_hooks = &fake_hooks;
    swapin_calls = 0;
    mm_env_expect(env, 1 * MiB, ACC_R, FAULT_MAPPED, RES_SWAP_IN);
    assert_int_equal(swapin_calls, 1);
    assert_int_equal(mm_env_lookup(env, 1 * MiB).state, S2_PRESENT);
    mm_env_expect_stats(env, "error=1 swap-in=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(swap_entry)

/* The handler re-reads the table: an exit claiming "not present" for a page
 * that is mapped RWX is resolved as spurious, not remapped. */
static void entry_rights_informational(const struct s2pt_format *fmt)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, 1 * MiB, 2 * MiB, "ram"), 0);
    mm_env_expect(env, 1 * MiB, ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    struct gpa_fault f = { .gpa = 1 * MiB, .access = ACC_W, .entry_rights = 0 };
    struct fault_outcome o;
    mm_handle_fault(&env->mm, &f, &o);
    assert_int_equal(o.res, RES_SPURIOUS);
    assert_int_equal(mm_env_guest_frames(env), 1);
    mm_env_expect_stats(env, "anon-new=1 spurious=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(entry_rights_informational)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(anon_read_then_write_both),
        cmocka_unit_test(anon_write_first_both),
        cmocka_unit_test(anon_huge_rule_both),
        cmocka_unit_test(file_private_both),
        cmocka_unit_test(file_private_offset_both),
        cmocka_unit_test(rom_both),
        cmocka_unit_test(open_bus_both),
        cmocka_unit_test(mmio_both),
        cmocka_unit_test(passthrough_both),
        cmocka_unit_test(spurious_both),
        cmocka_unit_test(reprotect_both),
        cmocka_unit_test(swap_entry_both),
        cmocka_unit_test(entry_rights_informational_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

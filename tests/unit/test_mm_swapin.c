/*
 * Unit tests for the fault path's side of the swap hooks (ept/fault.c with
 * a recording fake of struct mm_swap_hooks): a swap-in hands a frame back
 * and the fault path maps it, read-only, through the same install as every
 * other resolution, then reports swapin_mapped; a refused swap-in or a
 * failed install leaves the entry, takes no reference, and says why in the
 * outcome (err, swap). Exact counters; both EPT and NPT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/mm_env.h"

#define MiB (1ull << 20)
#define RAM (1 * MiB)
#define RAM_END (2 * MiB)
#define CALLS_MAX 16

/* What the fake does on swapin, and what the hooks saw. */
struct fake {
    int result;              /* MM_SWAPIN_MAJOR / _MINOR, or a -PV_* error */
    struct frame *give;      /* the frame handed back (NULL: a fresh one) */
    char calls[CALLS_MAX];   /* 's'wapin 'a'dded 'm'apped 'r'eclaim, in order */
    size_t ncalls;
    struct frame *added, *mapped;
    gpa_t mapped_gpa;
    swp_entry_t mapped_entry;
    bool mapped_minor;
};

static struct fake *fake_of(void *ctx) { return ctx; }

static void note(struct fake *fk, char c)
{
    assert_true(fk->ncalls < CALLS_MAX - 1);
    fk->calls[fk->ncalls++] = c;
}

static int fake_swapin(struct guest_mm *mm, gpa_t gpa, swp_entry_t e, struct frame **out,
                       void *ctx)
{
    struct fake *fk = fake_of(ctx);
    (void)gpa;
    (void)e;
    note(fk, 's');
    if (fk->result < 0)
        return fk->result;
    struct frame *f = fk->give;
    if (f) {
        frame_get(f);
    } else {
        f = frame_alloc(mm->fp, FRAME_GUEST);
        assert_non_null(f);
        memset(frame_va(mm->fp, f), 0x3c, PAGE_SIZE);
    }
    *out = f;
    return fk->result;
}

static void fake_swapin_mapped(struct guest_mm *mm, struct frame *f, gpa_t gpa,
                               swp_entry_t e, bool minor, void *ctx)
{
    struct fake *fk = fake_of(ctx);
    (void)mm;
    note(fk, 'm');
    fk->mapped = f;
    fk->mapped_gpa = gpa;
    fk->mapped_entry = e;
    fk->mapped_minor = minor;
}

static void fake_frame_added(struct guest_mm *mm, struct frame *f, gpa_t gpa, void *ctx)
{
    (void)mm;
    (void)gpa;
    note(fake_of(ctx), 'a');
    fake_of(ctx)->added = f;
}

static void fake_unused_frame(struct guest_mm *mm, struct frame *f, gpa_t gpa, void *ctx)
{
    (void)mm, (void)f, (void)gpa, (void)ctx;
    fail_msg("write_cached / cached_unmapped called for a frame not in any cache");
}

static void fake_entry_dropped(struct guest_mm *mm, gpa_t gpa, swp_entry_t e, void *ctx)
{
    (void)mm, (void)gpa, (void)e, (void)ctx;
}

static size_t fake_reclaim(struct guest_mm *mm, bool urgent, void *ctx)
{
    (void)mm;
    if (urgent)
        note(fake_of(ctx), 'r');
    return 0;
}

static const struct mm_swap_hooks fake_hooks = {
    .swapin = fake_swapin,
    .swapin_mapped = fake_swapin_mapped,
    .frame_added = fake_frame_added,
    .entry_dropped = fake_entry_dropped,
    .write_cached = fake_unused_frame,
    .cached_unmapped = fake_unused_frame,
    .reclaim = fake_reclaim,
};

static gpa_t pg(unsigned i) { return RAM + (gpa_t)i * PAGE_SIZE; }

static struct mm_env *env_new(const struct s2pt_format *fmt, struct fake *fk)
{
    struct mm_env *env = mm_env_new(fmt);
    assert_int_equal(mm_add_anon(&env->mm, RAM, RAM_END, "ram"), 0);
    env->mm.huge_anon = false;
    env->mm.swap_hooks = &fake_hooks;
    env->mm.swap_ctx = fk;
    return env;
}

static void put_entry(struct mm_env *env, gpa_t gpa, swp_entry_t e)
{
    assert_int_equal(s2pt_set_swap(&env->mm.s2, gpa, e), 0);
}

/* ---- the frame comes back and is mapped here ------------------------------------------ */

/* Major: the fresh frame maps gpa read-only (region RWX minus W) with the
 * frame's reference, then frame_added, then swapin_mapped (not minor). A
 * write afterwards takes the cow path and reuses the frame. swap-in=1
 * cow-reuse=1. */
static void major_maps_frame(const struct s2pt_format *fmt)
{
    struct fake fk = { .result = MM_SWAPIN_MAJOR };
    struct mm_env *env = env_new(fmt, &fk);
    swp_entry_t se = swp_entry(0, 5);
    put_entry(env, pg(2), se);

    struct fault_outcome o = mm_env_fault(env, pg(2) + 0x18, ACC_W);
    assert_int_equal(o.kind, FAULT_MAPPED);
    assert_int_equal(o.res, RES_SWAP_IN);
    assert_int_equal(o.err, 0);
    assert_true(o.swap == 0);
    assert_string_equal(fk.calls, "sam");
    struct s2_info e = mm_env_lookup(env, pg(2));
    assert_int_equal(e.state, S2_PRESENT);
    assert_int_equal(e.rights, ACC_RX);
    assert_int_equal(e.memtype, MT_WB);
    struct frame *f = frame_of(&env->fp, e.hpa);
    assert_ptr_equal(fk.added, f);
    assert_ptr_equal(fk.mapped, f);
    assert_int_equal(fk.mapped_gpa, pg(2));
    assert_true(fk.mapped_entry == se);
    assert_false(fk.mapped_minor);
    assert_int_equal(f->refcount, 1);
    assert_int_equal(f->mapcount, 1);
    assert_true(f->rmap == pg(2));
    assert_int_equal(mm_env_page(env, pg(2))[0x18], 0x3c);
    assert_true(mm_check(&env->mm));

    mm_env_expect(env, pg(2), ACC_W, FAULT_MAPPED, RES_COW_REUSE);
    assert_int_equal(frame_of(&env->fp, mm_env_lookup(env, pg(2)).hpa), f);
    mm_env_expect_stats(env, "swap-in=1 cow-reuse=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(major_maps_frame)

/* Minor: a frame somebody else keeps (a cache) is mapped with the
 * reference the hook took; the keeper's stays. Read-only even for a
 * frame that is not shared. swap-in-minor=1. */
static void minor_maps_kept_frame(const struct s2pt_format *fmt)
{
    struct fake fk = { .result = MM_SWAPIN_MINOR };
    struct mm_env *env = env_new(fmt, &fk);
    struct frame *kept = frame_alloc_zeroed(&env->fp, FRAME_GUEST);
    assert_non_null(kept);
    fk.give = kept;
    put_entry(env, pg(9), swp_entry(0, 9));

    mm_env_expect(env, pg(9), ACC_R, FAULT_MAPPED, RES_SWAP_MINOR);
    assert_string_equal(fk.calls, "sam");
    assert_true(fk.mapped_minor);
    assert_int_equal(kept->refcount, 2);
    assert_int_equal(kept->mapcount, 1);
    struct s2_info e = mm_env_lookup(env, pg(9));
    assert_int_equal(e.hpa, frame_hpa(&env->fp, kept));
    assert_int_equal(e.rights, ACC_RX);
    mm_env_expect_stats(env, "swap-in-minor=1");

    assert_int_equal(mm_unmap_range(&env->mm, pg(9), pg(10)), 0);
    assert_int_equal(kept->refcount, 1);
    assert_true(frame_put(&env->fp, kept));
    mm_env_free(env);
}
MM_BOTH_FORMATS(minor_maps_kept_frame)

/* ---- failures say why in the outcome ------------------------------------------------- */

/* A refused swap-in: FAULT_ERROR with the hook's error and the entry;
 * the entry stays, nothing was added or mapped. -PV_ENOMEM is an OOM
 * pause instead, after an urgent reclaim that freed nothing. */
static void refused(const struct s2pt_format *fmt)
{
    struct fake fk = { .result = -PV_ECORRUPT };
    struct mm_env *env = env_new(fmt, &fk);
    swp_entry_t se = swp_entry(0, 33);
    put_entry(env, pg(4), se);
    size_t free0 = frame_free_count(&env->fp);

    struct fault_outcome o = mm_env_fault(env, pg(4), ACC_R);
    assert_int_equal(o.kind, FAULT_ERROR);
    assert_int_equal(o.res, RES_ERROR);
    assert_int_equal(o.err, -PV_ECORRUPT);
    assert_true(o.swap == se);
    assert_string_equal(fk.calls, "s");
    assert_int_equal(mm_env_lookup(env, pg(4)).state, S2_SWAP);
    assert_int_equal(frame_free_count(&env->fp), free0);

    fk.result = -PV_ENOMEM;
    fk.ncalls = 0;
    memset(fk.calls, 0, sizeof(fk.calls));
    o = mm_env_fault(env, pg(4), ACC_R);
    assert_int_equal(o.kind, FAULT_OOM);
    assert_int_equal(o.res, RES_OOM);
    assert_int_equal(o.err, -PV_ENOMEM);
    assert_true(o.swap == se);
    assert_string_equal(fk.calls, "sr");
    assert_int_equal(mm_env_lookup(env, pg(4)).state, S2_SWAP);
    mm_env_expect_stats(env, "error=1 oom=1");
    assert_int_equal(mm_unmap_range(&env->mm, pg(4), pg(5)), 0);
    mm_env_free(env);
}
MM_BOTH_FORMATS(refused)

/* The install fails (no rmap item for a frame already mapped elsewhere):
 * the hook's reference is put, f keeps its other mapping untouched, the
 * entry stays, swapin_mapped is not called; the outcome is an OOM naming
 * the entry. */
static void install_fails(const struct s2pt_format *fmt)
{
    struct fake fk = { .result = MM_SWAPIN_MINOR };
    struct mm_env *env = env_new(fmt, &fk);
    env->mm.swap_hooks = NULL; /* plain anon fault first */
    mm_env_expect(env, pg(0), ACC_W, FAULT_MAPPED, RES_ANON_NEW);
    env->mm.swap_hooks = &fake_hooks;
    /* read-only, as a cached frame always is where it is mapped */
    assert_int_equal(s2pt_protect(&env->mm.s2, pg(0), PAGE_SIZE, ACC_RX), 0);
    struct frame *f = frame_of(&env->fp, mm_env_lookup(env, pg(0)).hpa);
    fk.give = f;
    swp_entry_t se = swp_entry(0, 40);
    put_entry(env, pg(1), se);

    struct rmap_item *items = env->fp.rmap_free;
    env->fp.rmap_free = NULL; /* no rmap item left */
    struct fault_outcome o = mm_env_fault(env, pg(1), ACC_R);
    env->fp.rmap_free = items;
    assert_int_equal(o.kind, FAULT_OOM);
    assert_int_equal(o.err, -PV_ENOMEM);
    assert_true(o.swap == se);
    assert_string_equal(fk.calls, "sr");
    assert_int_equal(f->refcount, 1);
    assert_int_equal(f->mapcount, 1);
    assert_true(f->rmap == pg(0));
    assert_int_equal(mm_env_lookup(env, pg(1)).state, S2_SWAP);
    assert_true(mm_check(&env->mm));
    /* with items back, the same fault maps it: shared, read-only */
    memset(fk.calls, 0, sizeof(fk.calls));
    fk.ncalls = 0;
    mm_env_expect(env, pg(1), ACC_R, FAULT_MAPPED, RES_SWAP_MINOR);
    assert_string_equal(fk.calls, "sam");
    assert_int_equal(f->refcount, 2);
    assert_int_equal(f->mapcount, 2);
    mm_env_expect_stats(env, "anon-new=1 oom=1 swap-in-minor=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(install_fails)

/* No swap installed: an error naming the entry, -PV_ENOENT. */
static void no_swap(const struct s2pt_format *fmt)
{
    struct fake fk = { 0 };
    struct mm_env *env = env_new(fmt, &fk);
    env->mm.swap_hooks = NULL;
    env->mm.swap_ctx = NULL;
    swp_entry_t se = swp_entry(1, 77);
    put_entry(env, pg(3), se);
    struct fault_outcome o = mm_env_fault(env, pg(3), ACC_X);
    assert_int_equal(o.kind, FAULT_ERROR);
    assert_int_equal(o.err, -PV_ENOENT);
    assert_true(o.swap == se);
    assert_int_equal(fk.ncalls, 0);
    assert_int_equal(mm_unmap_range(&env->mm, pg(3), pg(4)), 0);
    mm_env_expect_stats(env, "error=1");
    mm_env_free(env);
}
MM_BOTH_FORMATS(no_swap)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(major_maps_frame_both),
        cmocka_unit_test(minor_maps_kept_frame_both),
        cmocka_unit_test(refused_both),
        cmocka_unit_test(install_fails_both),
        cmocka_unit_test(no_swap_both),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for stage-2 fault exits (vmm/exit_fault.c): each fault
 * outcome becomes the right vCPU action — re-execute, emulate the access,
 * or stop with a message rendered from the outcome (kind, err, swap) —
 * over the real fault path (ept/) and swap (swap/), with a fake vCPU
 * (its dump op counted), a fake emulate_access (the access emulator has
 * its own tests) and a vcpu_stop that records like the real one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/test_swap_env.h"
#include "vmm/exit_fault.h"
#include "vmm/lib/fmt.h"
#include "vmm/power.h"

#define MiB (1ull << 20)
#define RAM (1 * MiB)
#define RAM_END (9 * MiB)
#define ROM 0xF0000ull
#define MMIO (16 * MiB)
#define OPEN_BUS (32 * MiB)
#define FAR (1ull << S2_GPA_BITS) /* past what the stage-2 table can map */
#define DISK_PAGES 64u
#define RIP 0xffffffff81001234ull

/* ---- fakes --------------------------------------------------------------------- */

static struct {
    unsigned emulated, dumps;
    int emulate_result;
    struct fault_outcome last; /* what emulate_access was handed */
} fx;

int emulate_access(struct vcpu *v, const struct vm_exit *e, const struct fault_outcome *o)
{
    (void)v;
    (void)e;
    fx.emulated++;
    fx.last = *o;
    return fx.emulate_result;
}

void vcpu_stop(struct vcpu *v, int status, const char *fmt, ...)
{
    if (v->stopped)
        return;
    va_list ap;
    va_start(ap, fmt);
    pv_vsnprintf(v->stop_reason, sizeof(v->stop_reason), fmt, ap);
    va_end(ap);
    v->stopped = true;
    v->stop_status = status;
}

static void fake_dump(struct vcpu *v)
{
    (void)v;
    fx.dumps++;
}

static const struct vcpu_ops fake_ops = { .name = "fake", .dump = fake_dump };

/* ---- fixture ------------------------------------------------------------------- */

struct fixture {
    struct swap_env *env; /* guest_mm + swap on a ramdisk */
    struct vcpu v;
    uint8_t rom[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
};

static struct fixture *fixture_new(bool with_swap)
{
    struct fixture *t = aligned_alloc(PAGE_SIZE, ALIGN_UP(sizeof(*t), PAGE_SIZE));
    assert_non_null(t);
    memset(t, 0, sizeof(*t));
    memset(&fx, 0, sizeof(fx));
    t->env = swap_env_new(&s2pt_format_ept, true, MM_ENV_ARENA, DISK_PAGES, NULL, 0,
                          RA_CLUSTER, 8);
    struct guest_mm *mm = &t->env->m->mm;
    assert_int_equal(mm_add_anon(mm, RAM, RAM_END, "ram"), 0);
    assert_int_equal(mm_add_rom(mm, ROM, ROM + PAGE_SIZE, va_hpa(t->rom), PAGE_SIZE, "rom"), 0);
    assert_int_equal(mm_add_mmio(mm, MMIO, MMIO + PAGE_SIZE, 3, NULL, "dev"), 0);
    mm->huge_anon = false;
    t->v.ops = &fake_ops;
    t->v.mm = mm;
    t->v.swap = &t->env->sw;
    if (!with_swap) {
        swap_destroy(&t->env->sw);
        t->v.swap = NULL;
    }
    return t;
}

static void fixture_free(struct fixture *t)
{
    if (t->v.swap) {
        swap_env_free(t->env);
    } else {
        mm_env_free(t->env->m);
        free(t->env->meta);
        free(t->env->disk);
        free(t->env);
    }
    free(t);
}

/* One stage-2 fault exit at gpa. */
static void fault(struct fixture *t, gpa_t gpa, uint32_t access)
{
    struct vm_exit e;
    memset(&e, 0, sizeof(e));
    e.kind = EXIT_STAGE2_FAULT;
    e.rip = RIP;
    e.u.fault.gpa = gpa;
    e.u.fault.access = access;
    e.u.fault.rip = RIP;
    handle_stage2_fault(&t->v, &e);
}

static void expect_running(const struct fixture *t)
{
    if (t->v.stopped)
        fail_msg("stopped: %s", t->v.stop_reason);
}

/* The stop message is exactly want, as vcpu_stop's buffer holds it. */
static void expect_stopped(struct fixture *t, const char *want)
{
    char cut[sizeof(t->v.stop_reason)];
    snprintf(cut, sizeof(cut), "%s", want);
    assert_true(t->v.stopped);
    assert_int_equal(t->v.stop_status, PV_EXIT_FAILURE);
    assert_string_equal(t->v.stop_reason, cut);
}

/* Swap out RAM pages [0, n) filled with a pattern (slots 1..n). */
static void swap_out(struct fixture *t, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        swap_env_fill(t->env, RAM + i * PAGE_SIZE, 1 + i);
    t->env->sw.recent = NULL;
    assert_int_equal(swap_reclaim(&t->env->sw, n), n);
}

/* ---- re-execute, emulate ---------------------------------------------------------- */

/* Mapped and spurious faults re-execute: no emulation, no stop, no dump. */
static void test_mapped_and_retry(void **state)
{
    (void)state;
    struct fixture *t = fixture_new(true);
    fault(t, RAM, ACC_W);
    fault(t, RAM, ACC_W); /* already mapped RWX: spurious */
    assert_int_equal(t->env->m->mm.stats.count[RES_ANON_NEW], 1);
    assert_int_equal(t->env->m->mm.stats.count[RES_SPURIOUS], 1);
    assert_int_equal(fx.emulated, 0);
    assert_int_equal(fx.dumps, 0);
    expect_running(t);
    fixture_free(t);
}

/* Open bus, a ROM write and MMIO are handed to the emulator with their
 * outcome; the guest goes on when it emulated them. */
static void test_emulated(void **state)
{
    (void)state;
    struct fixture *t = fixture_new(true);
    fault(t, OPEN_BUS + 8, ACC_R);
    assert_int_equal(fx.emulated, 1);
    assert_int_equal(fx.last.kind, FAULT_OPEN_BUS);
    fault(t, ROM + 4, ACC_W);
    assert_int_equal(fx.emulated, 2);
    assert_int_equal(fx.last.kind, FAULT_DENIED);
    assert_int_equal(fx.last.res, RES_DENIED);
    fault(t, MMIO + 0x40, ACC_W);
    assert_int_equal(fx.emulated, 3);
    assert_int_equal(fx.last.kind, FAULT_MMIO);
    assert_int_equal(fx.last.mmio_dev, 3);
    assert_int_equal(fx.last.mmio_offset, 0x40);
    assert_int_equal(fx.dumps, 0);
    expect_running(t);
    fixture_free(t);
}

/* An access the emulator refuses stops the guest, naming it; state dumped. */
static void test_emulation_refused(void **state)
{
    (void)state;
    struct fixture *t = fixture_new(true);
    fx.emulate_result = -1;
    fault(t, ROM + 4, ACC_W);
    assert_int_equal(fx.dumps, 1);
    expect_stopped(t, "cannot emulate the denied access at gpa 0xf0004 (rip 0xffffffff81001234)");
    fixture_free(t);
}

/* ---- stop: out of frames ----------------------------------------------------------- */

/* Every frame taken (by someone reclaim cannot evict): the guest pauses
 * with the pool's sizes, and, with swap, swap's own account of why. */
static void out_of_frames(bool with_swap)
{
    struct fixture *t = fixture_new(with_swap);
    struct frame_pool *fp = &t->env->m->fp;
    size_t n = frame_free_count(fp);
    struct frame **held = calloc(n, sizeof(*held));
    assert_non_null(held);
    for (size_t i = 0; i < n; i++)
        assert_non_null(held[i] = frame_alloc(fp, FRAME_GUEST));

    fault(t, RAM + 5 * PAGE_SIZE, ACC_W);
    char why[200] = "nothing reclaimable";
    if (with_swap)
        swap_describe_oom(&t->env->sw, why, sizeof(why));
    char want[400];
    snprintf(want, sizeof(want),
             "guest paused: out of host frames at gpa 0x105000 (%zu frames, 0 free): %s",
             fp->nframes, why);
    expect_stopped(t, want);
    assert_int_equal(fx.dumps, 0);
    assert_int_equal(t->env->m->mm.stats.count[RES_OOM], 1);
    for (size_t i = 0; i < n; i++)
        frame_put(fp, held[i]);
    free(held);
    fixture_free(t);
}

static void test_oom_without_swap(void **state)
{
    (void)state;
    out_of_frames(false);
}

static void test_oom_with_swap(void **state)
{
    (void)state;
    out_of_frames(true);
}

/* ---- stop: errors, rendered from the outcome ------------------------------------------ */

/* A slot that fails its checksum: the stop names gpa, slot, device and the
 * stored checksum (as far as the reason buffer goes); state dumped. */
static void test_checksum_error(void **state)
{
    (void)state;
    struct fixture *t = fixture_new(true);
    swap_out(t, 8);
    blk_file_corrupt(&t->env->blk, 6 * PAGE_SIZE + 100, 0x01); /* slot 6 = page 5 */
    fault(t, RAM + 5 * PAGE_SIZE + 0x10, ACC_R);
    char want[300];
    snprintf(want, sizeof(want),
             "guest stopped at gpa 0x105010: swap: gpa 0x105000: slot 6 on ramdisk: checksum "
             "mismatch (stored 0x%08x): page not handed to the guest",
             t->env->sw.area.slot[6].csum);
    expect_stopped(t, want);
    assert_int_equal(fx.dumps, 1);
    blk_file_corrupt(&t->env->blk, 6 * PAGE_SIZE + 100, 0x01);
    fixture_free(t);
}

static void test_read_error(void **state)
{
    (void)state;
    struct fixture *t = fixture_new(true);
    swap_out(t, 8);
    /* slot 2's first sector cannot be read (8 sectors a page) */
    blk_file_set_bad(&t->env->blk, 2 * 8, 2 * 8 + 1, BLK_FAIL_READ);
    fault(t, RAM + 1 * PAGE_SIZE, ACC_R);
    expect_stopped(t, "guest stopped at gpa 0x101000: swap: gpa 0x101000: slot 2 on ramdisk: "
                      "read error: page not handed to the guest");
    assert_int_equal(fx.dumps, 1);
    blk_file_set_bad(&t->env->blk, 0, 0, 0);
    fixture_free(t);
}

/* A swap entry with no swap behind it names the entry. */
static void test_entry_without_swap(void **state)
{
    (void)state;
    struct fixture *t = fixture_new(false);
    assert_int_equal(s2pt_set_swap(&t->v.mm->s2, RAM, swp_entry(0, 77)), 0);
    fault(t, RAM, ACC_R);
    expect_stopped(t, "guest stopped at gpa 0x100000: swap entry for slot 77 (type 0) but no "
                      "swap (error -3)");
    assert_int_equal(fx.dumps, 1);
    assert_int_equal(mm_unmap_range(t->v.mm, RAM, RAM + PAGE_SIZE), 0);
    fixture_free(t);
}

/* An error that is not swap's says so even right after a swap error: the
 * message comes from this fault's outcome, never from an earlier one. */
static void test_error_not_stale(void **state)
{
    (void)state;
    struct fixture *t = fixture_new(true);
    swap_out(t, 8);
    blk_file_corrupt(&t->env->blk, 3 * PAGE_SIZE + 8, 0x80); /* slot 3 = page 2 */
    fault(t, RAM + 2 * PAGE_SIZE, ACC_R);
    assert_non_null(strstr(t->v.stop_reason, "slot 3 on ramdisk: checksum mismatch"));
    blk_file_corrupt(&t->env->blk, 3 * PAGE_SIZE + 8, 0x80);

    t->v.stopped = false; /* resumed by hand */
    assert_int_equal(mm_add_anon(t->v.mm, FAR, FAR + PAGE_SIZE, "far"), 0);
    fault(t, FAR, ACC_R);
    expect_stopped(t, "guest stopped at gpa 0x1000000000000: stage-2 fault not resolved "
                      "(error -1)");
    assert_int_equal(fx.dumps, 2);
    fixture_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapped_and_retry),
        cmocka_unit_test(test_emulated),
        cmocka_unit_test(test_emulation_refused),
        cmocka_unit_test(test_oom_without_swap),
        cmocka_unit_test(test_oom_with_swap),
        cmocka_unit_test(test_checksum_error),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_entry_without_swap),
        cmocka_unit_test(test_error_not_stale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

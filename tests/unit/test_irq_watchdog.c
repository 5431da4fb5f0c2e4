/* The interrupts-off watchdog (vmm/irq_watchdog.c): when it speaks, what it
 * names, and when it stays quiet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "vmm/irq_watchdog.h"

#define HZ 1000ull              /* 1 tick = 1 ms */
#define S(x) ((uint64_t)(x) * HZ)

static struct irq_watchdog wd;

static int setup(void **state)
{
    (void)state;
    irqwd_init(&wd, HZ, IRQWD_WARN_S);
    host_log_clear();
    return 0;
}

/* Boot: IF stays clear until the kernel enables interrupts. Never reported,
 * however long (decompression under an emulator). */
static void test_quiet_before_first_sti(void **state)
{
    (void)state;
    for (uint64_t t = 1; t < S(600); t += S(1))
        assert_false(irqwd_observe(&wd, false, t, 0x100000));
    assert_false(host_log_contains("interrupts disabled"));
    assert_int_equal(wd.stretches, 0);
}

/* After the guest has had IF set: a stretch of IF=0 exits for 20 s warns
 * once, naming the length and both RIPs, again at 40 s, 80 s ... */
static void test_warns_at_threshold_and_doublings(void **state)
{
    (void)state;
    assert_false(irqwd_observe(&wd, true, S(1), 0x1000));
    assert_false(irqwd_observe(&wd, false, S(2), 0xffffffff81000010ull));
    unsigned warnings = 0;
    for (uint64_t t = S(2); t <= S(2 + 170); t += 250) /* an exit every 250 ms */
        warnings += irqwd_observe(&wd, false, t, 0xffffffff81000020ull);
    /* 20, 40, 80, 160 s */
    assert_int_equal(warnings, 4);
    assert_int_equal(wd.stretches, 1);
    assert_true(host_log_contains("irq watchdog: the guest has run 20 s with interrupts "
                                  "disabled (every exit since rip 0xffffffff81000010 saw IF=0; "
                                  "now at rip 0xffffffff81000020)"));
    assert_true(host_log_contains("has run 160 s"));
    host_log_clear();
    /* the guest comes back: said once, and a new stretch starts from zero */
    assert_false(irqwd_observe(&wd, true, S(200), 0x2000));
    assert_true(host_log_contains("enabled interrupts again after 198 s (rip 0x2000)"));
    assert_false(irqwd_observe(&wd, false, S(201), 0x3000));
    assert_false(irqwd_observe(&wd, false, S(220), 0x3000));
    assert_true(irqwd_observe(&wd, false, S(221), 0x3000));
    assert_int_equal(wd.stretches, 2);
}

/* One exit with IF set inside the stretch resets it: a guest that keeps
 * enabling interrupts is never reported, however many IF=0 exits it has. */
static void test_any_if_set_resets(void **state)
{
    (void)state;
    irqwd_observe(&wd, true, S(1), 0);
    for (uint64_t t = S(2); t < S(1000); t += S(1)) {
        assert_false(irqwd_observe(&wd, false, t, 0x10));
        if (t % S(15) == 0)
            assert_false(irqwd_observe(&wd, true, t, 0x20));
    }
    assert_int_equal(wd.stretches, 0);
    assert_false(host_log_contains("irq watchdog"));
}

/* Just below the threshold: quiet; at it: a warning. */
static void test_threshold_edge(void **state)
{
    (void)state;
    irqwd_observe(&wd, true, S(1), 0);
    irqwd_observe(&wd, false, S(10), 0);
    assert_false(irqwd_observe(&wd, false, S(10) + S(IRQWD_WARN_S) - 1, 0));
    assert_true(irqwd_observe(&wd, false, S(10) + S(IRQWD_WARN_S), 0));
}

/* Off (warn_s 0, or never initialised as in tests of the exit loop). */
static void test_off(void **state)
{
    (void)state;
    irqwd_init(&wd, HZ, 0);
    irqwd_observe(&wd, true, S(1), 0);
    for (uint64_t t = S(2); t < S(500); t += S(1))
        assert_false(irqwd_observe(&wd, false, t, 0));
    struct irq_watchdog zero = { 0 };
    assert_false(irqwd_observe(&zero, true, S(1), 0));
    assert_false(irqwd_observe(&zero, false, S(100), 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_quiet_before_first_sti, setup),
        cmocka_unit_test_setup(test_warns_at_threshold_and_doublings, setup),
        cmocka_unit_test_setup(test_any_if_set_resets, setup),
        cmocka_unit_test_setup(test_threshold_edge, setup),
        cmocka_unit_test_setup(test_off, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

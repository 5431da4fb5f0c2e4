/* Unit tests for the TSC rate choice (vmm/arch/tsc_freq.c).
 * kvmclock scale factors are derived from the formula in Linux's
 * Documentation/virt/kvm/x86/msr.rst (ns = delta shifted by tsc_shift,
 * times tsc_to_system_mul, >> 32) for round TSC rates, with the
 * normalisation that keeps mul in [2^31, 2^32); CPUID leaf 0x15/0x16
 * values follow the SDM's definitions (a 24 MHz crystal with ratio 2:208
 * is a 2.496 GHz TSC). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/arch/tsc_freq.h"

#define MHZ 1000000ull

/* mul, shift for a TSC of hz, as the documented formula requires. */
static void scale_for(uint64_t hz, uint32_t *mul, int8_t *shift)
{
    /* ns per tick as a 32.32 fixed-point number: 1e9 << 32 / hz */
    uint64_t frac = (1000000000ull << 32) / hz;
    int8_t s = 0;
    while (frac >= (1ull << 32)) {
        frac >>= 1;
        s++;
    }
    while (frac < (1ull << 31)) {
        frac <<= 1;
        s--;
    }
    *mul = (uint32_t)frac;
    *shift = s;
}

static uint64_t off_by(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

static void test_pvclock_rate(void **state)
{
    (void)state;
    static const uint64_t rates[] = { 2500 * MHZ, 1000 * MHZ, 3600 * MHZ, 800 * MHZ,
                                      4999 * MHZ };
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        uint32_t mul;
        int8_t shift;
        scale_for(rates[i], &mul, &shift);
        uint64_t hz = pvclock_tsc_hz(mul, shift);
        assert_true(off_by(hz, rates[i]) < rates[i] / 1000000); /* within 1 ppm */
    }
    /* 2.5 GHz: 0.4 ns per tick = 0.8 * 2^-1 */
    uint32_t mul;
    int8_t shift;
    scale_for(2500 * MHZ, &mul, &shift);
    assert_int_equal(shift, -1);
    assert_int_equal(mul, 3435973836u);
    /* a slow TSC (positive shift): 0.5 GHz is 2 ns = 0.5 * 2^2 */
    scale_for(500 * MHZ, &mul, &shift);
    assert_int_equal(shift, 2);
    assert_true(off_by(pvclock_tsc_hz(mul, shift), 500 * MHZ) < 1000);
    assert_int_equal(pvclock_tsc_hz(0, 0), 0);
    assert_int_equal(pvclock_tsc_hz(1, -40), 0); /* beyond 64 bits */
}

static void test_nested_prefers_the_hypervisor(void **state)
{
    (void)state;
    struct tsc_sources s;
    struct tsc_choice c;
    memset(&s, 0, sizeof(s));
    s.hypervisor = true;
    s.hv_max_leaf = 0x40000010;
    s.hv_timing_khz = 2496000;     /* 2.496 GHz */
    s.pit_hz = 2900 * MHZ;         /* stretched by exits to L0 */
    s.cpuid16_mhz = 2500;
    assert_int_equal(tsc_freq_choose(&s, &c), 0);
    assert_int_equal(c.hz, 2496 * MHZ);
    assert_string_equal(c.source, "hypervisor leaf 0x40000010");
    assert_true(c.pit_disagrees);

    /* no timing leaf (max leaf 0x40000001, as KVM by default): kvmclock */
    s.hv_max_leaf = 0x40000001;
    s.pvclock = true;
    scale_for(2496 * MHZ, &s.pvclock_mul, &s.pvclock_shift);
    assert_int_equal(tsc_freq_choose(&s, &c), 0);
    assert_string_equal(c.source, "kvmclock");
    assert_true(off_by(c.hz, 2496 * MHZ) < 10000);

    /* neither: the CPUID leaves, then the PIT */
    s.pvclock = false;
    s.cpuid15_eax = 2, s.cpuid15_ebx = 208, s.cpuid15_ecx = 24000000;
    assert_int_equal(tsc_freq_choose(&s, &c), 0);
    assert_string_equal(c.source, "cpuid 0x15");
    assert_int_equal(c.hz, 2496 * MHZ);
    s.cpuid15_ecx = 0; /* crystal rate not enumerated */
    assert_int_equal(tsc_freq_choose(&s, &c), 0);
    assert_string_equal(c.source, "cpuid 0x16");
    s.cpuid16_mhz = 0;
    assert_int_equal(tsc_freq_choose(&s, &c), 0);
    assert_string_equal(c.source, "pit");
    assert_false(c.pit_disagrees);
}

static void test_timing_leaf_ignored_without_hypervisor_leaf(void **state)
{
    (void)state;
    struct tsc_sources s;
    struct tsc_choice c;
    memset(&s, 0, sizeof(s));
    s.hypervisor = true;
    s.hv_max_leaf = 0x40000001;    /* leaf 0x40000010 not there: value is junk */
    s.hv_timing_khz = 123;
    s.pit_hz = 2000 * MHZ;
    assert_int_equal(tsc_freq_choose(&s, &c), 0);
    assert_string_equal(c.source, "pit");
}

static void test_bare_metal_keeps_the_pit_first(void **state)
{
    (void)state;
    struct tsc_sources s;
    struct tsc_choice c;
    memset(&s, 0, sizeof(s));
    s.pit_hz = 3192 * MHZ;
    s.cpuid16_mhz = 3200;
    s.hv_max_leaf = 0x40000010; /* without the hypervisor bit: ignored */
    s.hv_timing_khz = 1000000;
    assert_int_equal(tsc_freq_choose(&s, &c), 0);
    assert_string_equal(c.source, "pit");
    assert_int_equal(c.hz, 3192 * MHZ);
    /* a PIT that never fired */
    s.pit_hz = 0;
    assert_int_equal(tsc_freq_choose(&s, &c), 0);
    assert_string_equal(c.source, "cpuid 0x16");
}

static void test_implausible_sources_are_skipped(void **state)
{
    (void)state;
    struct tsc_sources s;
    struct tsc_choice c;
    memset(&s, 0, sizeof(s));
    s.hypervisor = true;
    s.hv_max_leaf = 0x40000010;
    s.hv_timing_khz = 1;            /* 1 kHz: nonsense */
    s.pit_hz = 20000 * MHZ;         /* 20 GHz: nonsense */
    assert_int_equal(tsc_freq_choose(&s, &c), -1);
    assert_int_equal(c.hz, 0);
    s.cpuid16_mhz = 2100;
    assert_int_equal(tsc_freq_choose(&s, &c), 0);
    assert_string_equal(c.source, "cpuid 0x16");
    assert_false(c.pit_disagrees);  /* an implausible PIT is not compared */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pvclock_rate),
        cmocka_unit_test(test_nested_prefers_the_hypervisor),
        cmocka_unit_test(test_timing_leaf_ignored_without_hypervisor_leaf),
        cmocka_unit_test(test_bare_metal_keeps_the_pit_first),
        cmocka_unit_test(test_implausible_sources_are_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

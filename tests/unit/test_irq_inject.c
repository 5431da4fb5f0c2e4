/* MSI messages from emulated devices (vmm/irq_inject.c): which are delivered as which vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/irq_inject.h"

static void test_msi_vector(void **state)
{
    (void)state;
    uint8_t vec = 0;
    const char *why = NULL;
    /* what Linux writes: 0xFEE0_0000 | dest << 12, fixed, edge, vector */
    assert_true(irq_msi_vector(0xFEE00000u, 0x41, &vec, &why));
    assert_int_equal(vec, 0x41);
    assert_true(irq_msi_vector(0xFEE01000u | (1u << 3), 0xEF | (MSI_DELMODE_LOWEST << 8), &vec,
                               &why));
    assert_int_equal(vec, 0xEF);
    /* refused: not an MSI address, NMI / SMI / INIT / ExtINT, reserved vectors */
    assert_false(irq_msi_vector(0xFED00000u, 0x41, &vec, &why));
    assert_string_equal(why, "not an MSI address");
    assert_false(irq_msi_vector(0x1FEE00000ull, 0x41, &vec, &why));
    static const unsigned modes[] = { 2, 4, 5, 7 };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        assert_false(irq_msi_vector(0xFEE00000u, 0x41 | (modes[i] << 8), &vec, &why));
        assert_string_equal(why, "delivery mode other than fixed or lowest priority");
    }
    assert_false(irq_msi_vector(0xFEE00000u, 0x0F, &vec, &why));
    assert_string_equal(why, "reserved vector");
    assert_true(irq_msi_vector(0xFEE00000u, 0x10, &vec, &why));
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_msi_vector) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

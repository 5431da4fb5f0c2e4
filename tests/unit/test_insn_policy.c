/* Unit tests for the SVM-instruction recognizer behind the #GP-to-#UD rule
 * (vmm/insn_policy.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/insn_policy.h"

#define NAME(...) ({ static const uint8_t b_[] = { __VA_ARGS__ }; \
                     insn_policy_svm_name(b_, sizeof(b_)); })

static void test_every_svm_instruction(void **state)
{
    (void)state;
    static const char *const names[] = {
        "VMRUN", "VMMCALL", "VMLOAD", "VMSAVE", "STGI", "CLGI", "SKINIT", "INVLPGA",
    };
    for (unsigned i = 0; i < 8; i++) {
        uint8_t b[3] = { 0x0F, 0x01, (uint8_t)(0xD8 + i) };
        const char *n = insn_policy_svm_name(b, sizeof(b));
        assert_non_null(n);
        assert_string_equal(n, names[i]);
    }
}

static void test_prefixes_are_skipped(void **state)
{
    (void)state;
    assert_string_equal(NAME(0x67, 0x0F, 0x01, 0xD8), "VMRUN");        /* addr32 */
    assert_string_equal(NAME(0x48, 0x0F, 0x01, 0xDA), "VMLOAD");       /* REX.W */
    assert_string_equal(NAME(0x2E, 0x66, 0x41, 0x0F, 0x01, 0xDF), "INVLPGA");
    assert_string_equal(NAME(0xF3, 0x0F, 0x01, 0xDE), "SKINIT");
    /* an ignored REX before a legacy prefix, two REX bytes: still VMRUN */
    assert_string_equal(NAME(0x48, 0x66, 0x0F, 0x01, 0xD8), "VMRUN");
    assert_string_equal(NAME(0x48, 0x41, 0x0F, 0x01, 0xD8), "VMRUN");
}

static void test_other_instructions_are_not_svm(void **state)
{
    (void)state;
    assert_null(NAME(0x0F, 0x01, 0xC1));        /* VMCALL (VMX) */
    assert_null(NAME(0x0F, 0x01, 0xD0));        /* XGETBV */
    assert_null(NAME(0x0F, 0x01, 0xD1));        /* XSETBV */
    assert_null(NAME(0x0F, 0x01, 0xF9));        /* RDTSCP */
    assert_null(NAME(0x0F, 0x01, 0x10));        /* LGDT [rax] */
    assert_null(NAME(0x0F, 0x30));              /* WRMSR */
    assert_null(NAME(0x0F, 0x01));              /* cut short */
    assert_null(NAME(0xCD, 0x80));
    assert_null(insn_policy_svm_name(NULL, 0));
}

/* Fifteen prefixes leave no room for the opcode: never read past 15. */
static void test_length_limit(void **state)
{
    (void)state;
    uint8_t b[20];
    for (int i = 0; i < 14; i++)
        b[i] = 0x66;
    b[14] = 0x0F, b[15] = 0x01, b[16] = 0xD8;
    assert_null(insn_policy_svm_name(b, sizeof(b)));
    b[12] = 0x0F, b[13] = 0x01, b[14] = 0xD8;
    assert_string_equal(insn_policy_svm_name(b, sizeof(b)), "VMRUN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_svm_instruction),
        cmocka_unit_test(test_prefixes_are_skipped),
        cmocka_unit_test(test_other_instructions_are_not_svm),
        cmocka_unit_test(test_length_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

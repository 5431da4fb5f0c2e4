/* pv_snprintf (vmm/fmt.c) on the corners where C99 7.19.6.1 is specific and
 * the subset first differed from it: '+'/' ' on unsigned conversions, '#'
 * with %o and a precision, and %c of '\0'. Kept apart from test_fmt so the
 * rest of the formatter stays covered while these are open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/fmt_compare.h"
#include "vmm/lib/fmt.h"

/* Without the format attribute: these formats draw (correct) warnings. */
static int raw(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = pv_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

#define EXPECT(want, ...)                                                  \
    do {                                                                   \
        char buf_[64];                                                     \
        int n_ = raw(buf_, sizeof(buf_), __VA_ARGS__);                     \
        assert_string_equal(buf_, want);                                   \
        assert_int_equal(n_, (int)strlen(want));                           \
    } while (0)

/* "The result of a signed conversion always begins with a plus or minus
 * sign" / "if the first character of a signed conversion is not a sign":
 * both flags mean nothing to u, o, x, X. */
static void test_sign_flags_ignored_on_unsigned(void **state)
{
    (void)state;
    EXPECT("5", "%+u", 5u);
    EXPECT("5", "% u", 5u);
    EXPECT("ff", "%+x", 255u);
    EXPECT("FF", "% X", 255u);
    EXPECT("17", "%+o", 15u);
    EXPECT("0xff", "%+#x", 255u);
    EXPECT("   42", "%+5u", 42u);
    EXPECT("00042", "% 05u", 42u);
    EXPECT("18446744073709551615", "%+llu", (unsigned long long)UINT64_MAX);
    /* still honoured on signed conversions */
    EXPECT("+5", "%+d", 5);
    EXPECT(" 5", "% i", 5);
}

/* '#' with o "increases the precision, if and only if necessary, to force
 * the first digit of the result to be a zero". */
static void test_alt_octal_with_precision(void **state)
{
    (void)state;
    EXPECT("00010", "%#.5o", 8u);
    EXPECT("010", "%#.3o", 8u);
    EXPECT("010", "%#.2o", 8u);
    EXPECT("010", "%#.1o", 8u);
    EXPECT("   010", "%#6.3o", 8u);
    EXPECT("0377", "%#.3o", 255u);
    EXPECT("0000", "%#.4o", 0u);
}

/* %c writes the character, even a NUL, and counts it. */
static void test_char_nul(void **state)
{
    (void)state;
    char buf[8];
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(raw(buf, sizeof(buf), "%c|", 0), 2);
    assert_memory_equal(buf, "\0|\0", 3);
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(raw(buf, sizeof(buf), "%3c|", 0), 4);
    assert_memory_equal(buf, "  \0|\0", 5);
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(raw(buf, sizeof(buf), "%-3c|", 0), 4);
    assert_memory_equal(buf, "\0  |\0", 5);
}

/* Random comparison including the combinations above. */
static void test_against_host_snprintf_strict(void **state)
{
    (void)state;
    struct fmt_rng r = { 0xC99C99 };
    char why[512];
    for (int i = 0; i < 4000; i++) {
        struct fmt_case c;
        memset(&c, 0, sizeof(c));
        fmt_gen(&r, &c, true);
        if (!fmt_compare_one(&r, &c, why, sizeof(why)))
            fail_msg("case %d: %s", i, why);
    }
}

/* "%#.0o" of 0 must print "0" without looking at digits that were never
 * produced (ASan: the digit buffer must not be read at index -1). Last,
 * because an ASan report ends the process. */
static void test_alt_octal_zero_precision_zero(void **state)
{
    (void)state;
    EXPECT("0", "%#.0o", 0u);
    EXPECT("    0", "%#5.0o", 0u);
    EXPECT("0    |", "%-#5.0o|", 0u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_flags_ignored_on_unsigned),
        cmocka_unit_test(test_alt_octal_with_precision),
        cmocka_unit_test(test_char_nul),
        cmocka_unit_test(test_against_host_snprintf_strict),
        cmocka_unit_test(test_alt_octal_zero_precision_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

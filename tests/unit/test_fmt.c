/* Unit tests for the freestanding printf subset (vmm/fmt.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/fmt_compare.h"
#include "vmm/lib/fmt.h"

/* pv_snprintf without the format attribute, for formats the compiler
 * rightly warns about (unknown conversions, ignored flags, NULL %s) but
 * whose behaviour pv_snprintf still defines. */
static int raw(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = pv_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* Format into a fresh buffer and compare text and return value. */
#define EXPECT_WITH(fn, want, ...)                                         \
    do {                                                                   \
        char buf_[256];                                                    \
        memset(buf_, 0x7E, sizeof(buf_));                                  \
        int n_ = fn(buf_, sizeof(buf_), __VA_ARGS__);                      \
        assert_string_equal(buf_, want);                                   \
        assert_int_equal(n_, (int)strlen(want));                           \
    } while (0)
#define EXPECT(want, ...) EXPECT_WITH(pv_snprintf, want, __VA_ARGS__)
#define EXPECT_RAW(want, ...) EXPECT_WITH(raw, want, __VA_ARGS__)

static void test_conversions(void **state)
{
    (void)state;
    EXPECT("42", "%d", 42);
    EXPECT("-42", "%i", -42);
    EXPECT("4294967254", "%u", (unsigned)-42);
    EXPECT("ff", "%x", 255u);
    EXPECT("FF", "%X", 255u);
    EXPECT("377", "%o", 255u);
    EXPECT("A", "%c", 'A');
    EXPECT("hi", "%s", "hi");
    EXPECT("0x1000", "%p", (void *)0x1000);
    EXPECT("0x7fffdeadbeef", "%p", (void *)0x7fffdeadbeefull);
    EXPECT("100%", "%d%%", 100);
    EXPECT_RAW("(null)", "%s", (const char *)NULL);
    EXPECT("", "%s", "");
    EXPECT_RAW("", "");
    EXPECT("plain text", "plain text");
    EXPECT("a1b2c", "a%db%uc", 1, 2u);
    EXPECT("0", "%d", 0);
    EXPECT("0", "%x", 0u);
    EXPECT("0", "%o", 0u);
}

static void test_unknown_and_lone_percent(void **state)
{
    (void)state;
    EXPECT_RAW("%y", "%y");           /* unknown conversion printed as is */
    EXPECT_RAW("ab", "ab%");          /* lone '%' at the end prints nothing */
    EXPECT("5%k", "%d%%k", 5);
}

static void test_flags(void **state)
{
    (void)state;
    EXPECT("42   |", "%-5d|", 42);
    EXPECT("00042", "%05d", 42);
    EXPECT("-0042", "%05d", -42);
    EXPECT("+42", "%+d", 42);
    EXPECT("-42", "%+d", -42);
    EXPECT("+0", "%+d", 0);
    EXPECT(" 42", "% d", 42);
    EXPECT("-42", "% d", -42);
    EXPECT_RAW("+42", "%+ d", 42);            /* '+' beats ' ' */
    EXPECT_RAW("+42", "% +d", 42);
    EXPECT_RAW("42   ", "%-05d", 42);         /* '-' beats '0' */
    EXPECT("+42  ", "%-+5d", 42);
    EXPECT(" 0042", "% 05d", 42);
    EXPECT("0xff", "%#x", 255u);
    EXPECT("0XFF", "%#X", 255u);
    EXPECT("0", "%#x", 0u);               /* no prefix on zero */
    EXPECT("0377", "%#o", 255u);
    EXPECT("0", "%#o", 0u);
    EXPECT("0x0000ff", "%#08x", 255u);    /* zeros go after the prefix */
    EXPECT("    0xff", "%#8x", 255u);
    EXPECT("0xff    ", "%#-8x", 255u);
    EXPECT("  0377", "%#6o", 255u);
    EXPECT("000377", "%#06o", 255u);
}

static void test_width_precision(void **state)
{
    (void)state;
    EXPECT("   42", "%5d", 42);
    EXPECT("42", "%1d", 42);              /* width never truncates */
    EXPECT("00042", "%.5d", 42);
    EXPECT("  00042", "%7.5d", 42);
    EXPECT("-00042", "%.5d", -42);
    EXPECT_RAW("   42", "%05.2d", 42);        /* precision disables '0' */
    EXPECT("", "%.0d", 0);                /* precision 0, value 0: no digits */
    EXPECT("", "%.d", 0);
    EXPECT("   ", "%3.0d", 0);
    EXPECT("+", "%+.0d", 0);
    EXPECT("", "%.0x", 0u);
    EXPECT("", "%#.0x", 0u);
    EXPECT("0x001", "%#.3x", 1u);
    EXPECT("hel", "%.3s", "hello");
    EXPECT("  hel", "%5.3s", "hello");
    EXPECT("hel  |", "%-5.3s|", "hello");
    EXPECT("hello", "%2s", "hello");
    EXPECT("", "%.0s", "hello");
    EXPECT("    A", "%5c", 'A');
    EXPECT("A    |", "%-5c|", 'A');
    EXPECT("      0x10", "%10p", (void *)16);
    EXPECT("0x10      |", "%-10p|", (void *)16);
}

static void test_star(void **state)
{
    (void)state;
    EXPECT("   42", "%*d", 5, 42);
    EXPECT("42   |", "%*d|", -5, 42);      /* negative width: '-' flag */
    EXPECT("42   |", "%-*d|", -5, 42);
    EXPECT("00042", "%.*d", 5, 42);
    EXPECT("42", "%.*d", -1, 42);          /* negative precision: as if none */
    EXPECT_RAW("00042", "%05.*d", -1, 42);     /* ... so '0' applies again */
    EXPECT("  00042", "%*.*d", 7, 5, 42);
    EXPECT("00042  |", "%*.*d|", -7, 5, 42);
    EXPECT("he", "%.*s", 2, "hello");
    EXPECT("hello", "%.*s", -2, "hello");
    EXPECT("   he", "%*.*s", 5, 2, "hello");
    EXPECT("x    y", "x%*sy", 4, "");
    EXPECT("7 8 9", "%*d %d %.*d", 1, 7, 8, 1, 9); /* stars consume in order */
}

static void test_length_modifiers(void **state)
{
    (void)state;
    EXPECT("-1", "%hhd", 255);
    EXPECT("127", "%hhd", 0x17F);
    EXPECT("-128", "%hhi", 0x80);
    EXPECT("255", "%hhu", 0x1FF);
    EXPECT("ff", "%hhx", -1);
    EXPECT("-32768", "%hd", 0x18000);
    EXPECT("1", "%hu", 65537);
    EXPECT("ffff", "%hx", -1);
    EXPECT("177777", "%ho", 0xFFFF);
    EXPECT("-9223372036854775807", "%ld", -INT64_MAX);
    EXPECT("18446744073709551615", "%lu", (unsigned long)UINT64_MAX);
    EXPECT("fffffffffffffffe", "%lx", (unsigned long)UINT64_MAX - 1);
    EXPECT("-5", "%lld", -5ll);
    EXPECT("123456789012", "%llu", 123456789012ull);
    EXPECT("18446744073709551615", "%zu", (size_t)SIZE_MAX);
    EXPECT("-3", "%zd", (size_t)-3);
    EXPECT("ffffffffffffffff", "%zx", (size_t)SIZE_MAX);
    EXPECT("-9223372036854775808", "%jd", INTMAX_MIN);
    EXPECT("18446744073709551615", "%ju", UINTMAX_MAX);
    EXPECT("-9223372036854775808", "%td", PTRDIFF_MIN);
    EXPECT("9223372036854775807", "%ti", PTRDIFF_MAX);
    /* an int argument without modifier uses only 32 bits */
    EXPECT("-1", "%d", (int)0xFFFFFFFF);
    EXPECT("4294967295", "%u", 0xFFFFFFFFu);
}

static void test_int64_extremes(void **state)
{
    (void)state;
    EXPECT("-9223372036854775808", "%lld", (long long)INT64_MIN);
    EXPECT("-9223372036854775808", "%lli", (long long)INT64_MIN);
    EXPECT("-9223372036854775808", "%ld", (long)INT64_MIN);
    EXPECT("-9223372036854775808", "%+lld", (long long)INT64_MIN);
    EXPECT("-9223372036854775808", "% lld", (long long)INT64_MIN);
    EXPECT("   -9223372036854775808", "%23lld", (long long)INT64_MIN);
    EXPECT("-0009223372036854775808", "%023lld", (long long)INT64_MIN);
    EXPECT("-0009223372036854775808", "%.22lld", (long long)INT64_MIN);
    EXPECT("9223372036854775807", "%lld", (long long)INT64_MAX);
    EXPECT("+9223372036854775807", "%+lld", (long long)INT64_MAX);
    EXPECT("-2147483648", "%d", INT32_MIN);
    EXPECT("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
    EXPECT("ffffffffffffffff", "%llx", (unsigned long long)UINT64_MAX);
    EXPECT("0XFFFFFFFFFFFFFFFF", "%#llX", (unsigned long long)UINT64_MAX);
    EXPECT("1777777777777777777777", "%llo", (unsigned long long)UINT64_MAX);
    EXPECT("01777777777777777777777", "%#llo", (unsigned long long)UINT64_MAX);
    EXPECT("00000000000000000000018446744073709551615", "%.41llu",
           (unsigned long long)UINT64_MAX);
}

static void test_truncation(void **state)
{
    (void)state;
    char buf[16];
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(pv_snprintf(buf, 5, "%d", 123456), 6);
    assert_string_equal(buf, "1234");
    assert_int_equal(buf[5], 'Z'); /* nothing past size */

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(pv_snprintf(buf, 6, "%d", 123456), 6);
    assert_string_equal(buf, "12345");
    assert_int_equal(pv_snprintf(buf, 7, "%d", 123456), 6);
    assert_string_equal(buf, "123456");

    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(pv_snprintf(buf, 1, "%s", "abc"), 3);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], 'Z');

    /* size 0: nothing written, not even the NUL; NULL is fine */
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(pv_snprintf(buf, 0, "%s-%d", "abc", 42), 6);
    assert_int_equal(buf[0], 'Z');
    assert_int_equal(pv_snprintf(NULL, 0, "%08x", 1u), 8);
    assert_int_equal(raw(NULL, 0, ""), 0);

    /* padding and prefixes are cut like everything else */
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(pv_snprintf(buf, 4, "%#10x", 0xABu), 10);
    assert_string_equal(buf, "   ");
    assert_int_equal(pv_snprintf(buf, 4, "%-#10x|", 0xABu), 11);
    assert_string_equal(buf, "0xa");

    /* every size against an exact-size heap buffer (ASan checks writes) */
    const char *full = "value=-00042 name=pagevisor  |0x7f";
    int len = (int)strlen(full);
    for (size_t size = 1; size <= (size_t)len + 2; size++) {
        char *b = malloc(size);
        assert_non_null(b);
        int n = pv_snprintf(b, size, "value=%06d name=%-11s|%#x", -42, "pagevisor", 0x7Fu);
        assert_int_equal(n, len);
        size_t kept = size - 1 < (size_t)len ? size - 1 : (size_t)len;
        assert_int_equal(strlen(b), kept);
        assert_memory_equal(b, full, kept);
        free(b);
    }
}

/* %.*s on a buffer without a terminator reads at most precision bytes. */
static void test_precision_string_not_terminated(void **state)
{
    (void)state;
    static const char text[] = { 'p', 'a', 'g', 'e', 'v', 'i', 's', 'o', 'r' };
    char *s = malloc(sizeof(text)); /* exact size, no NUL */
    assert_non_null(s);
    memcpy(s, text, sizeof(text));
    EXPECT("pagevisor", "%.*s", (int)sizeof(text), s);
    EXPECT("page", "%.*s", 4, s);
    EXPECT("pagevisor", "%.9s", s);
    EXPECT("   pagevisor|", "%12.*s|", 9, s);
    EXPECT("pag   |", "%-6.3s|", s);
    for (int p = 0; p <= (int)sizeof(text); p++) {
        char out[16];
        assert_int_equal(pv_snprintf(out, sizeof(out), "%.*s", p, s), p);
        assert_memory_equal(out, text, (size_t)p);
        assert_int_equal(out[p], '\0');
    }
    free(s);

    /* a zero-byte allocation with precision 0 is never touched */
    char *z = malloc(1);
    assert_non_null(z);
    z[0] = 'q';
    EXPECT("", "%.0s", z + 1);
    EXPECT("    ", "%4.0s", z + 1);
    EXPECT("q", "%.1s", z);
    free(z);
}

static int wrap(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int wrap(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = pv_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* The va_list is copied, not consumed: the caller's ap is reusable. */
static int twice(char *a, char *b, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int twice(char *a, char *b, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = pv_vsnprintf(a, size, fmt, ap);
    int m = pv_vsnprintf(b, size, fmt, ap);
    va_end(ap);
    return n == m ? n : -1;
}

static void test_vsnprintf(void **state)
{
    (void)state;
    char buf[64], other[64];
    assert_int_equal(wrap(buf, sizeof(buf), "%s=%llu", "frames", 1ull << 40), 20);
    assert_string_equal(buf, "frames=1099511627776");
    assert_int_equal(twice(buf, other, sizeof(buf), "%d/%s", 7, "x"), 3);
    assert_string_equal(buf, "7/x");
    assert_string_equal(other, "7/x");
}

/* A few thousand random combinations compared with the host's snprintf. */
static char emitted[2][PV_EMIT_LINE_MAX];
static int emit_calls;

static void record_line(void *ctx, const char *line)
{
    assert_ptr_equal(ctx, emitted);
    if (emit_calls < 2)
        strcpy(emitted[emit_calls], line);
    emit_calls++;
}

/* pv_emitf: one formatted line per call to the callback, cut to fit. */
static void test_emitf(void **state)
{
    (void)state;
    emit_calls = 0;
    pv_emitf(record_line, emitted, "io denied-reads %llu", 42ull);
    char big[2 * PV_EMIT_LINE_MAX];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    pv_emitf(record_line, emitted, "%s", big);
    assert_int_equal(emit_calls, 2);
    assert_string_equal(emitted[0], "io denied-reads 42");
    assert_int_equal(strlen(emitted[1]), PV_EMIT_LINE_MAX - 1);
}

static void test_against_host_snprintf(void **state)
{
    (void)state;
    struct fmt_rng r = { 0x5EED0001 };
    char why[512];
    for (int i = 0; i < 4000; i++) {
        struct fmt_case c;
        memset(&c, 0, sizeof(c));
        fmt_gen(&r, &c, false);
        if (!fmt_compare_one(&r, &c, why, sizeof(why)))
            fail_msg("case %d: %s", i, why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_unknown_and_lone_percent),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_width_precision),
        cmocka_unit_test(test_star),
        cmocka_unit_test(test_length_modifiers),
        cmocka_unit_test(test_int64_extremes),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_precision_string_not_terminated),
        cmocka_unit_test(test_vsnprintf),
        cmocka_unit_test(test_emitf),
        cmocka_unit_test(test_against_host_snprintf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

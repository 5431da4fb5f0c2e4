/* Unit tests for guest/size.c: parse_size() and format_size(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/lib/types.h"
#include "guest/size.h"

/* Parses a C string through an exact-size heap copy, so ASan sees overreads. */
static int parse(const char *s, uint64_t *out)
{
    size_t len = strlen(s);
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    int rc = parse_size(copy, len, out);
    free(copy);
    return rc;
}

static void expect_size(const char *s, uint64_t want)
{
    uint64_t v = 0xdeadbeef;
    if (parse(s, &v) != 0)
        fail_msg("parse_size(\"%s\") rejected", s);
    if (v != want)
        fail_msg("parse_size(\"%s\") = %llu, want %llu", s,
                 (unsigned long long)v, (unsigned long long)want);
}

static void expect_bad(const char *s)
{
    uint64_t v = 12345;
    int rc = parse(s, &v);
    if (rc != -PV_EINVAL)
        fail_msg("parse_size(\"%s\") = %d, want -PV_EINVAL", s, rc);
    assert_int_equal(v, 12345); /* untouched on failure */
}

static void test_plain_bytes(void **state)
{
    (void)state;
    expect_size("0", 0);
    expect_size("1", 1);
    expect_size("4096", 4096);
    expect_size("0004096", 4096);
    expect_size("18446744073709551615", UINT64_MAX);
}

static void test_suffixes(void **state)
{
    (void)state;
    expect_size("1K", SIZE_K);
    expect_size("1k", SIZE_K);
    expect_size("1KiB", SIZE_K);
    expect_size("512M", 512 * SIZE_M);
    expect_size("512m", 512 * SIZE_M);
    expect_size("512MiB", 512 * SIZE_M);
    expect_size("1536M", 1536 * SIZE_M);
    expect_size("2G", 2 * SIZE_G);
    expect_size("2g", 2 * SIZE_G);
    expect_size("2GiB", 2 * SIZE_G);
    expect_size("1T", SIZE_T);
    expect_size("1t", SIZE_T);
    expect_size("1TiB", SIZE_T);
    expect_size("0G", 0);
    expect_size("16777215T", 16777215ull * SIZE_T);
}

static void test_rejects_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "M",
        "K1",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1 M",
        "1\tM",
        "0x10",
        "0X10",
        "1.5G",
        "1,5G",
        "1e3",
        "1KB",
        "1kb",
        "1Ki",
        "1KIB",
        "1kB",
        "1P",
        "1E",
        "1MM",
        "1MiBs",
        "1B",
        "1b",
        "one",
        "1G ",
        "1gib",
        "1GIB",
        "\xef\xbb\xbf"
        "1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_bad(bad[i]);
}

static void test_rejects_overflow(void **state)
{
    (void)state;
    expect_bad("18446744073709551616"); /* UINT64_MAX + 1 */
    expect_bad("99999999999999999999");
    expect_bad("100000000000000000000000000");
    expect_bad("16777216T"); /* 2^64 exactly */
    expect_bad("17179869184G");
    expect_bad("18014398509481984K");
}

static void test_slice_not_terminated(void **state)
{
    (void)state;
    const char text[] = "512Mxyz";
    uint64_t v = 0;
    assert_int_equal(parse_size(text, 4, &v), 0);
    assert_int_equal(v, 512 * SIZE_M);
    assert_int_equal(parse_size(text, 3, &v), 0);
    assert_int_equal(v, 512);
    assert_int_equal(parse_size(text, 5, &v), -PV_EINVAL);
    assert_int_equal(parse_size(text, 0, &v), -PV_EINVAL);
    assert_int_equal(parse_size(NULL, 0, &v), -PV_EINVAL);
    assert_int_equal(parse_size(text, 4, NULL), -PV_EINVAL);
}

static void expect_format(uint64_t v, const char *want)
{
    char buf[SIZE_STR_MAX];
    memset(buf, 'X', sizeof(buf));
    int n = format_size(v, buf, sizeof(buf));
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_format(void **state)
{
    (void)state;
    expect_format(0, "0");
    expect_format(1, "1");
    expect_format(1023, "1023");
    expect_format(1024, "1K");
    expect_format(4097, "4097");
    expect_format(536870912, "512M");
    expect_format(1536 * SIZE_M, "1536M");
    expect_format(SIZE_G, "1G");
    expect_format(3 * SIZE_G + SIZE_K, "3145729K");
    expect_format(SIZE_T, "1T");
    expect_format(2048 * SIZE_G, "2T");
    expect_format(16777215ull * SIZE_T, "16777215T");
    expect_format(UINT64_MAX, "18446744073709551615");
    expect_format(UINT64_MAX - 1023, "18014398509481983K");
}

static void test_format_truncates(void **state)
{
    (void)state;
    char buf[3];
    assert_int_equal(format_size(1536 * SIZE_M, buf, sizeof(buf)), 5);
    assert_string_equal(buf, "15");
    assert_int_equal(format_size(SIZE_M, NULL, 0), 2);
}

static void round_trip(uint64_t v)
{
    char buf[SIZE_STR_MAX];
    int n = format_size(v, buf, sizeof(buf));
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    uint64_t back = ~v;
    assert_int_equal(parse_size(buf, (size_t)n, &back), 0);
    if (back != v)
        fail_msg("%llu -> \"%s\" -> %llu", (unsigned long long)v, buf,
                 (unsigned long long)back);
}

static void test_round_trip(void **state)
{
    (void)state;
    for (unsigned shift = 0; shift < 64; shift++) {
        uint64_t p = 1ull << shift;
        round_trip(p);
        round_trip(p - 1);
        round_trip(p + 1);
        round_trip(p * 3);
        round_trip(~p);
    }
    uint64_t x = 0x9e3779b97f4a7c15ull; /* splitmix64 stream */
    for (int i = 0; i < 100000; i++) {
        x += 0x9e3779b97f4a7c15ull;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        round_trip(z);
        round_trip(z & ~(SIZE_M - 1)); /* exercise the suffixes */
        round_trip(z >> (z & 63));
    }
}

/* Canonical text survives parse -> format unchanged; aliases canonicalise. */
static void test_canonical(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "512M", "512M" }, { "524288K", "512M" },  { "536870912", "512M" },
        { "1024M", "1G" },  { "1536MiB", "1536M" }, { "1GiB", "1G" },
        { "0K", "0" },      { "4096", "4K" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v;
        char buf[SIZE_STR_MAX];
        assert_int_equal(parse(cases[i].in, &v), 0);
        format_size(v, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_bytes),
        cmocka_unit_test(test_suffixes),
        cmocka_unit_test(test_rejects_malformed),
        cmocka_unit_test(test_rejects_overflow),
        cmocka_unit_test(test_slice_not_terminated),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_truncates),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for finding \_S5 in AML (acpi_find_s5, vmm/acpi.c). Every
 * call runs on an exact-size heap copy, so ASan reports any read past the
 * end of the buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/acpi_aml.h"
#include "vmm/acpi.h"

/* Run on an exact-size heap copy so ASan sees any read past len. */
static bool s5(const uint8_t *aml, size_t len, uint8_t *a, uint8_t *b)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, aml, len);
    *a = *b = 0xEE;
    bool found = acpi_find_s5(copy, len, a, b);
    free(copy);
    return found;
}

#define S5_EXPECT(typa, typb, ...)                                           \
    do {                                                                     \
        static const uint8_t aml_[] = { __VA_ARGS__ };                       \
        uint8_t a_, b_;                                                      \
        assert_true(s5(aml_, sizeof(aml_), &a_, &b_));                       \
        assert_int_equal(a_, typa);                                          \
        assert_int_equal(b_, typb);                                          \
    } while (0)
#define S5_NONE(...)                                                         \
    do {                                                                     \
        static const uint8_t aml_[] = { __VA_ARGS__ };                       \
        uint8_t a_, b_;                                                      \
        assert_false(s5(aml_, sizeof(aml_), &a_, &b_));                      \
    } while (0)

static void test_s5_encodings(void **state)
{
    (void)state;
    S5_EXPECT(0, 0, NAME, S5, PKG, 0x06, 0x04, ZERO, ZERO, ZERO, ZERO);
    S5_EXPECT(1, 1, NAME, S5, PKG, 0x04, 0x02, ONE, ONE);
    S5_EXPECT(5, 7, NAME, S5, PKG, 0x0A, 0x04, BYTE, 0x05, BYTE, 0x07, ZERO, ZERO);
    S5_EXPECT(6, 0, NAME, S5, PKG, 0x08, 0x02, WORD, 0x06, 0x00, ZERO);
    S5_EXPECT(7, 1, NAME, S5, PKG, 0x0A, 0x02, DWORD, 0x07, 0x00, 0x00, 0x00, ONE);
    S5_EXPECT(3, 4, NAME, S5, PKG, 0x08, 0x02, BYTE, 0x03, BYTE, 0x04);
    /* mixed: Zero then BytePrefix */
    S5_EXPECT(0, 5, NAME, S5, PKG, 0x05, 0x02, ZERO, BYTE, 0x05);
    /* root-prefixed name */
    S5_EXPECT(7, 3, NAME, ROOT, S5, PKG, 0x07, 0x02, BYTE, 0x07, BYTE, 0x03);
    /* two-byte PkgLength (lead byte 0x4n) */
    S5_EXPECT(5, 5, NAME, S5, PKG, 0x47, 0x00, 0x04, BYTE, 0x05, BYTE, 0x05, ZERO, ZERO);
    /* four-byte PkgLength (lead byte 0xCn) */
    S5_EXPECT(2, 2, NAME, S5, PKG, 0xC9, 0x00, 0x00, 0x00, 0x02, BYTE, 0x02, BYTE, 0x02);
    /* a one-element package: typb defaults to 0 */
    S5_EXPECT(5, 0, NAME, S5, PKG, 0x04, 0x01, BYTE, 0x05);
    /* somewhere in the middle of a larger DSDT */
    uint8_t a, b;
    assert_true(s5(aml_s5_byte, sizeof(aml_s5_byte), &a, &b));
    assert_int_equal(a, 5);
    assert_int_equal(b, 5);
}

static void test_s5_rejects(void **state)
{
    (void)state;
    uint8_t a, b;
    assert_false(acpi_find_s5(NULL, 0, &a, &b));
    /* not a package (Name (_S5_, 5)) */
    S5_NONE(NAME, S5, BYTE, 0x05, 0x00, 0x00);
    /* no NameOp before the name (a reference inside a method) */
    S5_NONE(0x70, S5, PKG, 0x04, 0x02, ONE, ONE);
    /* at offset 0 there is no room for a NameOp */
    S5_NONE(S5, PKG, 0x04, 0x02, ONE, ONE);
    /* root prefix without NameOp before it */
    S5_NONE(0x70, ROOT, S5, PKG, 0x04, 0x02, ONE, ONE);
    /* first element is not an integer constant (a string) */
    S5_NONE(NAME, S5, PKG, 0x06, 0x02, 0x0D, 'a', 0x00, ONE);
    /* other sleep states only */
    S5_NONE(NAME, '_', 'S', '3', '_', PKG, 0x04, 0x02, ONE, ONE,
            NAME, '_', 'S', '4', '_', PKG, 0x04, 0x02, ONE, ONE);
    /* a false match first, then the real one */
    S5_EXPECT(4, 4, 0x70, S5, PKG, 0x04, 0x02, ONE, ONE,
              NAME, S5, PKG, 0x06, 0x02, BYTE, 0x04, BYTE, 0x04);
}

/* Every prefix of an encoding: never a read past the end (exact-size
 * buffers under ASan); no value is invented from missing bytes. */
static void check_prefixes(const uint8_t *aml, size_t len, size_t need_a, size_t need_b,
                           uint8_t typa, uint8_t typb)
{
    for (size_t n = 0; n <= len; n++) {
        uint8_t a, b;
        bool found = s5(aml, n, &a, &b);
        if (n < need_a) {
            assert_false(found);
            continue;
        }
        assert_true(found);
        assert_int_equal(a, typa);
        assert_int_equal(b, n >= need_b ? typb : 0);
    }
}

static void test_s5_truncated(void **state)
{
    (void)state;
    /* offsets: NameOp 0, name 1..4, PackageOp 5, PkgLength 6, NumElements 7,
     * first value from 8 */
    static const uint8_t byte[] = { NAME, S5, PKG, 0x0A, 0x04, BYTE, 0x05, BYTE, 0x07,
                                    ZERO, ZERO };
    check_prefixes(byte, sizeof(byte), 10, 12, 5, 7);
    static const uint8_t word[] = { NAME, S5, PKG, 0x08, 0x02, WORD, 0x03, 0, WORD, 0x04, 0 };
    check_prefixes(word, sizeof(word), 11, 14, 3, 4);
    /* root prefix shifts everything by one */
    static const uint8_t dword[] = { NAME, ROOT, S5, PKG, 0x0D, 0x02,
                                     DWORD, 0x05, 0, 0, 0, DWORD, 0x06, 0, 0, 0 };
    check_prefixes(dword, sizeof(dword), 14, 19, 5, 6);
    /* PkgLength claims 3 extra bytes that are not there */
    static const uint8_t lead[] = { NAME, S5, PKG, 0xC0 };
    check_prefixes(lead, sizeof(lead), SIZE_MAX, SIZE_MAX, 0, 0);
    static const uint8_t lead2[] = { NAME, S5, PKG, 0xC0, 0x00, 0x00, 0x00, 0x02 };
    check_prefixes(lead2, sizeof(lead2), SIZE_MAX, SIZE_MAX, 0, 0);
}

/* Arbitrary bytes: no crash, no over-read. */
static void test_s5_random_bytes(void **state)
{
    (void)state;
    uint32_t x = 2463534242u;
    static const uint8_t alphabet[] = { NAME, PKG, ZERO, ONE, BYTE, WORD, DWORD, ROOT,
                                        '_', 'S', '5', 0x40, 0xC0, 0xFF };
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t buf[24];
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        size_t len = x % (sizeof(buf) + 1);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            buf[i] = alphabet[x % sizeof(alphabet)];
        }
        if (len >= 6 && (x & 1)) { /* plant a header most of the time */
            size_t at = (x >> 1) % (len - 5);
            const uint8_t hdr[] = { NAME, S5, PKG };
            memcpy(buf + at, hdr, len - at < sizeof(hdr) ? len - at : sizeof(hdr));
        }
        uint8_t a, b;
        (void)s5(buf, len, &a, &b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s5_encodings),
        cmocka_unit_test(test_s5_rejects),
        cmocka_unit_test(test_s5_truncated),
        cmocka_unit_test(test_s5_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

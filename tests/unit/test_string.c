/* Unit tests for the hypervisor's string functions (vmm/lib/string.c),
 * compiled here under pv_* names beside the host's libc: memset and
 * memcpy over sizes and alignments around the 8-byte path (and its byte
 * fallback), with guard bytes on both sides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define memset pv_memset
#define memcpy pv_memcpy
#define memmove pv_memmove
#define memcmp pv_memcmp
#define strlen pv_strlen
#define strcmp pv_strcmp
#define strncmp pv_strncmp
#define strchr pv_strchr
void *pv_memset(void *dst, int c, size_t n);
void *pv_memcpy(void *dst, const void *src, size_t n);
void *pv_memmove(void *dst, const void *src, size_t n);
int pv_memcmp(const void *a, const void *b, size_t n);
size_t pv_strlen(const char *s);
int pv_strcmp(const char *a, const char *b);
int pv_strncmp(const char *a, const char *b, size_t n);
char *pv_strchr(const char *s, int c);
#include "vmm/lib/string.c"
#undef memset
#undef memcpy
#undef memmove
#undef memcmp
#undef strlen
#undef strcmp
#undef strncmp
#undef strchr

#define GUARD 64u
#define MAX_LEN (8192u + 72u)

static uint8_t buf[GUARD + MAX_LEN + GUARD] __attribute__((aligned(64)));
static uint8_t src[GUARD + MAX_LEN + GUARD] __attribute__((aligned(64)));

static const size_t sizes[] = { 0, 1, 7, 8, 9, 56, 63, 64, 65, 72, 120, 128, 4095, 4096, 4104, 8192 };
static const size_t offsets[] = { 0, 1, 8, 16, 64 };

static void check_memset(void)
{
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        for (size_t o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++) {
            size_t n = sizes[i], off = GUARD + offsets[o];
            memset(buf, 0xA5, sizeof(buf));
            assert_ptr_equal(pv_memset(buf + off, 0x3C, n), buf + off);
            for (size_t k = 0; k < sizeof(buf); k++)
                assert_int_equal(buf[k], (k >= off && k < off + n) ? 0x3C : 0xA5);
            pv_memset(buf + off, 0, n);
            for (size_t k = off; k < off + n; k++)
                assert_int_equal(buf[k], 0);
        }
}

static void check_memcpy(void)
{
    for (size_t k = 0; k < sizeof(src); k++)
        src[k] = (uint8_t)(k * 131u + 7u);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        for (size_t o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++)
            for (size_t so = 0; so < sizeof(offsets) / sizeof(offsets[0]); so++) {
                size_t n = sizes[i], off = GUARD + offsets[o], soff = GUARD + offsets[so];
                memset(buf, 0xA5, sizeof(buf));
                assert_ptr_equal(pv_memcpy(buf + off, src + soff, n), buf + off);
                for (size_t k = 0; k < sizeof(buf); k++)
                    assert_int_equal(buf[k], (k >= off && k < off + n) ? src[soff + k - off] : 0xA5);
            }
}

static void test_memset(void **state)
{
    (void)state;
    check_memset();
}

static void test_memcpy(void **state)
{
    (void)state;
    check_memcpy();
}

static void test_memmove_overlap(void **state)
{
    (void)state;
    {
        for (size_t k = 0; k < 256; k++)
            buf[k] = (uint8_t)k;
        pv_memmove(buf + 8, buf, 128); /* forward overlap: copied from the end */
        for (size_t k = 0; k < 128; k++)
            assert_int_equal(buf[8 + k], (uint8_t)k);
        for (size_t k = 0; k < 256; k++)
            buf[k] = (uint8_t)k;
        pv_memmove(buf, buf + 64, 128); /* backward: the plain copy */
        for (size_t k = 0; k < 128; k++)
            assert_int_equal(buf[k], (uint8_t)(k + 64));
    }
}

static void test_compare_and_search(void **state)
{
    (void)state;
    assert_int_equal(pv_memcmp("abc", "abc", 3), 0);
    assert_true(pv_memcmp("abd", "abc", 3) > 0);
    assert_int_equal(pv_strlen("pagevisor"), 9);
    assert_int_equal(pv_strcmp("a", "a"), 0);
    assert_true(pv_strncmp("abcx", "abcy", 3) == 0 && pv_strncmp("abcx", "abcy", 4) < 0);
    const char *kv = "a=b";
    assert_ptr_equal(pv_strchr(kv, '='), kv + 1);
    assert_null(pv_strchr("ab", 'z'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memset),
        cmocka_unit_test(test_memcpy),
        cmocka_unit_test(test_memmove_overlap),
        cmocka_unit_test(test_compare_and_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

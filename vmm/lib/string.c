/*
 * The C string functions the freestanding hypervisor uses (gcc may also emit
 * calls to memset/memcpy/memmove/memcmp on its own). Host builds use libc;
 * tests/unit/test_string.c compiles this file under other names.
 *
 * memset/memcpy use the string instructions (the hypervisor may not touch
 * SSE: -mgeneral-regs-only), eight bytes a step whenever the buffer and
 * the length are 8-byte aligned (every frame clear and page copy): as fast
 * as the byte form on hardware with ERMSB, and under an emulator that
 * carries out a string instruction one element at a time (QEMU TCG, the
 * e2e and benchmark platform) a 4 KiB clear is 512 steps instead of 4096.
 * TCG also takes a slow path for each store into a page it holds
 * translated code for, until the code is overwritten: 8x fewer stores
 * there too (docs/performance.md, "Frame clears and copies").
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WORD_MASK 7u /* 8-byte aligned address or length */

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    if ((((uintptr_t)dst | n) & WORD_MASK) == 0) {
        size_t words = n / 8;
        uint64_t v = 0x0101010101010101ull * (uint8_t)c;
        __asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(v) : "memory");
        return dst;
    }
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    if ((((uintptr_t)dst | (uintptr_t)src | n) & WORD_MASK) == 0) {
        size_t words = n / 8;
        __asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(words)::"memory");
        return dst;
    }
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n)::"memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] - y[i];
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b || !*a)
            return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

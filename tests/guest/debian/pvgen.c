/* pvgen: a deterministic byte stream, for the Debian disk test's files.
 *
 *   pvgen SEED BYTES
 *
 * Writes BYTES bytes to stdout: the little-endian 64-bit words of an
 * xorshift64* sequence started from SEED (any non-zero decimal number).
 * The same source is built twice by scripts/mkdebian.sh: statically into the
 * guest image (the guest writes its files from it) and for the host (the
 * test computes the expected checksums without trusting the guest). Exit
 * status 0 once every byte was written, 1 on a write error, 2 on bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_WORDS 8192u /* 64 KiB per write(2) */

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static uint64_t next(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * UINT64_C(0x2545F4914F6CDD1D);
}

static int write_all(const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t seed, left;
    if (argc != 3 || parse_u64(argv[1], &seed) || parse_u64(argv[2], &left) || !seed) {
        fprintf(stderr, "usage: pvgen SEED BYTES (SEED a non-zero decimal number)\n");
        return 2;
    }
    static unsigned char buf[CHUNK_WORDS * 8];
    uint64_t x = seed;
    while (left) {
        for (size_t i = 0; i < CHUNK_WORDS; i++) {
            uint64_t w = next(&x);
            for (unsigned b = 0; b < 8; b++)
                buf[i * 8 + b] = (unsigned char)(w >> (8 * b));
        }
        size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
        if (write_all(buf, n)) {
            fprintf(stderr, "pvgen: write: %s\n", strerror(errno));
            return 1;
        }
        left -= n;
    }
    return 0;
}

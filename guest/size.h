/*
 * Byte sizes as written in pagevisor.conf: "512M", "1GiB", "4096".
 *
 * Grammar: one or more decimal digits, then optionally a binary suffix
 * K, M, G or T (1024-based), in either case, optionally followed by "iB".
 * No sign, spaces, hex, fraction or other suffix; the value must fit in
 * uint64_t after scaling.
 *
 * format_size() renders the inverse: the largest suffix that divides the
 * value exactly ("512M", "1536M", "1T"), else plain bytes ("4097"), so
 * parse_size(format_size(x)) == x for every x.
 */
#ifndef PV_GUEST_SIZE_H
#define PV_GUEST_SIZE_H

#include <stddef.h>
#include <stdint.h>

#define SIZE_K (1ull << 10)
#define SIZE_M (1ull << 20)
#define SIZE_G (1ull << 30)
#define SIZE_T (1ull << 40)

/* Enough for any format_size() output: "18446744073709551615" and a NUL. */
#define SIZE_STR_MAX 24

/*
 * Parses s[0..len) (not necessarily NUL-terminated; the whole slice must be
 * the size). Returns 0 and sets *out, or -PV_EINVAL and leaves *out alone.
 */
int parse_size(const char *s, size_t len, uint64_t *out);

/*
 * Writes the canonical text for v into buf (NUL-terminated when len > 0).
 * Returns the length the full text has, like snprintf: truncated if >= len.
 */
int format_size(uint64_t v, char *buf, size_t len);

#endif

/*
 * Differential check of pv_snprintf against the host's snprintf on random
 * format/value combinations inside the subset fmt.h documents. Shared by
 * test_fmt.c and test_fmt_c99.c (the latter adds the flag combinations
 * where the C standard is specific and pv_snprintf used to differ).
 *
 * Only combinations whose meaning C defines are generated: no '#' on
 * d/i/u/c/s, no '0' or precision on c/s-with-'0'/p, no length modifier on
 * c/s/p, and no NULL %s/%p (their text is implementation-defined).
 */
#ifndef PV_TESTS_FMT_COMPARE_H
#define PV_TESTS_FMT_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vmm/lib/fmt.h"

struct fmt_rng {
    uint64_t s;
};

static uint64_t fmt_rand(struct fmt_rng *r)
{
    /* splitmix64 */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned fmt_pick(struct fmt_rng *r, unsigned n) { return (unsigned)(fmt_rand(r) % n); }

/* Values biased towards the edges of every width. */
static uint64_t fmt_value(struct fmt_rng *r)
{
    static const uint64_t edges[] = {
        0, 1, 7, 8, 9, 10, 15, 16, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF,
        0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000ull, INT64_MAX,
        (uint64_t)INT64_MIN, UINT64_MAX, (uint64_t)-1 - 1, 1000000007,
    };
    switch (fmt_pick(r, 4)) {
    case 0: return edges[fmt_pick(r, sizeof(edges) / sizeof(edges[0]))];
    case 1: return fmt_rand(r) & ((1ull << fmt_pick(r, 64)) - 1);
    case 2: return (uint64_t)-(int64_t)(fmt_rand(r) & 0xFFFF);
    default: return fmt_rand(r);
    }
}

enum fmt_arg { A_INT, A_UINT, A_LONG, A_ULONG, A_LLONG, A_ULLONG, A_SIZE, A_STR, A_PTR };

struct fmt_case {
    char fmt[48];
    int nstar;
    int star[2];
    enum fmt_arg kind;
    uint64_t v;
    const char *str;
};

/* Non-NUL-terminated fragments are never generated here (precision on a
 * short string is covered by the direct tests); these are C strings. */
static const char *const fmt_strings[] = {
    "", "a", "hello", "pagevisor", "with space", "%d not a spec", "0123456789abcdef",
};

static void fmt_gen(struct fmt_rng *r, struct fmt_case *c, bool c99_extras)
{
    static const char convs[] = "diuxXocsp";
    char conv = convs[fmt_pick(r, sizeof(convs) - 1)];
    bool integer = strchr("diuxXo", conv) != NULL;
    bool is_signed = conv == 'd' || conv == 'i';
    bool has_prec = false;
    char *p = c->fmt;
    c->nstar = 0;

    /* precision first: whether '#' is allowed on o depends on it */
    char prec[8] = "";
    if (conv != 'c' && conv != 'p' && fmt_pick(r, 2)) {
        has_prec = true;
        switch (fmt_pick(r, 3)) {
        case 0: snprintf(prec, sizeof(prec), "."); break;
        case 1: snprintf(prec, sizeof(prec), ".%u", fmt_pick(r, 26)); break;
        default: snprintf(prec, sizeof(prec), ".*"); break;
        }
    }

    *p++ = '%';
    const char *allowed;
    if (is_signed)
        allowed = "-0 +";
    else if (conv == 'u')
        allowed = c99_extras ? "-0 +" : "-0";
    else if (conv == 'x' || conv == 'X')
        allowed = c99_extras ? "-0# +" : "-0#";
    else if (conv == 'o')
        allowed = c99_extras ? "-0# +" : (has_prec ? "-0" : "-0#");
    else
        allowed = "-";
    size_t na = strlen(allowed);
    for (unsigned n = fmt_pick(r, 4); n; n--)
        *p++ = allowed[fmt_pick(r, (unsigned)na)];

    switch (fmt_pick(r, 3)) {
    case 0: break;
    case 1: p += sprintf(p, "%u", 1 + fmt_pick(r, 25)); break;
    default:
        *p++ = '*';
        c->star[c->nstar++] = (int)fmt_pick(r, 51) - 25;
        break;
    }
    p += sprintf(p, "%s", prec);
    if (strcmp(prec, ".*") == 0)
        c->star[c->nstar++] = (int)fmt_pick(r, 29) - 3;

    c->v = fmt_value(r);
    if (integer) {
        static const char *const mods[] = { "", "hh", "h", "l", "ll", "z", "j", "t" };
        unsigned m = fmt_pick(r, 8);
        p += sprintf(p, "%s", mods[m]);
        switch (m) {
        case 0: case 1: case 2: c->kind = is_signed ? A_INT : A_UINT; break;
        case 3: c->kind = is_signed ? A_LONG : A_ULONG; break;
        case 4: case 6: c->kind = is_signed ? A_LLONG : A_ULLONG; break;
        default: c->kind = is_signed ? A_LONG : A_SIZE; break; /* ssize_t, ptrdiff_t */
        }
    } else if (conv == 'c') {
        c->kind = A_INT;
        c->v = 1 + fmt_pick(r, 126); /* NUL is a known difference, see test_fmt_c99 */
    } else if (conv == 's') {
        c->kind = A_STR;
        c->str = fmt_strings[fmt_pick(r, sizeof(fmt_strings) / sizeof(fmt_strings[0]))];
    } else {
        c->kind = A_PTR;
        c->v |= 1; /* never NULL */
    }
    *p++ = conv;
    /* sometimes surround it with literal text */
    if (fmt_pick(r, 2))
        p += sprintf(p, "|%s", fmt_pick(r, 2) ? "x%%y" : "");
    *p = '\0';
}

#define FMT_CALL(fn, buf, size, c, arg)                                               \
    ((c)->nstar == 0   ? fn(buf, size, (c)->fmt, arg)                                 \
     : (c)->nstar == 1 ? fn(buf, size, (c)->fmt, (c)->star[0], arg)                   \
                       : fn(buf, size, (c)->fmt, (c)->star[0], (c)->star[1], arg))

#define FMT_DISPATCH(fn, buf, size, c)                                                \
    ((c)->kind == A_INT      ? FMT_CALL(fn, buf, size, c, (int)(c)->v)                \
     : (c)->kind == A_UINT   ? FMT_CALL(fn, buf, size, c, (unsigned)(c)->v)           \
     : (c)->kind == A_LONG   ? FMT_CALL(fn, buf, size, c, (long)(c)->v)               \
     : (c)->kind == A_ULONG  ? FMT_CALL(fn, buf, size, c, (unsigned long)(c)->v)      \
     : (c)->kind == A_LLONG  ? FMT_CALL(fn, buf, size, c, (long long)(c)->v)          \
     : (c)->kind == A_ULLONG ? FMT_CALL(fn, buf, size, c, (unsigned long long)(c)->v) \
     : (c)->kind == A_SIZE   ? FMT_CALL(fn, buf, size, c, (size_t)(c)->v)             \
     : (c)->kind == A_STR    ? FMT_CALL(fn, buf, size, c, (c)->str)                   \
                             : FMT_CALL(fn, buf, size, c, (void *)(uintptr_t)(c)->v))

/* Run one case through both, at full size and at a random cut; returns
 * false (and describes the case in why) on any difference. */
static bool fmt_compare_one(struct fmt_rng *r, const struct fmt_case *c, char *why, size_t wlen)
{
    char a[256], b[256];
    memset(a, 0x7E, sizeof(a));
    memset(b, 0x7E, sizeof(b));
    int ra = FMT_DISPATCH(pv_snprintf, a, sizeof(a), c);
    int rb = FMT_DISPATCH(snprintf, b, sizeof(b), c);
    if (ra != rb || strcmp(a, b) != 0) {
        snprintf(why, wlen, "fmt \"%s\" stars %d,%d value 0x%llx: pv \"%.100s\" (%d) libc \"%.100s\" (%d)",
                 c->fmt, c->star[0], c->star[1], (unsigned long long)c->v, a, ra, b, rb);
        return false;
    }
    size_t cut = fmt_pick(r, (unsigned)rb + 2);
    memset(a, 0x7E, sizeof(a));
    memset(b, 0x7E, sizeof(b));
    ra = FMT_DISPATCH(pv_snprintf, a, cut, c);
    rb = FMT_DISPATCH(snprintf, b, cut, c);
    if (ra != rb || memcmp(a, b, sizeof(a)) != 0) {
        snprintf(why, wlen, "fmt \"%s\" value 0x%llx cut at %zu: returns %d vs %d or bytes differ",
                 c->fmt, (unsigned long long)c->v, cut, ra, rb);
        return false;
    }
    return true;
}

#endif

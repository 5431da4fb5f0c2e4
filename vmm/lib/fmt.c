/* Freestanding printf subset; see fmt.h for the contract. */
#include "vmm/lib/fmt.h"
#include "vmm/lib/types.h"

#include <stdbool.h>
#include <stdint.h>

struct out {
    char *buf;
    size_t size;
    size_t len; /* characters produced so far, including those cut off */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

enum {
    F_LEFT = 1u << 0,
    F_ZERO = 1u << 1,
    F_ALT = 1u << 2,
    F_SPACE = 1u << 3,
    F_PLUS = 1u << 4,
    F_UPPER = 1u << 5,
    F_SIGNED = 1u << 6, /* '+' and ' ' only apply to signed conversions */
};

struct spec {
    unsigned flags;
    int width;
    int prec; /* -1: none */
};

/* Emit one integer: sign/prefix, precision zeros, width padding. */
static void put_uint(struct out *o, uint64_t v, bool neg, unsigned base,
                     const struct spec *s)
{
    const char *digits = (s->flags & F_UPPER) ? "0123456789ABCDEF"
                                              : "0123456789abcdef";
    char tmp[24];
    int n = 0;

    if (v == 0 && s->prec != 0)
        tmp[n++] = '0';
    while (v) {
        tmp[n++] = digits[v % base];
        v /= base;
    }

    const char *prefix = "";
    if (neg)
        prefix = "-";
    else if ((s->flags & F_SIGNED) && (s->flags & F_PLUS))
        prefix = "+";
    else if ((s->flags & F_SIGNED) && (s->flags & F_SPACE))
        prefix = " ";
    if ((s->flags & F_ALT) && base == 16 && n > 0 && !(n == 1 && tmp[0] == '0'))
        prefix = (s->flags & F_UPPER) ? "0X" : "0x";
    /* '#' with o: raise the precision just enough to lead with a 0 */
    if ((s->flags & F_ALT) && base == 8 && (n == 0 || tmp[n - 1] != '0') && s->prec <= n)
        prefix = "0";

    int plen = 0;
    while (prefix[plen])
        plen++;
    int zeros = s->prec > n ? s->prec - n : 0;
    int body = plen + zeros + n;
    int fill = s->width > body ? s->width - body : 0;

    if (s->prec < 0 && (s->flags & F_ZERO) && !(s->flags & F_LEFT)) {
        zeros += fill;
        fill = 0;
    }
    if (!(s->flags & F_LEFT))
        pad(o, ' ', fill);
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    pad(o, '0', zeros);
    while (n)
        put(o, tmp[--n]);
    if (s->flags & F_LEFT)
        pad(o, ' ', fill);
}

static void put_str(struct out *o, const char *str, const struct spec *s)
{
    if (!str)
        str = "(null)";
    int n = 0;
    while ((s->prec < 0 || n < s->prec) && str[n])
        n++;
    int fill = s->width > n ? s->width - n : 0;
    if (!(s->flags & F_LEFT))
        pad(o, ' ', fill);
    for (int i = 0; i < n; i++)
        put(o, str[i]);
    if (s->flags & F_LEFT)
        pad(o, ' ', fill);
}

enum len_mod { L_INT, L_CHAR, L_SHORT, L_LONG, L_LLONG, L_SIZE };

static uint64_t arg_unsigned(va_list *ap, enum len_mod m)
{
    switch (m) {
    case L_CHAR: return (unsigned char)va_arg(*ap, unsigned int);
    case L_SHORT: return (unsigned short)va_arg(*ap, unsigned int);
    case L_LONG: return va_arg(*ap, unsigned long);
    case L_LLONG: return va_arg(*ap, unsigned long long);
    case L_SIZE: return va_arg(*ap, size_t);
    default: return va_arg(*ap, unsigned int);
    }
}

static int64_t arg_signed(va_list *ap, enum len_mod m)
{
    switch (m) {
    case L_CHAR: return (signed char)va_arg(*ap, int);
    case L_SHORT: return (short)va_arg(*ap, int);
    case L_LONG: return va_arg(*ap, long);
    case L_LLONG: return va_arg(*ap, long long);
    case L_SIZE: return (int64_t)va_arg(*ap, size_t);
    default: return va_arg(*ap, int);
    }
}

int pv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
    struct out o = { buf, size, 0 };
    va_list ap;
    va_copy(ap, ap_in);

    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        struct spec s = { 0, 0, -1 };
        for (;; p++) {
            char c = p[1];
            if (c == '-') s.flags |= F_LEFT;
            else if (c == '0') s.flags |= F_ZERO;
            else if (c == '#') s.flags |= F_ALT;
            else if (c == ' ') s.flags |= F_SPACE;
            else if (c == '+') s.flags |= F_PLUS;
            else break;
        }
        p++;
        if (*p == '*') {
            s.width = va_arg(ap, int);
            if (s.width < 0) {
                s.flags |= F_LEFT;
                s.width = -s.width;
            }
            p++;
        } else {
            while (*p >= '0' && *p <= '9')
                s.width = s.width * 10 + (*p++ - '0');
        }
        if (*p == '.') {
            p++;
            s.prec = 0;
            if (*p == '*') {
                s.prec = va_arg(ap, int);
                p++;
            } else {
                while (*p >= '0' && *p <= '9')
                    s.prec = s.prec * 10 + (*p++ - '0');
            }
        }
        enum len_mod m = L_INT;
        if (*p == 'h') {
            m = L_SHORT;
            if (*++p == 'h') { m = L_CHAR; p++; }
        } else if (*p == 'l') {
            m = L_LONG;
            if (*++p == 'l') { m = L_LLONG; p++; }
        } else if (*p == 'z' || *p == 'j' || *p == 't') {
            m = (*p == 'j') ? L_LLONG : L_SIZE;
            p++;
        }

        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = arg_signed(&ap, m);
            s.flags |= F_SIGNED;
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_uint(&o, mag, v < 0, 10, &s);
            break;
        }
        case 'u': put_uint(&o, arg_unsigned(&ap, m), false, 10, &s); break;
        case 'o': put_uint(&o, arg_unsigned(&ap, m), false, 8, &s); break;
        case 'X': s.flags |= F_UPPER; /* fall through */
        case 'x': put_uint(&o, arg_unsigned(&ap, m), false, 16, &s); break;
        case 'p':
            s.flags |= F_ALT;
            put_uint(&o, (uintptr_t)va_arg(ap, void *), false, 16, &s);
            break;
        case 'c': { /* written even when it is '\0' */
            char c = (char)va_arg(ap, int);
            int fill = s.width > 1 ? s.width - 1 : 0;
            if (!(s.flags & F_LEFT))
                pad(&o, ' ', fill);
            put(&o, c);
            if (s.flags & F_LEFT)
                pad(&o, ' ', fill);
            break;
        }
        case 's': put_str(&o, va_arg(ap, const char *), &s); break;
        case '%': put(&o, '%'); break;
        case '\0': p--; break; /* lone '%' at the end: print nothing */
        default:
            put(&o, '%');
            put(&o, *p);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    va_end(ap);
    return (int)o.len;
}

int pv_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = pv_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int pv_fail(char *err, size_t len, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        pv_vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return -PV_EINVAL;
}

void pv_emitf(pv_emit_fn emit, void *ctx, const char *fmt, ...)
{
    char line[PV_EMIT_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    pv_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    emit(ctx, line);
}

/* A PCI pin's GSI from _PRT, and its IOAPIC from the MADT (see intx_prt.h). */
#include "vmm/intx_prt.h"

#include <string.h>

#define PKGLEN_EXTRA_SHIFT 6
#define PKGLEN_ONE_BYTE_MASK 0x3Fu
#define PKGLEN_LEAD_MASK 0x0Fu
#define RES_LARGE 0x80u
#define RES_LARGE_TYPE_MASK 0x7Fu
#define RES_EXT_IRQ_TYPE 0x09u
#define RES_SMALL_TYPE_SHIFT 3
#define RES_SMALL_TYPE_MASK 0xFu
#define RES_SMALL_LEN_MASK 0x7u
#define RES_SMALL_IRQ 0x4u
#define RES_SMALL_END 0xFu
#define RES_EXT_IRQ_COUNT 4u      /* offsets from the tag byte */
#define RES_EXT_IRQ_LIST 5u

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* PkgLength at p: the length (counted from p) and the bytes it takes; 0 if cut off. */
static size_t pkglen(const uint8_t *p, size_t left, size_t *len)
{
    if (left < 1)
        return 0;
    size_t extra = p[0] >> PKGLEN_EXTRA_SHIFT;
    if (left < 1 + extra)
        return 0;
    if (!extra) {
        *len = p[0] & PKGLEN_ONE_BYTE_MASK;
        return 1;
    }
    size_t v = p[0] & PKGLEN_LEAD_MASK;
    for (size_t i = 0; i < extra; i++)
        v |= (size_t)p[1 + i] << (4 + 8 * i);
    *len = v;
    return 1 + extra;
}

/* An integer constant at p: bytes taken, 0 if p holds none. */
static size_t aml_int(const uint8_t *p, size_t left, uint64_t *v)
{
    static const struct { uint8_t op, bytes; } ints[] = {
        { AMLX_BYTE, 1 }, { AMLX_WORD, 2 }, { AMLX_DWORD, 4 }, { AMLX_QWORD, 8 },
    };
    if (left < 1)
        return 0;
    if (p[0] == AMLX_ZERO || p[0] == AMLX_ONE) {
        *v = p[0];
        return 1;
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (p[0] != ints[i].op)
            continue;
        if (left < 1u + ints[i].bytes)
            return 0;
        *v = 0;
        for (unsigned b = 0; b < ints[i].bytes; b++)
            *v |= (uint64_t)p[1 + b] << (8 * b);
        return 1u + ints[i].bytes;
    }
    return 0;
}

static bool seg_char(uint8_t c, bool first)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
}

static bool is_seg(const uint8_t *p)
{
    return seg_char(p[0], true) && seg_char(p[1], false) && seg_char(p[2], false) &&
           seg_char(p[3], false);
}

/* A NameString at p: bytes taken and its last NameSeg in seg; 0 if none (or NullName). */
static size_t aml_name(const uint8_t *p, size_t left, uint8_t seg[AML_NAMESEG])
{
    size_t i = 0;
    if (i < left && p[i] == AMLX_ROOT)
        i++;
    else
        while (i < left && p[i] == AMLX_PARENT)
            i++;
    size_t segs = 1;
    if (i < left && p[i] == AMLX_DUAL_NAME) {
        segs = 2;
        i++;
    } else if (i + 1 < left && p[i] == AMLX_MULTI_NAME) {
        segs = p[i + 1];
        i += 2;
    }
    if (!segs || left - i < segs * AML_NAMESEG)
        return 0;
    for (size_t s = 0; s < segs; s++)
        if (!is_seg(p + i + s * AML_NAMESEG))
            return 0;
    memcpy(seg, p + i + (segs - 1) * AML_NAMESEG, AML_NAMESEG);
    return i + segs * AML_NAMESEG;
}

/* The one interrupt a resource template names; false for none or several. */
static bool template_irq(const uint8_t *r, size_t len, uint32_t *irq)
{
    unsigned found = 0;
    size_t i = 0;
    while (i < len) {
        uint8_t tag = r[i];
        size_t item;
        if (tag & RES_LARGE) {
            if (len - i < 3)
                return false;
            item = 3 + rd16(r + i + 1);
            if (item > len - i)
                return false;
            if ((tag & RES_LARGE_TYPE_MASK) == RES_EXT_IRQ_TYPE && item > RES_EXT_IRQ_LIST) {
                unsigned n = r[i + RES_EXT_IRQ_COUNT];
                if (RES_EXT_IRQ_LIST + 4u * n > item)
                    return false;
                if (n)
                    *irq = rd32(r + i + RES_EXT_IRQ_LIST);
                found += n;
            }
        } else {
            unsigned type = (tag >> RES_SMALL_TYPE_SHIFT) & RES_SMALL_TYPE_MASK;
            item = 1 + (tag & RES_SMALL_LEN_MASK);
            if (item > len - i)
                return false;
            if (type == RES_SMALL_END)
                break;
            if (type == RES_SMALL_IRQ && item >= 3) {
                uint32_t mask = rd16(r + i + 1);
                for (uint32_t b = 0; b < 16; b++)
                    if (mask & (1u << b)) {
                        *irq = b;
                        found++;
                    }
            }
        }
        i += item;
    }
    return found == 1;
}

/* Device (seg) { ... Name (_CRS, Buffer/ResourceTemplate) ... }: its one interrupt. */
static bool link_gsi(const uint8_t *aml, size_t len, const uint8_t seg[AML_NAMESEG],
                     uint32_t *gsi)
{
    for (size_t j = 0; j + 2 < len; j++) {
        if (aml[j] != AMLX_EXT || aml[j + 1] != AMLX_DEVICE)
            continue;
        size_t dlen, nb = pkglen(aml + j + 2, len - j - 2, &dlen);
        if (!nb || dlen > len - j - 2)
            continue;
        size_t end = j + 2 + dlen, k = j + 2 + nb;
        uint8_t name[AML_NAMESEG];
        size_t nn = aml_name(aml + k, end - k, name);
        if (!nn || memcmp(name, seg, AML_NAMESEG))
            continue;
        for (k += nn; k + 6 < end; k++) {
            if (aml[k] != AMLX_NAME || memcmp(aml + k + 1, "_CRS", 4) ||
                aml[k + 5] != AMLX_BUFFER)
                continue;
            size_t blen, bb = pkglen(aml + k + 6, end - k - 6, &blen);
            if (!bb || blen > end - k - 6)
                return false;
            size_t b = k + 6 + bb, bend = k + 6 + blen;
            uint64_t size;
            size_t sb = aml_int(aml + b, bend - b, &size);
            if (!sb)
                return false;
            b += sb;
            return template_irq(aml + b, size < bend - b ? size : bend - b, gsi);
        }
        return false; /* _CRS is computed (a Method) or absent */
    }
    return false;
}

/* One _PRT entry package at aml[i] (PackageOp) for (addr, pin): its GSI. */
static bool prt_entry(const uint8_t *aml, size_t len, size_t i, uint64_t addr, uint8_t pin,
                      uint32_t *gsi)
{
    size_t plen, nb = pkglen(aml + i + 1, len - i - 1, &plen);
    if (!nb || plen > len - i - 1)
        return false;
    size_t p = i + 1 + nb, end = i + 1 + plen;
    if (p >= end || aml[p++] != 4)
        return false;
    uint64_t a, pn, index;
    size_t n = aml_int(aml + p, end - p, &a);
    if (!n || a != addr)
        return false;
    p += n;
    n = aml_int(aml + p, end - p, &pn);
    if (!n || pn != pin)
        return false;
    p += n;
    if (p < end && aml[p] == AMLX_ZERO) {
        /* {addr, pin, Zero, gsi}: hard-wired */
        n = aml_int(aml + p + 1, end - p - 1, &index);
        if (!n || index > UINT32_MAX)
            return false;
        *gsi = (uint32_t)index;
        return true;
    }
    uint8_t seg[AML_NAMESEG];
    n = aml_name(aml + p, end - p, seg);
    if (!n || !aml_int(aml + p + n, end - p - n, &index) || index != 0)
        return false;
    return link_gsi(aml, len, seg, gsi);
}

bool intx_prt_gsi(const uint8_t *aml, size_t len, uint8_t slot, uint8_t pin, uint32_t *gsi)
{
    uint64_t addr = (uint64_t)slot << 16 | PRT_ADDR_ANY_FN;
    for (size_t i = 0; i + 1 < len; i++)
        if (aml[i] == AMLX_PACKAGE && prt_entry(aml, len, i, addr, pin, gsi))
            return true;
    return false;
}

bool intx_madt_ioapic(const uint8_t *madt, size_t len, uint32_t gsi, uint64_t *base,
                      uint32_t *gsi_base)
{
    bool found = false;
    for (size_t off = MADTX_HDR_LEN; off + 2 <= len; off += madt[off + 1]) {
        uint8_t elen = madt[off + 1];
        if (elen < 2 || elen > len - off)
            break;
        if (madt[off] != MADTX_IOAPIC || elen < MADTX_IOAPIC_LEN)
            continue;
        uint32_t gb = rd32(madt + off + MADTX_IOAPIC_GSI_BASE);
        if (gb <= gsi && (!found || gb > *gsi_base)) {
            *gsi_base = gb;
            *base = rd32(madt + off + MADTX_IOAPIC_ADDR);
            found = true;
        }
    }
    return found;
}

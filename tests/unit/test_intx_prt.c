/*
 * A PCI pin's GSI from _PRT AML and its IOAPIC from the MADT
 * (vmm/intx_prt.c), on AML laid out the way QEMU q35's DSDT is: a PIC-mode
 * table (PRTP) naming PIRQ links whose _CRS is a Method, an APIC-mode table
 * (PRTA) naming GSI links with a fixed _CRS; plus hard-wired entries,
 * small IRQ descriptors, multi-interrupt links and cut-off AML.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/intx_prt.h"

struct buf {
    uint8_t b[4096];
    size_t n;
};

static void put(struct buf *o, const void *p, size_t n)
{
    assert_true(o->n + n <= sizeof(o->b));
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put1(struct buf *o, uint8_t v) { put(o, &v, 1); }

/* op bytes, PkgLength (1 byte when it fits, else 2), then body. */
static void wrap(struct buf *o, const uint8_t *op, size_t oplen, const struct buf *body)
{
    put(o, op, oplen);
    size_t len = body->n + 1;
    if (len <= 0x3F) {
        put1(o, (uint8_t)len);
    } else {
        len = body->n + 2;
        put1(o, (uint8_t)(0x40 | (len & 0xF)));
        put1(o, (uint8_t)(len >> 4));
    }
    put(o, body->b, body->n);
}

static void dword(struct buf *o, uint32_t v)
{
    put1(o, AMLX_DWORD);
    put(o, &v, 4);
}

/* Package (4) { slot << 16 | 0xFFFF, pin, source (name or Zero), index } */
static void prt_entry(struct buf *o, uint8_t slot, uint8_t pin, const char *link, uint32_t index)
{
    struct buf e = { .n = 0 };
    put1(&e, 4);
    dword(&e, (uint32_t)slot << 16 | PRT_ADDR_ANY_FN);
    if (pin <= 1) {
        put1(&e, pin);
    } else {
        put1(&e, AMLX_BYTE);
        put1(&e, pin);
    }
    if (link) {
        put(&e, link, strlen(link));
        put1(&e, AMLX_ZERO);
    } else {
        put1(&e, AMLX_ZERO);
        put1(&e, AMLX_BYTE);
        put1(&e, (uint8_t)index);
    }
    static const uint8_t pkg = AMLX_PACKAGE;
    wrap(o, &pkg, 1, &e);
}

/* Name (NAME, Package (n) { entries }) */
static void prt_table(struct buf *o, const char *name, const struct buf *entries, uint8_t n)
{
    struct buf body = { .n = 0 };
    put1(&body, n);
    put(&body, entries->b, entries->n);
    put1(o, AMLX_NAME);
    put(o, name, 4);
    static const uint8_t pkg = AMLX_PACKAGE;
    wrap(o, &pkg, 1, &body);
}

/* Extended Interrupt (consumer, level, active high, shared) { irqs } */
static void ext_irq(struct buf *o, const uint32_t *irqs, uint8_t n)
{
    uint16_t len = (uint16_t)(2 + 4 * n);
    put1(o, RES_EXT_IRQ);
    put(o, &len, 2);
    put1(o, 0x09);
    put1(o, n);
    put(o, irqs, 4u * n);
}

/* Name (nm, ResourceTemplate () { res, EndTag }) */
static void name_template(struct buf *o, const char *nm, const struct buf *res)
{
    struct buf body = { .n = 0 }, t = *res;
    put1(&t, RES_END);
    put1(&t, 0);
    put1(&body, AMLX_BYTE);
    put1(&body, (uint8_t)t.n);
    put(&body, t.b, t.n);
    put1(o, AMLX_NAME);
    put(o, nm, 4);
    static const uint8_t bop = AMLX_BUFFER;
    wrap(o, &bop, 1, &body);
}

/* Device (name) { _HID, [_PRS], _CRS as a fixed template or a Method } */
static void link_dev(struct buf *o, const char *name, const struct buf *res, bool crs_method)
{
    struct buf body = { .n = 0 };
    put(&body, name, 4);
    static const uint8_t hid[] = { AMLX_NAME, '_', 'H', 'I', 'D', AMLX_DWORD, 0x41, 0xD0, 0x0C, 0x0F };
    put(&body, hid, sizeof(hid));
    name_template(&body, "_PRS", res);
    if (crs_method) {
        /* Method (_CRS) { Return (IQCR (PRQE)) } */
        static const uint8_t m[] = { 0x14, 0x0F, '_', 'C', 'R', 'S', 0x00, 0xA4, 'I', 'Q', 'C',
                                     'R', 'P', 'R', 'Q', 'E' };
        put(&body, m, sizeof(m));
    } else {
        name_template(&body, "_CRS", res);
    }
    static const uint8_t dev[] = { AMLX_EXT, AMLX_DEVICE };
    wrap(o, dev, 2, &body);
}

/* The q35-like DSDT body: slots 0x10 and 0x11, plus test-only entries. */
static void q35_aml(struct buf *o)
{
    memset(o, 0, sizeof(*o));
    static const uint8_t hdr[] = { 0x10, 0x05, '_', 'S', 'B', '_', 0x5B }; /* noise */
    put(o, hdr, sizeof(hdr));
    struct buf p = { .n = 0 }, a = { .n = 0 };
    prt_entry(&p, 0x10, 0, "LNKE", 0);
    prt_entry(&p, 0x10, 1, "LNKF", 0);
    prt_table(o, "PRTP", &p, 2);
    prt_entry(&a, 0x10, 0, "GSIE", 0);
    prt_entry(&a, 0x10, 1, "GSIF", 0);
    prt_entry(&a, 0x11, 0, "\\._SB_GSIF", 0);  /* \ DualNamePath (0x2E) _SB_ GSIF */
    prt_entry(&a, 0x12, 0, NULL, 0x12);       /* hard-wired GSI 18 */
    prt_entry(&a, 0x13, 0, "LNKS", 0);        /* small IRQ descriptor, IRQ 9 */
    prt_entry(&a, 0x14, 0, "LNKM", 0);        /* several interrupts: not fixed */
    prt_table(o, "PRTA", &a, 6);
    uint32_t five_ten_eleven[] = { 5, 10, 11 }, gsie = 0x14, gsif = 0x15;
    struct buf r = { .n = 0 };
    ext_irq(&r, five_ten_eleven, 3);
    link_dev(o, "LNKE", &r, true);
    link_dev(o, "LNKF", &r, true);
    link_dev(o, "LNKM", &r, false);
    r.n = 0;
    ext_irq(&r, &gsie, 1);
    link_dev(o, "GSIE", &r, false);
    r.n = 0;
    ext_irq(&r, &gsif, 1);
    link_dev(o, "GSIF", &r, false);
    r.n = 0;
    static const uint8_t irq9[] = { RES_IRQ_SMALL_FLAGS, 0x00, 0x02, 0x18 }; /* IRQ (9) */
    put(&r, irq9, sizeof(irq9));
    link_dev(o, "LNKS", &r, false);
}

static void q35_routes(void **state)
{
    (void)state;
    static struct buf o;
    q35_aml(&o);
    uint32_t gsi = 0;
    assert_true(intx_prt_gsi(o.b, o.n, 0x10, 0, &gsi));
    assert_int_equal(gsi, 20); /* PRTP's LNKE has a computed _CRS: PRTA's GSIE wins */
    assert_true(intx_prt_gsi(o.b, o.n, 0x10, 1, &gsi));
    assert_int_equal(gsi, 21);
    assert_true(intx_prt_gsi(o.b, o.n, 0x11, 0, &gsi));
    assert_int_equal(gsi, 21);
    assert_true(intx_prt_gsi(o.b, o.n, 0x12, 0, &gsi));
    assert_int_equal(gsi, 18);
    assert_true(intx_prt_gsi(o.b, o.n, 0x13, 0, &gsi));
    assert_int_equal(gsi, 9);
    assert_false(intx_prt_gsi(o.b, o.n, 0x14, 0, &gsi)); /* {5, 10, 11} */
    assert_false(intx_prt_gsi(o.b, o.n, 0x15, 0, &gsi)); /* no entry */
    assert_false(intx_prt_gsi(o.b, o.n, 0x10, 2, &gsi)); /* no INTC entry */
}

/* A PIIX-like table: only links the guest routes itself. */
static void computed_links_only(void **state)
{
    (void)state;
    static struct buf o, p;
    memset(&o, 0, sizeof(o));
    memset(&p, 0, sizeof(p));
    prt_entry(&p, 0x03, 0, "LNKC", 0);
    prt_table(&o, "_PRT", &p, 1);
    uint32_t irqs[] = { 5, 10, 11 };
    struct buf r = { .n = 0 };
    ext_irq(&r, irqs, 3);
    link_dev(&o, "LNKC", &r, true);
    uint32_t gsi;
    assert_false(intx_prt_gsi(o.b, o.n, 0x03, 0, &gsi));
}

/* Every truncation of the AML is refused or resolved, never read past. */
static void truncated_aml(void **state)
{
    (void)state;
    static struct buf o;
    q35_aml(&o);
    for (size_t n = 0; n < o.n; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* plain malloc: ASan sees a read past it */
        memcpy(copy, o.b, n);
        uint32_t gsi = 0;
        if (intx_prt_gsi(copy, n, 0x10, 0, &gsi))
            assert_int_equal(gsi, 20);
        free(copy);
    }
}

static void madt_ioapics(void **state)
{
    (void)state;
    uint8_t m[MADTX_HDR_LEN + 8 + 2 * MADTX_IOAPIC_LEN] = { 0 };
    size_t off = MADTX_HDR_LEN;
    m[off] = 0; /* a processor entry */
    m[off + 1] = 8;
    off += 8;
    uint32_t addr0 = 0xFEC00000u, base0 = 0, addr1 = 0xFEC01000u, base1 = 24;
    m[off] = MADTX_IOAPIC;
    m[off + 1] = MADTX_IOAPIC_LEN;
    memcpy(m + off + MADTX_IOAPIC_ADDR, &addr1, 4);
    memcpy(m + off + MADTX_IOAPIC_GSI_BASE, &base1, 4);
    off += MADTX_IOAPIC_LEN;
    m[off] = MADTX_IOAPIC;
    m[off + 1] = MADTX_IOAPIC_LEN;
    memcpy(m + off + MADTX_IOAPIC_ADDR, &addr0, 4);
    memcpy(m + off + MADTX_IOAPIC_GSI_BASE, &base0, 4);
    uint64_t base;
    uint32_t gb;
    assert_true(intx_madt_ioapic(m, sizeof(m), 20, &base, &gb));
    assert_int_equal(base, 0xFEC00000u);
    assert_int_equal(gb, 0);
    assert_true(intx_madt_ioapic(m, sizeof(m), 30, &base, &gb));
    assert_int_equal(base, 0xFEC01000u);
    assert_int_equal(gb, 24);
    /* a zero-length entry ends the walk */
    m[MADTX_HDR_LEN + 1] = 0;
    assert_false(intx_madt_ioapic(m, sizeof(m), 20, &base, &gb));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(q35_routes),
        cmocka_unit_test(computed_links_only),
        cmocka_unit_test(truncated_aml),
        cmocka_unit_test(madt_ioapics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

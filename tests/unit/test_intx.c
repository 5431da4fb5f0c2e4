/*
 * INTx lines (vmm/intx.c) against a fake IOAPIC and LAPIC: RTE decoding,
 * which RTEs are delivered, IOREGSEL left as the guest had it, and the
 * line's state machine (one message per assertion, masked level held until
 * unmasked, masked edge lost, re-sent only once the guest retired the
 * vector while the line still holds, deassert and assert again).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "vmm/intx.h"

#define NPINS 24u
#define GUEST_SEL 0x27u            /* an index the guest left in IOREGSEL */

struct fake {
    uint32_t regsel;
    uint32_t rte[NPINS][2];
    uint8_t sent[16];
    unsigned nsent;
    bool busy[256];
    uint8_t apic_id, ldr_id;
    unsigned window_reads;
};

static uint32_t f_read(void *ctx, uint32_t off)
{
    struct fake *f = ctx;
    if (off == IOAPIC_REGSEL)
        return f->regsel;
    assert_int_equal(off, IOAPIC_WINDOW);
    f->window_reads++;
    uint32_t r = f->regsel - IOAPIC_REG_RTE0;
    assert_true(f->regsel >= IOAPIC_REG_RTE0 && r / 2 < NPINS);
    return f->rte[r / 2][r % 2];
}

static void f_write(void *ctx, uint32_t off, uint32_t value)
{
    struct fake *f = ctx;
    assert_int_equal(off, IOAPIC_REGSEL); /* the line never writes an RTE */
    f->regsel = value;
}

static void f_ipi(void *ctx, uint8_t vector)
{
    struct fake *f = ctx;
    assert_true(f->nsent < sizeof(f->sent));
    f->sent[f->nsent++] = vector;
    f->busy[vector] = true; /* pending in the IRR until the guest takes and EOIs it */
}

static bool f_busy(void *ctx, uint8_t vector)
{
    return ((struct fake *)ctx)->busy[vector];
}

static void f_ids(void *ctx, uint8_t *apic_id, uint8_t *ldr_id)
{
    struct fake *f = ctx;
    *apic_id = f->apic_id;
    *ldr_id = f->ldr_id;
}

static const struct intx_ops ops = { f_read, f_write, f_ipi, f_busy, f_ids };

/* What Linux programs for a PCI GSI: level, active high, fixed, physical. */
static void program(struct fake *f, unsigned pin, uint8_t vector, bool masked, bool level)
{
    f->rte[pin][0] = vector | (level ? RTE_TRIGGER_LEVEL : 0) | (masked ? RTE_MASKED : 0);
    f->rte[pin][1] = (uint32_t)f->apic_id << RTE_DEST_SHIFT;
}

static void setup(struct fake *f, struct intx_line *l)
{
    memset(f, 0, sizeof(*f));
    f->regsel = GUEST_SEL;
    f->apic_id = 2;
    f->ldr_id = 1;
    for (unsigned i = 0; i < NPINS; i++)
        f->rte[i][0] = RTE_MASKED; /* reset state */
    intx_init(l, &ops, f, "vblk", 20, 20);
    host_log_clear();
}

static void rte_decode(void **state)
{
    (void)state;
    struct intx_rte r;
    intx_rte_decode(0x41u | RTE_TRIGGER_LEVEL | RTE_MASKED, 3u << RTE_DEST_SHIFT, &r);
    assert_int_equal(r.vector, 0x41);
    assert_int_equal(r.delmode, RTE_DELMODE_FIXED);
    assert_true(r.level);
    assert_true(r.masked);
    assert_false(r.logical);
    assert_false(r.active_low);
    assert_int_equal(r.dest, 3);
    intx_rte_decode(0xEFu | (RTE_DELMODE_LOWEST << RTE_DELMODE_SHIFT) | RTE_DESTMODE_LOGICAL |
                    RTE_POLARITY_LOW, 0xFFu << RTE_DEST_SHIFT, &r);
    assert_int_equal(r.vector, 0xEF);
    assert_int_equal(r.delmode, RTE_DELMODE_LOWEST);
    assert_false(r.level);
    assert_false(r.masked);
    assert_true(r.logical);
    assert_true(r.active_low);
    assert_int_equal(r.dest, 0xFF);
}

static void rte_deliverable(void **state)
{
    (void)state;
    struct intx_rte r;
    const char *why = NULL;
    intx_rte_decode(0x41u | RTE_TRIGGER_LEVEL, 2u << RTE_DEST_SHIFT, &r);
    assert_true(intx_rte_deliverable(&r, 2, 1, &why));
    assert_false(intx_rte_deliverable(&r, 3, 1, &why));
    assert_string_equal(why, "destination is not this CPU");
    r.dest = RTE_DEST_BROADCAST;
    assert_true(intx_rte_deliverable(&r, 3, 1, &why));
    /* logical, flat: any shared bit */
    intx_rte_decode(0x41u | RTE_DESTMODE_LOGICAL, 0x05u << RTE_DEST_SHIFT, &r);
    assert_true(intx_rte_deliverable(&r, 0, 0x04, &why));
    assert_false(intx_rte_deliverable(&r, 0, 0x02, &why));
    /* SMI, NMI, INIT, ExtINT and reserved vectors are not sent */
    static const unsigned modes[] = { 2, 4, 5, 7 };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        intx_rte_decode(0x41u | modes[i] << RTE_DELMODE_SHIFT, 0, &r);
        assert_false(intx_rte_deliverable(&r, 0, 0, &why));
        assert_string_equal(why, "delivery mode other than fixed or lowest priority");
    }
    intx_rte_decode(0x0Fu, 0, &r);
    assert_false(intx_rte_deliverable(&r, 0, 0, &why));
    assert_string_equal(why, "reserved vector");
}

static void read_rte_keeps_ioregsel(void **state)
{
    (void)state;
    struct fake f;
    struct intx_line l;
    setup(&f, &l);
    program(&f, 7, 0x33, false, true);
    f.rte[7][1] = 0x5Au << RTE_DEST_SHIFT;
    struct intx_rte r;
    intx_read_rte(&ops, &f, 7, &r);
    assert_int_equal(r.vector, 0x33);
    assert_int_equal(r.dest, 0x5A);
    assert_int_equal(f.regsel, GUEST_SEL);
    /* and so does every line operation */
    program(&f, 20, 0x31, false, true);
    intx_set(&l, true);
    intx_set(&l, true);
    intx_set(&l, false);
    assert_int_equal(f.regsel, GUEST_SEL);
}

/* Level RTE: one message per assertion; re-sent only after the guest
 * retired the vector while the line still holds. */
static void level_line(void **state)
{
    (void)state;
    struct fake f;
    struct intx_line l;
    setup(&f, &l);
    program(&f, 20, 0x31, false, true);
    intx_set(&l, true);
    assert_int_equal(f.nsent, 1);
    assert_int_equal(f.sent[0], 0x31);
    assert_true(host_log_contains("vblk: INTx mode (gsi 20 vector 0x31)"));
    /* still pending or in service: the IOAPIC's remote IRR holds it back */
    intx_set(&l, true);
    intx_set(&l, true);
    assert_int_equal(f.nsent, 1);
    /* the guest EOI'd without acknowledging the device: sent again */
    f.busy[0x31] = false;
    intx_set(&l, true);
    assert_int_equal(f.nsent, 2);
    assert_int_equal(l.resent, 1);
    /* acknowledged, then a new interrupt: a new message */
    f.busy[0x31] = false;
    intx_set(&l, false);
    intx_set(&l, false);
    assert_int_equal(f.nsent, 2);
    intx_set(&l, true);
    assert_int_equal(f.nsent, 3);
    assert_int_equal(l.assertions, 2);
    assert_int_equal(l.messages, 3);
    /* the same vector is logged once; a new one again */
    host_log_clear();
    intx_set(&l, false);
    program(&f, 20, 0x52, false, true);
    intx_set(&l, true);
    assert_int_equal(f.sent[f.nsent - 1], 0x52);
    assert_true(host_log_contains("vblk: INTx mode (gsi 20 vector 0x52)"));
}

/* Masked: a level assertion is held and sent once unmasked; an edge is lost. */
static void masked_rte(void **state)
{
    (void)state;
    struct fake f;
    struct intx_line l;
    setup(&f, &l);
    program(&f, 20, 0x31, true, true);
    intx_set(&l, true);
    intx_set(&l, true);
    assert_int_equal(f.nsent, 0);
    assert_int_equal(l.held, 1);
    program(&f, 20, 0x31, false, true);
    intx_set(&l, true);
    assert_int_equal(f.nsent, 1);
    assert_int_equal(l.resent, 0);

    setup(&f, &l);
    program(&f, 20, 0x40, true, false);
    intx_set(&l, true);
    program(&f, 20, 0x40, false, false);
    intx_set(&l, true);
    assert_int_equal(f.nsent, 0); /* the edge came while masked */
    intx_set(&l, false);
    intx_set(&l, true);
    assert_int_equal(f.nsent, 1);
    /* an edge RTE never re-sends while the line holds */
    f.busy[0x40] = false;
    intx_set(&l, true);
    assert_int_equal(f.nsent, 1);
}

/* An RTE that cannot reach this CPU: not sent, warned a few times, counted. */
static void refused_rte(void **state)
{
    (void)state;
    struct fake f;
    struct intx_line l;
    setup(&f, &l);
    program(&f, 20, 0x31, false, true);
    f.rte[20][1] = 9u << RTE_DEST_SHIFT;
    for (unsigned i = 0; i < INTX_WARN_MAX + 3; i++) {
        intx_set(&l, true);
        intx_set(&l, false);
    }
    assert_int_equal(f.nsent, 0);
    assert_int_equal(l.refused, INTX_WARN_MAX + 3);
    assert_true(host_log_contains("destination is not this CPU"));
    assert_int_equal(host_log_count(), INTX_WARN_MAX);
    f.rte[20][0] = 0x31u | RTE_TRIGGER_LEVEL | (RTE_DELMODE_FIXED + 4u) << RTE_DELMODE_SHIFT;
    f.rte[20][1] = 2u << RTE_DEST_SHIFT;
    intx_set(&l, true);
    assert_int_equal(f.nsent, 0); /* NMI */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rte_decode),
        cmocka_unit_test(rte_deliverable),
        cmocka_unit_test(read_rte_keeps_ioregsel),
        cmocka_unit_test(level_line),
        cmocka_unit_test(masked_rte),
        cmocka_unit_test(refused_rte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* INTx lines of emulated functions, sent as the guest's IOAPIC would (see intx.h). */
#include "vmm/intx.h"

#include "vmm/lib/log.h"

void intx_rte_decode(uint32_t lo, uint32_t hi, struct intx_rte *r)
{
    r->vector = (uint8_t)(lo & RTE_VECTOR_MASK);
    r->delmode = (uint8_t)((lo >> RTE_DELMODE_SHIFT) & RTE_DELMODE_MASK);
    r->logical = lo & RTE_DESTMODE_LOGICAL;
    r->active_low = lo & RTE_POLARITY_LOW;
    r->level = lo & RTE_TRIGGER_LEVEL;
    r->masked = lo & RTE_MASKED;
    r->dest = (uint8_t)(hi >> RTE_DEST_SHIFT);
}

bool intx_rte_deliverable(const struct intx_rte *r, uint8_t apic_id, uint8_t ldr_id,
                          const char **why)
{
    if (r->delmode != RTE_DELMODE_FIXED && r->delmode != RTE_DELMODE_LOWEST) {
        *why = "delivery mode other than fixed or lowest priority";
        return false;
    }
    if (r->vector < INTX_VECTOR_MIN) {
        *why = "reserved vector";
        return false;
    }
    if (r->logical ? !(r->dest & ldr_id)
                   : r->dest != apic_id && r->dest != RTE_DEST_BROADCAST) {
        *why = "destination is not this CPU";
        return false;
    }
    return true;
}

void intx_read_rte(const struct intx_ops *ops, void *ctx, uint32_t pin, struct intx_rte *r)
{
    /* The guest may be between its own IOREGSEL write and IOWIN access
     * (the exit that brought us here can fall anywhere): put its index back. */
    uint32_t sel = ops->ioapic_read(ctx, IOAPIC_REGSEL);
    ops->ioapic_write(ctx, IOAPIC_REGSEL, IOAPIC_REG_RTE0 + 2 * pin);
    uint32_t lo = ops->ioapic_read(ctx, IOAPIC_WINDOW);
    ops->ioapic_write(ctx, IOAPIC_REGSEL, IOAPIC_REG_RTE0 + 2 * pin + 1);
    uint32_t hi = ops->ioapic_read(ctx, IOAPIC_WINDOW);
    ops->ioapic_write(ctx, IOAPIC_REGSEL, sel);
    intx_rte_decode(lo, hi, r);
}

void intx_init(struct intx_line *l, const struct intx_ops *ops, void *ctx, const char *name,
               uint32_t gsi, uint32_t pin)
{
    *l = (struct intx_line){ .ops = ops, .ctx = ctx, .name = name, .gsi = gsi, .pin = pin };
}

static void send(struct intx_line *l, const struct intx_rte *r)
{
    if (r->vector != l->last_vector && l->logged < INTX_LOG_VECTORS) {
        l->logged++;
        pv_info("%s: INTx mode (gsi %u vector 0x%02x)", l->name, l->gsi, r->vector);
    }
    l->last_vector = r->vector;
    l->sent = true;
    l->messages++;
    l->ops->self_ipi(l->ctx, r->vector);
}

/* The line is asserted: send what the IOAPIC would send now, if anything. */
static void sample(struct intx_line *l, bool edge)
{
    struct intx_rte r;
    intx_read_rte(l->ops, l->ctx, l->pin, &r);
    if (r.masked) {
        l->held += edge;
        return; /* level: held until unmasked; edge: lost, as on the IOAPIC */
    }
    if (!edge) {
        /* Still asserted: only a level RTE re-sends, and only once the
         * guest has retired the last message (the remote-IRR rule). */
        if (!r.level || (l->sent && l->ops->vector_busy(l->ctx, l->last_vector)))
            return;
        if (l->sent)
            l->resent++;
    }
    uint8_t apic_id, ldr_id;
    const char *why;
    l->ops->lapic_ids(l->ctx, &apic_id, &ldr_id);
    if (!intx_rte_deliverable(&r, apic_id, ldr_id, &why)) {
        l->refused++;
        if (l->warned < INTX_WARN_MAX) {
            l->warned++;
            pv_warn("%s: INTx on gsi %u not delivered: RTE vector 0x%02x: %s", l->name, l->gsi,
                    r.vector, why);
        }
        return;
    }
    send(l, &r);
}

void intx_set(struct intx_line *l, bool level)
{
    if (!level) {
        l->asserted = false;
        l->sent = false;
        return;
    }
    bool edge = !l->asserted;
    if (edge) {
        l->asserted = true;
        l->assertions++;
    }
    sample(l, edge);
}

void intx_level(void *line, bool level)
{
    intx_set(line, level);
}

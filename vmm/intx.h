/*
 * INTx for emulated PCI functions (docs/decisions.md, "INTx for emulated
 * devices"). The guest owns the real IOAPIC and LAPIC (pass-through), so an
 * emulated function cannot drive an IOAPIC input wire. Instead an
 * intx_line stands for the function's interrupt pin, routed (by the
 * firmware's _PRT, vmm/intx_prt.h) to one GSI, i.e. one IOAPIC pin; while
 * the device holds the line asserted, the line reads the redirection entry
 * (RTE) the guest programmed for that pin and delivers its vector as a
 * self-IPI, exactly as the IOAPIC would have sent it:
 *
 *   - masked RTE: nothing is sent; a level assertion stays held and is
 *     sent once a later intx_set() finds the RTE unmasked (an edge RTE
 *     loses it, as the hardware does);
 *   - one message per assertion; a level line still asserted after the
 *     guest retired the vector (neither pending in the LAPIC's IRR nor in
 *     service in its ISR: the guest EOI'd without deasserting, e.g. it had
 *     disabled the IRQ) is sent again by the next intx_set() — the IOAPIC's
 *     remote-IRR re-delivery, sampled at the device's own events;
 *   - delivery modes other than fixed / lowest priority, reserved vectors,
 *     and a physical destination that is not this CPU are not sent (counted,
 *     logged a few times).
 *
 * The device model only says the level: intx_set(line, true) on every
 * interrupt condition and at every device access while it holds (so held
 * and retired assertions are retried), intx_set(line, false) when the
 * guest acknowledges (virtio: reads ISR). All hardware access goes through
 * struct intx_ops, so the logic runs against a fake IOAPIC in host tests.
 */
#ifndef PV_VMM_INTX_H
#define PV_VMM_INTX_H

#include <stdbool.h>
#include <stdint.h>

/* IOAPIC (82093AA / ICH I/O APIC) registers. */
#define IOAPIC_REGSEL 0x00u        /* MMIO offsets */
#define IOAPIC_WINDOW 0x10u
#define IOAPIC_REG_VER 0x01u       /* indirect registers */
#define IOAPIC_REG_RTE0 0x10u      /* RTE n: 0x10 + 2n (low), 0x11 + 2n (high) */
#define IOAPIC_VER_MAXRTE_SHIFT 16
#define IOAPIC_VER_MAXRTE_MASK 0xFFu
#define IOAPIC_MMIO_SIZE 0x20u

/* Redirection entry, low dword. */
#define RTE_VECTOR_MASK 0xFFu
#define RTE_DELMODE_SHIFT 8
#define RTE_DELMODE_MASK 0x7u
#define RTE_DELMODE_FIXED 0u
#define RTE_DELMODE_LOWEST 1u
#define RTE_DESTMODE_LOGICAL (1u << 11)
#define RTE_POLARITY_LOW (1u << 13)
#define RTE_TRIGGER_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)
/* high dword */
#define RTE_DEST_SHIFT 24
#define RTE_DEST_BROADCAST 0xFFu
#define INTX_VECTOR_MIN 0x10u      /* 0..15 are reserved */

struct intx_rte {
    uint8_t vector, delmode, dest;
    bool logical, level, active_low, masked;
};

/* Decode an RTE's two dwords. Pure. */
void intx_rte_decode(uint32_t lo, uint32_t hi, struct intx_rte *r);

/*
 * Whether an unmasked RTE can be sent to this CPU (APIC ID apic_id, logical
 * ID ldr_id, flat model): fixed or lowest-priority delivery, vector >= 16,
 * a physical destination equal to apic_id or the broadcast 0xFF, a logical
 * destination sharing a bit with ldr_id. false with a reason otherwise. Pure.
 */
bool intx_rte_deliverable(const struct intx_rte *r, uint8_t apic_id, uint8_t ldr_id,
                          const char **why);

/* The platform under a line: the IOAPIC page, the LAPIC, the self-IPI. */
struct intx_ops {
    uint32_t (*ioapic_read)(void *ctx, uint32_t off);          /* MMIO offset */
    void (*ioapic_write)(void *ctx, uint32_t off, uint32_t value);
    void (*self_ipi)(void *ctx, uint8_t vector);                /* fixed, edge */
    bool (*vector_busy)(void *ctx, uint8_t vector);             /* LAPIC IRR or ISR bit */
    void (*lapic_ids)(void *ctx, uint8_t *apic_id, uint8_t *ldr_id);
};

#define INTX_WARN_MAX 4u
#define INTX_LOG_VECTORS 4u        /* "INTx mode" lines: one per new vector, this many */

struct intx_line {
    const struct intx_ops *ops;
    void *ctx;
    const char *name;              /* log prefix, e.g. "vblk" */
    uint32_t gsi;
    uint32_t pin;                  /* RTE index on the IOAPIC ops reach */
    bool asserted;
    bool sent;                     /* a message went out for this assertion */
    uint8_t last_vector;           /* of the last message; 0: none yet */
    unsigned logged, warned;
    uint64_t assertions, messages, resent, held, refused;
};

/* Bind line to IOAPIC pin (GSI gsi) through ops. */
void intx_init(struct intx_line *l, const struct intx_ops *ops, void *ctx, const char *name,
               uint32_t gsi, uint32_t pin);

/* Read RTE pin of the IOAPIC behind ops, leaving the guest's IOREGSEL as it was. */
void intx_read_rte(const struct intx_ops *ops, void *ctx, uint32_t pin, struct intx_rte *r);

/* The device's level (see above). Also a vpci_intx_fn (ctx = the line). */
void intx_set(struct intx_line *l, bool level);
void intx_level(void *line, bool level);

#endif

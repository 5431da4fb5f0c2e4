/*
 * Interrupts from emulated devices into the guest (docs/decisions.md,
 * "Interrupts for emulated devices"). The guest owns the real LAPIC
 * (pass-through, xAPIC MMIO) and takes physical interrupts through its own
 * IDT, so an emulated device's MSI is delivered as a self-IPI on that
 * LAPIC: the vector becomes pending in the real IRR, the CPU delivers it to
 * the guest when the guest can take it (IF, TPR, priority against what is
 * in service), and the guest's EOI retires exactly that vector. No event
 * injection: an injected vector never enters the LAPIC's ISR, so the
 * guest's EOI would retire some other in-service interrupt instead.
 *
 * Any device model takes irq_inject_msi as its MSI callback (vdev/vpci.h's
 * vpci_msi_fn); ctx is unused.
 */
#ifndef PV_VMM_IRQ_INJECT_H
#define PV_VMM_IRQ_INJECT_H

#include <stdbool.h>
#include <stdint.h>

/* MSI message fields (Intel SDM vol. 3, 11.11). */
#define MSI_ADDR_BASE_MASK 0xFFF00000u
#define MSI_ADDR_BASE 0xFEE00000u
#define MSI_DATA_VECTOR_MASK 0xFFu
#define MSI_DATA_DELMODE_SHIFT 8
#define MSI_DATA_DELMODE_MASK 0x7u
#define MSI_DELMODE_FIXED 0u
#define MSI_DELMODE_LOWEST 1u
#define MSI_VECTOR_MIN 0x10u       /* 0..15 are reserved: never sent */

/* xAPIC registers used. */
#define LAPIC_ID 0x20u
#define LAPIC_ID_SHIFT 24
#define LAPIC_LDR 0xD0u
#define LAPIC_LDR_SHIFT 24
#define LAPIC_ISR0 0x100u          /* ISR/IRR: 8 registers of 32 vectors, 16 bytes apart */
#define LAPIC_IRR0 0x200u
#define LAPIC_BANK_STRIDE 0x10u
#define LAPIC_ICR_LO 0x300u
#define LAPIC_ICR_SHORTHAND_SELF (1u << 18)
#define LAPIC_ICR_DELIVERY_PENDING (1u << 12)
#define LAPIC_ICR_LEVEL_ASSERT (1u << 14)
#define IA32_APIC_BASE 0x1Bu
#define APIC_BASE_ADDR_MASK 0xFFFFFF000ull

/*
 * What a device's MSI (addr, data) means for the one vCPU: the vector to
 * raise, or false (with a reason) for a message pagevisor does not deliver
 * (not an MSI address, a delivery mode other than fixed / lowest priority,
 * a reserved vector). Pure.
 */
bool irq_msi_vector(uint64_t addr, uint32_t data, uint8_t *vector, const char **why);

/* Find the LAPIC (IA32_APIC_BASE). Call once before the guest runs. */
void irq_inject_init(void);

/* Deliver a device's MSI to the guest as a self-IPI (a vpci_msi_fn). */
void irq_inject_msi(void *ctx, uint64_t addr, uint32_t data);

/* Raise vector (>= 16) as a fixed self-IPI: what irq_inject_msi does once
 * the message is decoded; also INTx's path (vmm/intx.h). */
void irq_inject_vector(uint8_t vector);

/* Whether vector is pending (IRR) or in service (ISR) on the LAPIC: the
 * guest has not yet retired it with an EOI. */
bool irq_inject_vector_busy(uint8_t vector);

/* This CPU's APIC ID and flat-model logical ID, as the guest set them. */
void irq_inject_lapic_ids(uint8_t *apic_id, uint8_t *ldr_id);

#endif

/* Device interrupts into the guest as self-IPIs on its LAPIC (see irq_inject.h). */
#include "vmm/irq_inject.h"

#include "vmm/arch/arch.h"
#include "vmm/lib/log.h"

#define ICR_WAIT_SPINS 100000u  /* a self-IPI is accepted within a few cycles */
#define BAD_MSI_WARN_MAX 4u

static volatile uint32_t *lapic;
static unsigned bad_msis;

bool irq_msi_vector(uint64_t addr, uint32_t data, uint8_t *vector, const char **why)
{
    unsigned mode = (data >> MSI_DATA_DELMODE_SHIFT) & MSI_DATA_DELMODE_MASK;
    if ((addr & MSI_ADDR_BASE_MASK) != MSI_ADDR_BASE || (addr >> 32)) {
        *why = "not an MSI address";
        return false;
    }
    if (mode != MSI_DELMODE_FIXED && mode != MSI_DELMODE_LOWEST) {
        *why = "delivery mode other than fixed or lowest priority";
        return false;
    }
    if ((data & MSI_DATA_VECTOR_MASK) < MSI_VECTOR_MIN) {
        *why = "reserved vector";
        return false;
    }
    *vector = (uint8_t)(data & MSI_DATA_VECTOR_MASK);
    return true;
}

void irq_inject_init(void)
{
    /* One vCPU on this CPU, the guest may not move its APIC base
     * (vmm/msr_policy.c), x2APIC is hidden: the xAPIC page stays put. */
    lapic = (volatile uint32_t *)(uintptr_t)(rdmsr(IA32_APIC_BASE) & APIC_BASE_ADDR_MASK);
}

void irq_inject_msi(void *ctx, uint64_t addr, uint32_t data)
{
    (void)ctx;
    uint8_t vector;
    const char *why;
    if (!irq_msi_vector(addr, data, &vector, &why)) {
        if (bad_msis++ < BAD_MSI_WARN_MAX)
            pv_warn("irq: MSI addr 0x%llx data 0x%x not delivered: %s",
                    (unsigned long long)addr, data, why);
        return;
    }
    irq_inject_vector(vector);
}

static uint32_t lapic_read(uint32_t off)
{
    return lapic[off / sizeof(uint32_t)];
}

void irq_inject_vector(uint8_t vector)
{
    volatile uint32_t *icr = lapic + LAPIC_ICR_LO / sizeof(uint32_t);
    /* The guest may have left an IPI of its own in flight (its ICR write
     * caused no exit): let it go first. */
    for (unsigned i = 0; i < ICR_WAIT_SPINS && (*icr & LAPIC_ICR_DELIVERY_PENDING); i++)
        pause();
    *icr = LAPIC_ICR_SHORTHAND_SELF | LAPIC_ICR_LEVEL_ASSERT | vector;
}

bool irq_inject_vector_busy(uint8_t vector)
{
    uint32_t bank = (vector / 32u) * LAPIC_BANK_STRIDE, bit = 1u << (vector % 32u);
    return (lapic_read(LAPIC_IRR0 + bank) & bit) || (lapic_read(LAPIC_ISR0 + bank) & bit);
}

void irq_inject_lapic_ids(uint8_t *apic_id, uint8_t *ldr_id)
{
    *apic_id = (uint8_t)(lapic_read(LAPIC_ID) >> LAPIC_ID_SHIFT);
    *ldr_id = (uint8_t)(lapic_read(LAPIC_LDR) >> LAPIC_LDR_SHIFT);
}

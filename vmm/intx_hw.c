/* INTx lines on the real IOAPIC and LAPIC (see intx_hw.h). */
#include "vmm/intx_hw.h"

#include "vmm/intx_prt.h"
#include "vmm/irq_inject.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/types.h"

#include <string.h>

#define SDT_HDR_LEN 36u
#define SDT_OFF_LENGTH 4u

static struct acpi_info acpi;
static bool have_acpi;

void intx_hw_set_acpi(const struct acpi_info *ai)
{
    acpi = *ai;
    have_acpi = true;
}

/* The IOAPIC's page is identity mapped with the low 4 GiB (vmm/arch/paging.h). */
static uint32_t io_read(void *ctx, uint32_t off)
{
    return ((volatile uint32_t *)ctx)[off / sizeof(uint32_t)];
}

static void io_write(void *ctx, uint32_t off, uint32_t value)
{
    ((volatile uint32_t *)ctx)[off / sizeof(uint32_t)] = value;
}

static void self_ipi(void *ctx, uint8_t vector)
{
    (void)ctx;
    irq_inject_vector(vector);
}

static bool vector_busy(void *ctx, uint8_t vector)
{
    (void)ctx;
    return irq_inject_vector_busy(vector);
}

static void lapic_ids(void *ctx, uint8_t *apic_id, uint8_t *ldr_id)
{
    (void)ctx;
    irq_inject_lapic_ids(apic_id, ldr_id);
}

static const struct intx_ops hw_ops = { io_read, io_write, self_ipi, vector_busy, lapic_ids };

static const uint8_t *table(uint64_t addr, uint32_t *len)
{
    const uint8_t *t = (const uint8_t *)(uintptr_t)addr;
    memcpy(len, t + SDT_OFF_LENGTH, 4);
    return t;
}

int intx_hw_bind(struct intx_line *line, const char *name, uint8_t slot, uint8_t pin, char *why,
                 size_t why_len)
{
    if (!have_acpi || !acpi.dsdt) {
        pv_snprintf(why, why_len, "no ACPI DSDT to route it");
        return -PV_ENOENT;
    }
    uint32_t dlen, mlen, gsi, gsi_base;
    const uint8_t *dsdt = table(acpi.dsdt, &dlen);
    if (dlen < SDT_HDR_LEN || !acpi_checksum_ok(dsdt, dlen)) {
        pv_snprintf(why, why_len, "the DSDT at 0x%llx is not valid", (unsigned long long)acpi.dsdt);
        return -PV_ENOENT;
    }
    if (!intx_prt_gsi(dsdt + SDT_HDR_LEN, dlen - SDT_HDR_LEN, slot, pin, &gsi)) {
        pv_snprintf(why, why_len, "the DSDT's _PRT wires device %02x INT%c to no fixed GSI",
                    slot, 'A' + pin);
        return -PV_ENOENT;
    }
    uint64_t madt_at = acpi_find_table(&acpi, "APIC"), base;
    const uint8_t *madt = madt_at ? table(madt_at, &mlen) : NULL;
    if (!madt || !intx_madt_ioapic(madt, mlen, gsi, &base, &gsi_base) || base >> 32) {
        pv_snprintf(why, why_len, "no IOAPIC in the MADT serves GSI %u", gsi);
        return -PV_ENOENT;
    }
    void *io = (void *)(uintptr_t)base;
    /* Read the version register the guest's way, leaving its index alone. */
    uint32_t sel = io_read(io, IOAPIC_REGSEL);
    io_write(io, IOAPIC_REGSEL, IOAPIC_REG_VER);
    uint32_t max = (io_read(io, IOAPIC_WINDOW) >> IOAPIC_VER_MAXRTE_SHIFT) & IOAPIC_VER_MAXRTE_MASK;
    io_write(io, IOAPIC_REGSEL, sel);
    if (gsi - gsi_base > max) {
        pv_snprintf(why, why_len, "GSI %u is beyond the IOAPIC at 0x%llx (GSIs %u-%u)", gsi,
                    (unsigned long long)base, gsi_base, gsi_base + max);
        return -PV_ENOENT;
    }
    intx_init(line, &hw_ops, io, name, gsi, gsi - gsi_base);
    return 0;
}

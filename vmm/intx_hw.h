/*
 * INTx lines on the real platform (vmm/intx.h): the IOAPIC and LAPIC the
 * guest owns, the self-IPI of vmm/irq_inject.h, and the route of a root-bus
 * slot's pin from the firmware's ACPI tables (vmm/intx_prt.h), which are
 * the guest's too. Call intx_hw_set_acpi once the host tables are parsed.
 */
#ifndef PV_VMM_INTX_HW_H
#define PV_VMM_INTX_HW_H

#include "vmm/acpi.h"
#include "vmm/intx.h"

#include <stddef.h>

#define INTX_PIN_INTA 0u           /* _PRT pin numbering; config 0x3D is this + 1 */

void intx_hw_set_acpi(const struct acpi_info *ai);

/*
 * Bind line to what root-bus device slot's pin is wired to: the GSI from
 * _PRT, the IOAPIC from the MADT, the pin checked against the IOAPIC's RTE
 * count. Call after irq_inject_init. Returns 0, or -PV_ENOENT with the
 * reason in why (no ACPI, no _PRT entry with a fixed GSI, no IOAPIC).
 */
int intx_hw_bind(struct intx_line *line, const char *name, uint8_t slot, uint8_t pin, char *why,
                 size_t why_len);

#endif

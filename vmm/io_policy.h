/*
 * Guest port I/O: which ports the hypervisor traps and what it does.
 * Everything else goes straight to the hardware (thin hypervisor).
 *
 *   console     the hypervisor's console UART (data, IIR/FCR, LCR, LSR):
 *               emulated by vmm/console.c, which passes guest output on,
 *               and filters input for the monitor escape.
 *   PCI config  0xCF8-0xCFF: devices the guest must not see are hidden
 *               (see vmm/pci_filter.c); 0xCF9 resets are caught.
 *   IDE         the legacy ATA ports read as an empty bus, writes dropped:
 *               the disks belong to pagevisor (boot ESP, swap).
 *   power       the guest's ACPI PM1 control ports (S5 = guest power-off),
 *               the keyboard controller reset (0x64 <- 0xFE), and QEMU's
 *               debug-exit port 0xF4: the guest stops, pagevisor reports.
 */
#ifndef PV_VMM_IO_POLICY_H
#define PV_VMM_IO_POLICY_H

#include "vmm/vcpu.h"

void io_policy_ports(const struct vcpu *v,
                     void (*trap)(void *ctx, uint16_t port, uint16_t count), void *ctx);
/* Handle one I/O exit (the instruction is skipped by the caller). */
void io_policy_handle(struct vcpu *v, const struct vm_exit *e);

/* PCI configuration filter (vmm/pci_filter.c). */
#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define PCI_RESET_CONTROL 0xCF9
uint32_t pci_filter_in(uint16_t port, uint8_t size);
void pci_filter_out(struct vcpu *v, uint16_t port, uint8_t size, uint32_t value);

#endif

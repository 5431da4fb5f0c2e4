/*
 * Stopping the machine. hv_poweroff() reports the status on the console,
 * then tries, in order: QEMU's isa-debug-exit device (only when running
 * under QEMU, which tells tests the status), ACPI S5 soft-off, Bochs's
 * shutdown port, and finally halts.
 */
#ifndef PV_VMM_POWER_H
#define PV_VMM_POWER_H

#include <stdint.h>

#include "vmm/acpi.h"

enum pv_exit {
    PV_EXIT_SUCCESS = 0,
    PV_EXIT_FAILURE = 1,
};

/* QEMU's isa-debug-exit (iobase 0xf4) exits with (value << 1) | 1, so
 * these become QEMU exit statuses 33 and 35 (scripts/run-qemu.sh maps
 * them back to 0 and 1). */
#define DEBUG_EXIT_PORT 0xF4
#define DEBUG_EXIT_SUCCESS 0x10
#define DEBUG_EXIT_FAILURE 0x11

/* Give power.c the ACPI facts it needs for S5 (optional). */
void power_set_acpi(const struct acpi_info *ai);
/* Whether the CPUID hypervisor signature says we run under QEMU/KVM. */
void power_set_qemu(int is_qemu);

__attribute__((noreturn)) void hv_poweroff(enum pv_exit status);
__attribute__((noreturn)) void hv_halt_forever(void);

#endif

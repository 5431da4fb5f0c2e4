/* Power off; see power.h. */
#include "vmm/power.h"
#include "vmm/arch/trap.h"
#include "vmm/arch/arch.h"
#include "vmm/lib/log.h"

#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN (1u << 13)
#define BOCHS_SHUTDOWN_PORT 0x8900

static struct acpi_info acpi;
static int have_acpi;
static int under_qemu;

void power_set_acpi(const struct acpi_info *ai)
{
    acpi = *ai;
    have_acpi = 1;
}

void power_set_qemu(int is_qemu) { under_qemu = is_qemu; }

void hv_halt_forever(void)
{
    for (;;) {
        cli();
        hlt();
    }
}

void hv_poweroff(enum pv_exit status)
{
    cli();
    pv_info("power off: status %d (%s)", status,
            status == PV_EXIT_SUCCESS ? "success" : "failure");
    if (under_qemu)
        outb(DEBUG_EXIT_PORT, status == PV_EXIT_SUCCESS ? DEBUG_EXIT_SUCCESS
                                                        : DEBUG_EXIT_FAILURE);
    if (have_acpi && acpi.s5_found && acpi.pm1a_cnt) {
        outw((uint16_t)acpi.pm1a_cnt,
             (uint16_t)((acpi.slp_typa << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN));
        if (acpi.pm1b_cnt)
            outw((uint16_t)acpi.pm1b_cnt,
                 (uint16_t)((acpi.slp_typb << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN));
    }
    for (const char *s = "Shutdown"; *s; s++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
    pv_err("power off did not take effect; halting");
    hv_halt_forever();
}

void trap_fatal_stop(void) { hv_poweroff(PV_EXIT_FAILURE); }

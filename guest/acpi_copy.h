/*
 * The guest's own copy of the host ACPI tables.
 *
 * The guest must not see the host tables as they are: they describe every
 * CPU, the PCIe ECAM window, IOMMUs and NUMA ranges of host-physical memory,
 * none of which the guest gets. pagevisor builds a private copy in guest RAM
 * (an "acpi" area, e820 type 3) and points boot_params.acpi_rsdp_addr at it:
 *
 *   RSDP  revision 2, OEM ID from the host, RsdtAddress 0, XsdtAddress = the
 *         copy's XSDT (an XSDT is built even when the host only has an RSDT)
 *   XSDT  OEM fields from the host root table; one entry per copied table,
 *         in the host's order
 *   FADT  copied; DSDT/X_DSDT and FIRMWARE_CTRL/X_FIRMWARE_CTRL point to the
 *         copies (each field the host had nonzero gets the copy's address;
 *         0 when the table could not be copied)
 *   DSDT, FACS   copied verbatim (the FACS 64-byte aligned)
 *   MADT  filtered to ONE processor: the enabled Local APIC / x2APIC entry
 *         with the boot CPU's APIC ID if one is given and present, else the
 *         first enabled one; every other processor entry is dropped, all
 *         other entries (IOAPIC, interrupt source overrides, NMI, LAPIC
 *         address override, ...) are kept
 *   every other table in the host root, verbatim, except the excluded ones:
 *         MCFG  (PCIe ECAM: the guest must use ports 0xCF8/0xCFC, which the
 *               hypervisor filters)
 *         DMAR, IVRS (IOMMUs belong to the hypervisor)
 *         SRAT, SLIT, HMAT (NUMA topology of host-physical memory and CPUs
 *               the guest does not have)
 *         BGRT, FPDT (point into host memory the guest cannot see)
 *   Tables failing their checksum or with an absurd length are dropped with
 *   a warning. Every table whose bytes changed gets its checksum recomputed;
 *   the RSDP gets both.
 *
 * Limitation: AML in the DSDT/SSDTs is copied unchanged, so SystemMemory
 * operation regions still name host-physical addresses.
 *
 * No usable host ACPI (no RSDP, e.g. Bochs' OVMF; or a broken one): no
 * guest ACPI area, acpi_rsdp_addr = 0, and the guest finds its devices at
 * the PC defaults: LAPIC 0xFEE00000, one IOAPIC at 0xFEC00000, no HPET, no
 * ACPI power-off (guest_devices.pm1a_cnt = 0). The same defaults apply to
 * the LAPIC/IOAPIC when ACPI exists but has no MADT.
 */
#ifndef PV_GUEST_ACPI_COPY_H
#define PV_GUEST_ACPI_COPY_H

#include "guest/guest.h"
#include "vmm/acpi.h"

#define ACPI_DEFAULT_LAPIC 0xFEE00000ull
#define ACPI_DEFAULT_IOAPIC 0xFEC00000ull
#define ACPI_COPY_IOAPIC_MAX 8
#define ACPI_COPY_TABLES_MAX 64     /* XSDT entries of the copy */
#define ACPI_APIC_ID_ANY 0xffffffffu /* keep the first enabled processor */

/* What the host has, read once before the guest layout is chosen. */
struct acpi_host {
    bool present;          /* usable host ACPI: the guest gets a copy */
    struct acpi_info ai;   /* root, FADT, DSDT of the host */
    uint64_t facs, madt, hpet; /* host tables (0 = none or unusable) */
    uint32_t boot_apic_id; /* processor entry to keep, or ACPI_APIC_ID_ANY */
    uint64_t ioapic[ACPI_COPY_IOAPIC_MAX]; /* MMIO bases from the MADT */
    size_t n_ioapic;
    struct guest_devices dev;
    uint64_t guest_size;   /* bytes the copy needs (0 when !present) */
};

/*
 * Reads the host tables from host_rsdp (0: none) and fills *h: devices,
 * which tables exist, and the size of the guest copy. Logs what it drops.
 * Never fails: a broken host ACPI is treated as none (warning logged).
 */
void acpi_copy_scan(uint64_t host_rsdp, uint32_t boot_apic_id,
                    struct acpi_host *h);

/*
 * Writes the copy into guest memory [area, area + size) through mm_write
 * (the area must be RAM and read as zeros) and sets *rsdp_gpa to the
 * guest RSDP. size must be at least h->guest_size. With !h->present writes
 * nothing and sets *rsdp_gpa = 0. Returns 0 or a -PV_* code from mm_write
 * (-PV_ENOSPC if the area is too small).
 */
int acpi_copy_write(const struct acpi_host *h, struct guest_mm *mm, gpa_t area,
                    uint64_t size, gpa_t *rsdp_gpa);

#endif

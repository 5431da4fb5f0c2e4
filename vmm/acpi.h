/*
 * Just enough ACPI for the hypervisor: walk RSDP -> XSDT/RSDT -> FADT,
 * verify checksums, and find how to power off (PM1 control blocks and the
 * \_S5 sleep type from the DSDT). Tables are read through their physical
 * addresses (identity mapped; host tests pass pointers, see ept/types.h).
 */
#ifndef PV_VMM_ACPI_H
#define PV_VMM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acpi_info {
    uint64_t rsdp, root, fadt, dsdt;
    bool xsdt;                 /* root is an XSDT (64-bit entries) */
    uint32_t pm1a_cnt, pm1b_cnt; /* I/O ports; 0 when absent */
    bool s5_found;
    uint8_t slp_typa, slp_typb;
};

/* Sum of bytes mod 256 == 0. */
bool acpi_checksum_ok(const void *p, size_t len);
/* Find a table by signature ("FACP", "APIC", ...) under the root; 0 if
 * none. */
uint64_t acpi_find_table(const struct acpi_info *ai, const char sig[4]);
/* Parse from the RSDP. Returns 0, or -1 with a reason logged. */
int acpi_init(struct acpi_info *ai, uint64_t rsdp);
/* Find \_S5 in AML bytes: its package's first two values. */
bool acpi_find_s5(const uint8_t *aml, size_t len, uint8_t *typa, uint8_t *typb);

#endif

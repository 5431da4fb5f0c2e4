/*
 * Which GSI an emulated function's INTx pin is wired to, read from the
 * firmware's ACPI tables the way the guest's OS reads them (the guest gets
 * the host's DSDT and a copy of its MADT: guest/acpi_copy.h).
 *
 * _PRT (ACPI 6.x, 6.2.13) maps (device, pin) on the root bus to either a
 * GSI directly ({address, pin, Zero, gsi}) or an interrupt link device
 * ({address, pin, LINK, 0}). Only links whose _CRS is a fixed resource
 * template naming exactly one interrupt are resolved: QEMU q35's GSIx links
 * in APIC mode (slot d INTA -> GSIE+(d&3) -> GSI 20+(d&3)). Links whose
 * _CRS is a Method (PIIX/ICH PIRQ links, the PIC-mode table) depend on
 * routing the guest programs and are not resolved: the function then gets
 * no INTx. The scan is a byte scan over AML for 4-element packages, like
 * acpi_find_s5: it does not run AML. Pure.
 */
#ifndef PV_VMM_INTX_PRT_H
#define PV_VMM_INTX_PRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRT_ADDR_ANY_FN 0xFFFFu    /* _PRT address: device << 16 | 0xFFFF */

/* AML encodings used (ACPI 6.x, 20.2). */
#define AMLX_ZERO 0x00u
#define AMLX_ONE 0x01u
#define AMLX_ONES 0xFFu
#define AMLX_BYTE 0x0Au
#define AMLX_WORD 0x0Bu
#define AMLX_DWORD 0x0Cu
#define AMLX_QWORD 0x0Eu
#define AMLX_NAME 0x08u
#define AMLX_BUFFER 0x11u
#define AMLX_PACKAGE 0x12u
#define AMLX_EXT 0x5Bu
#define AMLX_DEVICE 0x82u          /* after AMLX_EXT */
#define AMLX_ROOT '\\'
#define AMLX_PARENT '^'
#define AMLX_DUAL_NAME 0x2Eu
#define AMLX_MULTI_NAME 0x2Fu
#define AML_NAMESEG 4u

/* Resource descriptors (ACPI 6.x, 6.4). */
#define RES_IRQ_SMALL 0x22u        /* tag 4, length 2 */
#define RES_IRQ_SMALL_FLAGS 0x23u  /* tag 4, length 3 */
#define RES_EXT_IRQ 0x89u          /* large item 9 */
#define RES_END 0x79u

/* GSI of root-bus device slot, pin (0 = INTA) in DSDT AML. */
bool intx_prt_gsi(const uint8_t *aml, size_t len, uint8_t slot, uint8_t pin, uint32_t *gsi);

/* MADT entries */
#define MADTX_HDR_LEN 44u          /* table header + LAPIC address + flags */
#define MADTX_IOAPIC 1u
#define MADTX_IOAPIC_LEN 12u
#define MADTX_IOAPIC_ADDR 4u
#define MADTX_IOAPIC_GSI_BASE 8u

/*
 * The IOAPIC whose GSI range starts at or below gsi closest to it, from
 * the whole MADT (len bytes, header included): its MMIO base and GSI base.
 * The caller checks gsi against the IOAPIC's RTE count. Pure.
 */
bool intx_madt_ioapic(const uint8_t *madt, size_t len, uint32_t gsi, uint64_t *base,
                      uint32_t *gsi_base);

#endif

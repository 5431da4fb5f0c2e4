/* AML byte encodings shared by the ACPI unit tests (ACPI 6.x, 20.2). */
#ifndef PV_TESTS_ACPI_AML_H
#define PV_TESTS_ACPI_AML_H

#include <stdint.h>

/* AML */
#define NAME 0x08
#define PKG 0x12
#define ZERO 0x00
#define ONE 0x01
#define BYTE 0x0A
#define WORD 0x0B
#define DWORD 0x0C
#define ROOT '\\'
#define S5 '_', 'S', '5', '_'

/* QEMU q35-like: Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero }) in
 * the middle of other AML. */
static const uint8_t aml_s5_byte[] = {
    0x10, 0x0C, ROOT, '_', 'S', 'B', '_', 0x5B, 0x80, 'X', 'X', 0x00, 0x00, 0x01,
    NAME, S5, PKG, 0x0A, 0x04, BYTE, 0x05, BYTE, 0x05, ZERO, ZERO,
    0x14, 0x08, '_', 'P', 'T', 'S', 0x01, 0x70, 0x68, 0x60,
};

#endif

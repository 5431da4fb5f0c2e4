/* Minimal ACPI table walk; see acpi.h. */
#include "vmm/acpi.h"
#include "vmm/lib/log.h"

#include <string.h>

/* RSDP (ACPI 1.0 part is 20 bytes; 2.0+ is 36) */
#define RSDP_V1_LEN 20
#define RSDP_OFF_REVISION 15
#define RSDP_OFF_RSDT 16
#define RSDP_OFF_LENGTH 20
#define RSDP_OFF_XSDT 24
/* System description table header */
#define SDT_HDR_LEN 36
#define SDT_OFF_LENGTH 4
/* FADT fields */
#define FADT_OFF_DSDT 40
#define FADT_OFF_PM1A_CNT 64
#define FADT_OFF_PM1B_CNT 68
#define FADT_OFF_X_DSDT 140
/* AML opcodes */
#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_PKGLEN_EXTRA_SHIFT 6

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static const uint8_t *phys(uint64_t a) { return (const uint8_t *)(uintptr_t)a; }

bool acpi_checksum_ok(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + b[i]);
    return sum == 0;
}

static bool table_ok(uint64_t addr)
{
    if (!addr)
        return false;
    uint32_t len = rd32(phys(addr) + SDT_OFF_LENGTH);
    return len >= SDT_HDR_LEN && acpi_checksum_ok(phys(addr), len);
}

uint64_t acpi_find_table(const struct acpi_info *ai, const char sig[4])
{
    if (!ai->root)
        return 0;
    const uint8_t *root = phys(ai->root);
    uint32_t len = rd32(root + SDT_OFF_LENGTH);
    size_t esz = ai->xsdt ? 8 : 4;
    for (size_t off = SDT_HDR_LEN; off + esz <= len; off += esz) {
        uint64_t t = ai->xsdt ? rd64(root + off) : rd32(root + off);
        if (t && !memcmp(phys(t), sig, 4) && table_ok(t))
            return t;
    }
    return 0;
}

/* Read one AML integer constant; returns bytes consumed or 0. */
static size_t aml_const(const uint8_t *p, size_t left, uint8_t *out)
{
    if (left < 1)
        return 0;
    switch (p[0]) {
    case AML_ZERO_OP: *out = 0; return 1;
    case AML_ONE_OP: *out = 1; return 1;
    case AML_BYTE_PREFIX: if (left < 2) return 0; *out = p[1]; return 2;
    case AML_WORD_PREFIX: if (left < 3) return 0; *out = p[1]; return 3;
    case AML_DWORD_PREFIX: if (left < 5) return 0; *out = p[1]; return 5;
    default: return 0;
    }
}

bool acpi_find_s5(const uint8_t *aml, size_t len, uint8_t *typa, uint8_t *typb)
{
    for (size_t i = 0; i + 5 < len; i++) {
        if (memcmp(aml + i, "_S5_", 4) || aml[i + 4] != AML_PACKAGE_OP)
            continue;
        /* NameOp, optionally with a root prefix, must precede the name */
        if (!(i >= 1 && aml[i - 1] == AML_NAME_OP) &&
            !(i >= 2 && aml[i - 1] == '\\' && aml[i - 2] == AML_NAME_OP))
            continue;
        size_t p = i + 5;
        size_t pkglen_bytes = 1 + (aml[p] >> AML_PKGLEN_EXTRA_SHIFT);
        p += pkglen_bytes + 1; /* PkgLength, NumElements */
        if (p >= len)
            return false;
        size_t n = aml_const(aml + p, len - p, typa);
        if (!n)
            return false;
        p += n;
        if (!aml_const(aml + p, len - p, typb))
            *typb = 0;
        return true;
    }
    return false;
}

int acpi_init(struct acpi_info *ai, uint64_t rsdp)
{
    memset(ai, 0, sizeof(*ai));
    ai->rsdp = rsdp;
    if (!rsdp)
        return -1; /* already reported by the front end */
    if (memcmp(phys(rsdp), "RSD PTR ", 8) || !acpi_checksum_ok(phys(rsdp), RSDP_V1_LEN)) {
        pv_warn("acpi: no valid RSDP at 0x%llx", (unsigned long long)rsdp);
        return -1;
    }
    const uint8_t *r = phys(rsdp);
    if (r[RSDP_OFF_REVISION] >= 2 && acpi_checksum_ok(r, rd32(r + RSDP_OFF_LENGTH)) &&
        table_ok(rd64(r + RSDP_OFF_XSDT))) {
        ai->root = rd64(r + RSDP_OFF_XSDT);
        ai->xsdt = true;
    } else if (table_ok(rd32(r + RSDP_OFF_RSDT))) {
        ai->root = rd32(r + RSDP_OFF_RSDT);
    } else {
        pv_warn("acpi: neither XSDT nor RSDT passes its checksum");
        return -1;
    }
    ai->fadt = acpi_find_table(ai, "FACP");
    if (!ai->fadt) {
        pv_warn("acpi: no FADT");
        return -1;
    }
    const uint8_t *f = phys(ai->fadt);
    uint32_t flen = rd32(f + SDT_OFF_LENGTH);
    if (flen < FADT_OFF_PM1B_CNT + 4) {
        pv_warn("acpi: FADT too short (%u bytes) to name PM1 control ports", flen);
        return -1;
    }
    ai->pm1a_cnt = rd32(f + FADT_OFF_PM1A_CNT);
    ai->pm1b_cnt = rd32(f + FADT_OFF_PM1B_CNT);
    ai->dsdt = flen >= FADT_OFF_X_DSDT + 8 ? rd64(f + FADT_OFF_X_DSDT) : 0;
    if (!ai->dsdt)
        ai->dsdt = rd32(f + FADT_OFF_DSDT);
    if (table_ok(ai->dsdt)) {
        const uint8_t *d = phys(ai->dsdt);
        uint32_t dlen = rd32(d + SDT_OFF_LENGTH);
        ai->s5_found = acpi_find_s5(d + SDT_HDR_LEN, dlen - SDT_HDR_LEN,
                                    &ai->slp_typa, &ai->slp_typb);
    }
    return 0;
}

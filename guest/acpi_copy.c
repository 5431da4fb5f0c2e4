/*
 * The guest's ACPI copy; see acpi_copy.h for what it contains.
 *
 * One emitter produces the copy twice: once without a guest memory to
 * measure it (acpi_copy_scan, before the layout exists) and once writing
 * it (acpi_copy_write). Both runs make the same decisions from the same
 * host bytes, so the measured size is exactly the written size. Tables are
 * streamed from host memory into the guest with mm_write; checksums of
 * changed tables are computed on the way and patched in at the end.
 */
#include "guest/acpi_copy.h"

#include <string.h>

#include "vmm/lib/log.h"

/* System description table header */
#define SDT_HDR_LEN 36u
#define SDT_OFF_LENGTH 4
#define SDT_OFF_REVISION 8
#define SDT_OFF_CHECKSUM 9
#define SIG_LEN 4
#define ACPI_TABLE_LEN_MAX (16u << 20) /* sanity bound on a host table */
#define ACPI_TABLE_ALIGN 16u

/* RSDP */
#define RSDP_SIGNATURE "RSD PTR "
#define RSDP_SIG_LEN 8
#define RSDP_OFF_CHECKSUM 8
#define RSDP_OFF_OEMID 9
#define RSDP_OEMID_LEN 6
#define RSDP_OFF_REVISION 15
#define RSDP_OFF_RSDT 16
#define RSDP_OFF_LENGTH 20
#define RSDP_OFF_XSDT 24
#define RSDP_OFF_EXT_CHECKSUM 32
#define RSDP_V1_LEN 20u
#define RSDP_V2_LEN 36u
#define RSDP_REVISION_2 2
#define XSDT_REVISION 1
#define XSDT_ENTRY_LEN 8u

/* FACS: no checksum; 64-byte aligned (ACPI 6.5, 5.2.10) */
#define FACS_OFF_LENGTH 4
#define FACS_LEN_MIN 64u
#define FACS_LEN_MAX 4096u
#define FACS_ALIGN 64u

/* FADT */
#define FADT_OFF_FIRMWARE_CTRL 36
#define FADT_OFF_DSDT 40
#define FADT_OFF_PM1A_CNT 64
#define FADT_OFF_X_FIRMWARE_CTRL 132
#define FADT_OFF_X_DSDT 140
#define FADT_OFF_X_PM1A_CNT 172
#define FADT_OFF_X_PM1B_CNT 184
#define FADT_LEN_MIN (FADT_OFF_PM1A_CNT + 8u)
#define FADT_OFF_PM1A_EVT 56        /* 32-bit block addresses, 4 bytes each ... */
#define FADT_OFF_PM_LENGTHS 88      /* ... and their lengths, 1 byte each */
#define FADT_OFF_X_PM1A_EVT 148     /* 64-bit GAS versions, 12 bytes each */
#define FADT_LEN_MAX 1024u
/* Generic Address Structure */
#define GAS_OFF_SPACE 0
#define GAS_OFF_ADDRESS 4
#define GAS_LEN 12u
#define GAS_SPACE_MEMORY 0
#define GAS_SPACE_IO 1
#define IO_PORT_MAX 0xffffu

/* MADT */
#define MADT_OFF_LAPIC_ADDR 36
#define MADT_OFF_ENTRIES 44u
#define MADT_ENT_OFF_LEN 1
#define MADT_ENT_HDR_LEN 2u
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC 9
#define MADT_LAPIC_OFF_APIC_ID 3
#define MADT_LAPIC_OFF_FLAGS 4
#define MADT_LAPIC_LEN 8u
#define MADT_X2APIC_OFF_APIC_ID 4
#define MADT_X2APIC_OFF_FLAGS 8
#define MADT_X2APIC_LEN 16u
#define MADT_IOAPIC_OFF_ADDR 4
#define MADT_IOAPIC_LEN 12u
#define MADT_OVERRIDE_OFF_ADDR 4
#define MADT_OVERRIDE_LEN 12u
#define MADT_CPU_ENABLED 0x1u

/* HPET description table */
#define HPET_OFF_BASE 40
#define HPET_LEN_MIN (HPET_OFF_BASE + GAS_LEN)

/* Host tables the guest does not get (see acpi_copy.h for why). */
static const char excluded[][SIG_LEN + 1] = {
    "MCFG", "DMAR", "IVRS", "SRAT", "SLIT", "HMAT", "BGRT", "FPDT",
};

static const uint8_t *phys(uint64_t a) { return (const uint8_t *)(uintptr_t)a; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* Length of the valid host table at addr, 0 if it is not one. */
static uint32_t table_len(uint64_t addr)
{
    if (!addr)
        return 0;
    uint32_t len = rd32(phys(addr) + SDT_OFF_LENGTH);
    if (len < SDT_HDR_LEN || len > ACPI_TABLE_LEN_MAX ||
        !acpi_checksum_ok(phys(addr), len))
        return 0;
    return len;
}

static uint32_t facs_len(uint64_t addr)
{
    if (!addr || memcmp(phys(addr), "FACS", SIG_LEN))
        return 0;
    uint32_t len = rd32(phys(addr) + FACS_OFF_LENGTH);
    return len >= FACS_LEN_MIN && len <= FACS_LEN_MAX ? len : 0;
}

static size_t root_count(const struct acpi_info *ai)
{
    uint32_t len = rd32(phys(ai->root) + SDT_OFF_LENGTH);
    return (len - SDT_HDR_LEN) / (ai->xsdt ? 8u : 4u);
}

static uint64_t root_entry(const struct acpi_info *ai, size_t i)
{
    const uint8_t *p = phys(ai->root) + SDT_HDR_LEN;
    return ai->xsdt ? rd64(p + i * 8) : rd32(p + i * 4);
}

/* ---- MADT entries ------------------------------------------------------- */

static bool madt_entry_ok(const uint8_t *m, uint32_t len, uint32_t off)
{
    return off + MADT_ENT_HDR_LEN <= len &&
           m[off + MADT_ENT_OFF_LEN] >= MADT_ENT_HDR_LEN &&
           off + m[off + MADT_ENT_OFF_LEN] <= len;
}

#define MADT_FOR_EACH(m, len, off)                                             \
    for (uint32_t off = MADT_OFF_ENTRIES; madt_entry_ok(m, len, off);         \
         off += (m)[off + MADT_ENT_OFF_LEN])

static bool is_cpu_entry(const uint8_t *e)
{
    return e[0] == MADT_LAPIC || e[0] == MADT_X2APIC;
}

/* True for an enabled processor entry; *apic_id its (x2)APIC ID. */
static bool cpu_enabled(const uint8_t *e, uint32_t *apic_id)
{
    uint8_t elen = e[MADT_ENT_OFF_LEN];
    if (e[0] == MADT_LAPIC && elen >= MADT_LAPIC_LEN) {
        *apic_id = e[MADT_LAPIC_OFF_APIC_ID];
        return rd32(e + MADT_LAPIC_OFF_FLAGS) & MADT_CPU_ENABLED;
    }
    if (e[0] == MADT_X2APIC && elen >= MADT_X2APIC_LEN) {
        *apic_id = rd32(e + MADT_X2APIC_OFF_APIC_ID);
        return rd32(e + MADT_X2APIC_OFF_FLAGS) & MADT_CPU_ENABLED;
    }
    return false;
}

/* Offset of the processor entry the guest keeps, 0 if none is enabled. */
static uint32_t madt_pick(const uint8_t *m, uint32_t len, uint32_t want)
{
    uint32_t first = 0, id;
    MADT_FOR_EACH(m, len, off) {
        if (!cpu_enabled(m + off, &id))
            continue;
        if (want != ACPI_APIC_ID_ANY && id == want)
            return off;
        if (!first)
            first = off;
    }
    return first;
}

static bool madt_keeps(const uint8_t *m, uint32_t off, uint32_t pick)
{
    return !is_cpu_entry(m + off) || off == pick;
}

/* ---- the emitter -------------------------------------------------------- */

struct out {
    struct guest_mm *mm; /* NULL: measure only */
    gpa_t base;
    uint64_t cap, off;
    int rc;
    uint8_t sum;         /* of the bytes put since it was last cleared */
};

static void out_poke(struct out *o, uint64_t off, const void *p, size_t n)
{
    if (!o->mm || o->rc)
        return;
    if (off + n > o->cap)
        o->rc = -PV_ENOSPC;
    else
        o->rc = mm_write(o->mm, o->base + off, p, n);
}

static void out_put(struct out *o, const void *p, size_t n)
{
    o->sum = (uint8_t)(o->sum + sum8(p, n));
    out_poke(o, o->off, p, n);
    o->off += n;
}

static gpa_t out_align(struct out *o, uint64_t align)
{
    o->off = ALIGN_UP(o->off, align);
    return o->base + o->off;
}

/* Point a 32-bit/64-bit FADT address pair at the copy: each field the host
 * had nonzero gets gpa (0 when the table was not copied). */
static void fadt_repoint(uint8_t *f, uint32_t len, uint32_t off32,
                         uint32_t off64, gpa_t gpa)
{
    bool has64 = len >= off64 + 8;
    if (rd32(f + off32))
        wr32(f + off32, (uint32_t)gpa);
    if (has64 && rd64(f + off64))
        wr64(f + off64, gpa);
    if (!gpa) {
        wr32(f + off32, 0);
        if (has64)
            wr64(f + off64, 0);
    }
}

static void emit_fadt(struct out *o, const uint8_t *host, uint32_t len,
                      gpa_t facs, gpa_t dsdt)
{
    uint8_t f[FADT_LEN_MAX];
    memcpy(f, host, len);
    fadt_repoint(f, len, FADT_OFF_DSDT, FADT_OFF_X_DSDT, dsdt);
    fadt_repoint(f, len, FADT_OFF_FIRMWARE_CTRL, FADT_OFF_X_FIRMWARE_CTRL, facs);
    f[SDT_OFF_CHECKSUM] = 0;
    f[SDT_OFF_CHECKSUM] = (uint8_t)-sum8(f, len);
    out_put(o, f, len);
}

static void emit_madt(struct out *o, const uint8_t *m, uint32_t len,
                      uint32_t want)
{
    uint32_t pick = madt_pick(m, len, want), new_len = MADT_OFF_ENTRIES;
    MADT_FOR_EACH(m, len, off) {
        if (madt_keeps(m, off, pick))
            new_len += m[off + MADT_ENT_OFF_LEN];
    }
    uint8_t hdr[MADT_OFF_ENTRIES];
    memcpy(hdr, m, sizeof(hdr));
    wr32(hdr + SDT_OFF_LENGTH, new_len);
    hdr[SDT_OFF_CHECKSUM] = 0;

    uint64_t start = o->off;
    o->sum = 0;
    out_put(o, hdr, sizeof(hdr));
    MADT_FOR_EACH(m, len, off) {
        if (madt_keeps(m, off, pick))
            out_put(o, m + off, m[off + MADT_ENT_OFF_LEN]);
    }
    uint8_t ck = (uint8_t)-o->sum;
    out_poke(o, start + SDT_OFF_CHECKSUM, &ck, 1);
}

enum verdict { KEEP, DROP_POLICY, DROP_BAD };

/* Whether the host root entry at addr goes into the copy. */
static enum verdict classify(uint64_t addr, uint32_t *len)
{
    *len = table_len(addr);
    if (!*len)
        return DROP_BAD;
    const uint8_t *t = phys(addr);
    for (size_t i = 0; i < sizeof(excluded) / sizeof(excluded[0]); i++)
        if (!memcmp(t, excluded[i], SIG_LEN))
            return DROP_POLICY;
    /* reached through the FADT, never listed in the XSDT */
    if (!memcmp(t, "DSDT", SIG_LEN) || !memcmp(t, "FACS", SIG_LEN))
        return DROP_POLICY;
    if (!memcmp(t, "FACP", SIG_LEN) &&
        (*len < FADT_LEN_MIN || *len > FADT_LEN_MAX))
        return DROP_BAD;
    if (!memcmp(t, "APIC", SIG_LEN) && *len < MADT_OFF_ENTRIES)
        return DROP_BAD;
    return KEEP;
}

/* Number of host tables copied (capped at ACPI_COPY_TABLES_MAX); with log,
 * says what is left out and why. */
static size_t count_kept(const struct acpi_host *h, bool log)
{
    size_t n = 0, total = root_count(&h->ai);
    for (size_t i = 0; i < total; i++) {
        uint64_t addr = root_entry(&h->ai, i);
        uint32_t len;
        enum verdict v = classify(addr, &len);
        if (v == KEEP && n == ACPI_COPY_TABLES_MAX)
            v = DROP_BAD;
        if (v == KEEP) {
            n++;
        } else if (log && v == DROP_POLICY) {
            pv_info("acpi: guest copy leaves out host %.4s", (const char *)phys(addr));
        } else if (log) {
            pv_warn("acpi: guest copy drops root entry %zu at 0x%llx (%s)", i,
                    (unsigned long long)addr,
                    n == ACPI_COPY_TABLES_MAX ? "too many tables"
                                              : "bad length or checksum");
        }
    }
    return n;
}

static void emit_xsdt(struct out *o, const struct acpi_host *h, uint64_t at,
                      const uint64_t *entries, size_t n)
{
    uint8_t hdr[SDT_HDR_LEN];
    memcpy(hdr, phys(h->ai.root), SDT_HDR_LEN);
    memcpy(hdr, "XSDT", SIG_LEN);
    wr32(hdr + SDT_OFF_LENGTH, (uint32_t)(SDT_HDR_LEN + n * XSDT_ENTRY_LEN));
    hdr[SDT_OFF_REVISION] = XSDT_REVISION;
    hdr[SDT_OFF_CHECKSUM] = 0;
    uint8_t s = (uint8_t)(sum8(hdr, sizeof(hdr)) +
                          sum8((const uint8_t *)entries, n * XSDT_ENTRY_LEN));
    hdr[SDT_OFF_CHECKSUM] = (uint8_t)-s;
    out_poke(o, at, hdr, sizeof(hdr));
    out_poke(o, at + SDT_HDR_LEN, entries, n * XSDT_ENTRY_LEN);
}

static void emit_rsdp(struct out *o, const struct acpi_host *h, gpa_t xsdt)
{
    uint8_t r[RSDP_V2_LEN];
    memset(r, 0, sizeof(r));
    memcpy(r, RSDP_SIGNATURE, RSDP_SIG_LEN);
    memcpy(r + RSDP_OFF_OEMID, phys(h->ai.rsdp) + RSDP_OFF_OEMID, RSDP_OEMID_LEN);
    r[RSDP_OFF_REVISION] = RSDP_REVISION_2;
    wr32(r + RSDP_OFF_RSDT, 0);
    wr32(r + RSDP_OFF_LENGTH, RSDP_V2_LEN);
    wr64(r + RSDP_OFF_XSDT, xsdt);
    r[RSDP_OFF_CHECKSUM] = (uint8_t)-sum8(r, RSDP_V1_LEN);
    r[RSDP_OFF_EXT_CHECKSUM] = (uint8_t)-sum8(r, RSDP_V2_LEN);
    out_poke(o, 0, r, sizeof(r));
}

/* RSDP at 0, XSDT after it, FACS, DSDT, then the root's tables in order. */
static void emit_all(const struct acpi_host *h, struct out *o)
{
    uint64_t entries[ACPI_COPY_TABLES_MAX];
    size_t n = count_kept(h, false), k = 0;
    gpa_t facs = 0, dsdt = 0;
    uint32_t len;

    o->off = RSDP_V2_LEN;
    gpa_t xsdt = out_align(o, ACPI_TABLE_ALIGN);
    o->off += SDT_HDR_LEN + n * XSDT_ENTRY_LEN;
    if ((len = facs_len(h->facs)) != 0) {
        facs = out_align(o, FACS_ALIGN);
        out_put(o, phys(h->facs), len);
    }
    if ((len = table_len(h->ai.dsdt)) != 0) {
        dsdt = out_align(o, ACPI_TABLE_ALIGN);
        out_put(o, phys(h->ai.dsdt), len);
    }
    for (size_t i = 0, total = root_count(&h->ai); i < total && k < n; i++) {
        uint64_t addr = root_entry(&h->ai, i);
        if (classify(addr, &len) != KEEP)
            continue;
        const uint8_t *t = phys(addr);
        entries[k++] = out_align(o, ACPI_TABLE_ALIGN);
        if (!memcmp(t, "FACP", SIG_LEN))
            emit_fadt(o, t, len, facs, dsdt);
        else if (!memcmp(t, "APIC", SIG_LEN))
            emit_madt(o, t, len, h->boot_apic_id);
        else
            out_put(o, t, len);
    }
    emit_xsdt(o, h, xsdt - o->base, entries, k);
    emit_rsdp(o, h, xsdt);
}

/* ---- scan --------------------------------------------------------------- */

static uint16_t io_port(uint64_t v) { return v <= IO_PORT_MAX ? (uint16_t)v : 0; }

/* A fixed-hardware block's port: the 32-bit block, else the X_ block if it is I/O. */
static uint16_t pm1_port(const uint8_t *f, uint32_t flen, uint32_t legacy,
                         uint32_t x_off)
{
    if (legacy)
        return io_port(legacy);
    if (flen < x_off + GAS_LEN || f[x_off + GAS_OFF_SPACE] != GAS_SPACE_IO)
        return 0;
    return io_port(rd64(f + x_off + GAS_OFF_ADDRESS));
}

/* The fixed-hardware blocks in FADT order: PM1a/b event, PM1a/b control,
 * PM2 control, PM timer, GPE0, GPE1. The a and b blocks of PM1 event (and
 * of PM1 control) each decode the one length the FADT gives for both. */
static const uint8_t pm_len_index[PM_BLK_COUNT] = { 0, 0, 1, 1, 2, 3, 4, 5 };

static void scan_pm_blocks(const uint8_t *f, uint32_t flen, struct guest_devices *d)
{
    if (flen < FADT_OFF_PM_LENGTHS + 6u)
        return;
    for (int b = 0; b < PM_BLK_COUNT; b++) {
        uint32_t legacy = rd32(f + FADT_OFF_PM1A_EVT + 4u * (uint32_t)b);
        uint16_t port = pm1_port(f, flen, legacy, FADT_OFF_X_PM1A_EVT + GAS_LEN * (uint32_t)b);
        uint8_t len = f[FADT_OFF_PM_LENGTHS + pm_len_index[b]];
        if (port && len && (uint32_t)port + len - 1u <= IO_PORT_MAX) {
            d->pm_port[b] = port;
            d->pm_len[b] = len;
        }
    }
}

static void scan_fadt(struct acpi_host *h)
{
    const uint8_t *f = phys(h->ai.fadt);
    uint32_t flen = rd32(f + SDT_OFF_LENGTH);
    scan_pm_blocks(f, flen, &h->dev);
    h->dev.pm1a_cnt = pm1_port(f, flen, h->ai.pm1a_cnt, FADT_OFF_X_PM1A_CNT);
    h->dev.pm1b_cnt = pm1_port(f, flen, h->ai.pm1b_cnt, FADT_OFF_X_PM1B_CNT);
    h->dev.s5_found = h->ai.s5_found;
    h->dev.s5_typa = h->ai.slp_typa;
    h->dev.s5_typb = h->ai.slp_typb;
    uint64_t facs = 0;
    if (flen >= FADT_OFF_X_FIRMWARE_CTRL + 8)
        facs = rd64(f + FADT_OFF_X_FIRMWARE_CTRL);
    if (!facs)
        facs = rd32(f + FADT_OFF_FIRMWARE_CTRL);
    if (facs && !facs_len(facs))
        pv_warn("acpi: host FACS at 0x%llx is not valid; guest gets none",
                (unsigned long long)facs);
    h->facs = facs_len(facs) ? facs : 0;
    if (!table_len(h->ai.dsdt))
        pv_warn("acpi: host DSDT at 0x%llx is not valid; guest gets none",
                (unsigned long long)h->ai.dsdt);
}

static void scan_madt(struct acpi_host *h)
{
    const uint8_t *m = phys(h->madt);
    uint32_t len = table_len(h->madt), id = 0, cpus = 0;
    if (len < MADT_OFF_ENTRIES) {
        h->madt = 0;
        return;
    }
    h->dev.lapic = rd32(m + MADT_OFF_LAPIC_ADDR);
    h->n_ioapic = 0;
    MADT_FOR_EACH(m, len, off) {
        const uint8_t *e = m + off;
        uint8_t elen = e[MADT_ENT_OFF_LEN];
        if (e[0] == MADT_LAPIC_OVERRIDE && elen >= MADT_OVERRIDE_LEN) {
            h->dev.lapic = rd64(e + MADT_OVERRIDE_OFF_ADDR);
        } else if (e[0] == MADT_IOAPIC && elen >= MADT_IOAPIC_LEN) {
            if (h->n_ioapic < ACPI_COPY_IOAPIC_MAX)
                h->ioapic[h->n_ioapic++] = rd32(e + MADT_IOAPIC_OFF_ADDR);
            else
                pv_warn("acpi: more than %d IOAPICs; the guest gets the first %d",
                        ACPI_COPY_IOAPIC_MAX, ACPI_COPY_IOAPIC_MAX);
        }
        cpus += is_cpu_entry(e);
    }
    h->dev.ioapic = h->n_ioapic ? h->ioapic[0] : 0;
    uint32_t pick = madt_pick(m, len, h->boot_apic_id);
    if (pick && cpu_enabled(m + pick, &id))
        pv_info("acpi: guest MADT keeps the processor with APIC ID %u, drops %u "
                "other processor entries", id, cpus - 1);
    else
        pv_warn("acpi: host MADT has no enabled processor; guest MADT has none");
}

void acpi_copy_scan(uint64_t host_rsdp, uint32_t boot_apic_id,
                    struct acpi_host *h)
{
    memset(h, 0, sizeof(*h));
    h->boot_apic_id = boot_apic_id;
    h->dev.lapic = ACPI_DEFAULT_LAPIC;
    h->dev.ioapic = h->ioapic[0] = ACPI_DEFAULT_IOAPIC;
    h->n_ioapic = 1;
    if (!host_rsdp) {
        pv_info("acpi: host has no RSDP: guest gets no ACPI tables");
        return;
    }
    if (acpi_init(&h->ai, host_rsdp) < 0) {
        pv_warn("acpi: host tables unusable: guest gets no ACPI tables");
        memset(&h->ai, 0, sizeof(h->ai));
        return;
    }
    h->present = true;
    scan_fadt(h);
    h->madt = acpi_find_table(&h->ai, "APIC");
    if (h->madt)
        scan_madt(h);
    uint64_t hpet = acpi_find_table(&h->ai, "HPET");
    if (hpet && table_len(hpet) >= HPET_LEN_MIN &&
        phys(hpet)[HPET_OFF_BASE + GAS_OFF_SPACE] == GAS_SPACE_MEMORY)
        h->dev.hpet = rd64(phys(hpet) + HPET_OFF_BASE + GAS_OFF_ADDRESS);
    count_kept(h, true);

    struct out o = { 0 };
    emit_all(h, &o);
    h->guest_size = o.off;
}

int acpi_copy_write(const struct acpi_host *h, struct guest_mm *mm, gpa_t area,
                    uint64_t size, gpa_t *rsdp_gpa)
{
    *rsdp_gpa = 0;
    if (!h->present)
        return 0;
    struct out o = { .mm = mm, .base = area, .cap = size };
    emit_all(h, &o);
    if (o.rc)
        return o.rc;
    *rsdp_gpa = area;
    return 0;
}

/*
 * Test fixtures for guest construction (test_bzimage.c, test_guest_*.c):
 *  - a synthetic bzImage: boot sector + setup with the header fields at the
 *    boot.rst offsets, then a patterned protected-mode part; staged as the
 *    EFI front end stages files (page aligned, zero-filled to a page);
 *  - synthetic host ACPI tables in heap memory (or below 2 GiB, for 32-bit
 *    pointers): RSDP, XSDT or RSDT, FADT, DSDT with \_S5_, FACS, MADT with
 *    two CPUs + IOAPIC + ISO + LAPIC NMI, HPET, MCFG, SRAT, SSDT.
 * Include after <cmocka.h>.
 */
#ifndef PV_TESTS_UNIT_GUEST_FAKE_H
#define PV_TESTS_UNIT_GUEST_FAKE_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/lib/types.h"
#include "guest/bzimage.h"

/* ---- bzImage ------------------------------------------------------------- */

struct fake_kernel_opts {
    uint16_t version;
    uint8_t loadflags, relocatable, setup_sects, jump_disp, jump_op;
    uint16_t xloadflags, boot_flag;
    uint32_t magic, align, init_size, cmdline_size, initrd_addr_max, syssize;
    uint64_t pref, pm_size;
    bool syssize_set;
};

static inline struct fake_kernel_opts fake_kernel_defaults(void)
{
    return (struct fake_kernel_opts){
        .version = 0x020f,
        .loadflags = BZ_LOADED_HIGH,
        .relocatable = 1,
        .setup_sects = 4,
        .jump_disp = 0x6a, /* header ends at 0x26c, as in 2.15 kernels */
        .jump_op = 0xeb,
        .xloadflags = BZ_XLF_KERNEL_64 | BZ_XLF_CAN_BE_LOADED_ABOVE_4G,
        .boot_flag = BZ_BOOT_FLAG,
        .magic = BZ_HEADER_MAGIC,
        .align = 0x200000,
        .init_size = 0x400000,
        .cmdline_size = 2047,
        .initrd_addr_max = 0x7fffffff,
        .pref = 0x1000000,
        .pm_size = 3 * 4096 + 100,
    };
}

/* Byte i of the protected-mode part. */
static inline uint8_t fake_pm_byte(uint64_t i)
{
    return (uint8_t)((i * 131u + 7u) ^ (i >> 9));
}

static inline void fk_put(uint8_t *p, uint32_t off, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[off + (uint32_t)i] = (uint8_t)(v >> (8 * i));
}

/* Setup size as the parser computes it. */
static inline uint64_t fake_setup_size(const struct fake_kernel_opts *o)
{
    return (uint64_t)((o->setup_sects ? o->setup_sects : 4) + 1) * 512;
}

/* A staged bzImage; *size = file size. free() it. */
static inline uint8_t *fake_bzimage(const struct fake_kernel_opts *o,
                                    uint64_t *size)
{
    uint64_t setup = fake_setup_size(o);
    *size = setup + o->pm_size;
    size_t alloc = ALIGN_UP(*size ? *size : 1, PAGE_SIZE);
    uint8_t *img = aligned_alloc(PAGE_SIZE, alloc);
    assert_non_null(img);
    memset(img, 0, alloc);
    for (uint64_t i = 0; i < setup && i < 0x1f1; i++)
        img[i] = (uint8_t)(0xa0 + i); /* boot sector garbage */
    fk_put(img, BZ_OFF_SETUP_SECTS, o->setup_sects, 1);
    fk_put(img, BZ_OFF_SYSSIZE, o->syssize_set ? o->syssize : o->pm_size / 16, 4);
    fk_put(img, BZ_OFF_BOOT_FLAG, o->boot_flag, 2);
    fk_put(img, BZ_OFF_JUMP, o->jump_op, 1);
    fk_put(img, BZ_OFF_JUMP_DISP, o->jump_disp, 1);
    fk_put(img, BZ_OFF_HEADER, o->magic, 4);
    fk_put(img, BZ_OFF_VERSION, o->version, 2);
    fk_put(img, BZ_OFF_LOADFLAGS, o->loadflags, 1);
    fk_put(img, BZ_OFF_HEAP_END_PTR, 0x1234, 2); /* loader field: overwritten */
    fk_put(img, BZ_OFF_INITRD_ADDR_MAX, o->initrd_addr_max, 4);
    fk_put(img, BZ_OFF_KERNEL_ALIGNMENT, o->align, 4);
    fk_put(img, BZ_OFF_RELOCATABLE, o->relocatable, 1);
    fk_put(img, BZ_OFF_XLOADFLAGS, o->xloadflags, 2);
    fk_put(img, BZ_OFF_CMDLINE_SIZE, o->cmdline_size, 4);
    fk_put(img, BZ_OFF_SETUP_DATA, 0xdeadbeef, 8); /* loader field: cleared */
    fk_put(img, BZ_OFF_PREF_ADDRESS, o->pref, 8);
    fk_put(img, BZ_OFF_INIT_SIZE, o->init_size, 4);
    fk_put(img, 0x264, 0x5a5a5a5a, 4); /* handover_offset: copied as is */
    for (uint64_t i = 0; i < o->pm_size; i++)
        img[setup + i] = fake_pm_byte(i);
    return img;
}

/* ---- host ACPI tables ---------------------------------------------------- */

struct fake_acpi_opts {
    bool low32;              /* tables below 2 GiB, 32-bit pointers */
    bool rsdt;               /* RSDP revision 0 + RSDT (needs low32) */
    bool first_cpu_disabled; /* MADT: CPU 0 not enabled */
    bool x2apic;             /* MADT: the CPUs as x2APIC entries */
    bool bad_rsdp_checksum;
};

struct fake_acpi {
    uint8_t *arena;
    size_t used, cap;
    bool mapped;
    uint64_t rsdp, root, fadt, dsdt, facs, madt, hpet, mcfg, srat, ssdt;
};

#define FAKE_ACPI_ARENA (64u << 10)
#define FAKE_PM1A_CNT 0x604
#define FAKE_S5_TYPA 5
#define FAKE_S5_TYPB 6
#define FAKE_HPET 0xfed00000ull
#define FAKE_IOAPIC 0xfec00000ull
#define FAKE_LAPIC 0xfee00000ull

static inline uint8_t *fa_alloc(struct fake_acpi *fa, size_t n, size_t align)
{
    fa->used = ALIGN_UP(fa->used, align);
    assert_true(fa->used + n <= fa->cap);
    uint8_t *p = fa->arena + fa->used;
    fa->used += n;
    return p;
}

static inline uint8_t fa_sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

static inline uint8_t *fa_table(struct fake_acpi *fa, const char *sig,
                                uint32_t len, uint8_t rev)
{
    uint8_t *t = fa_alloc(fa, len, 16);
    memcpy(t, sig, 4);
    fk_put(t, 4, len, 4);
    t[8] = rev;
    memcpy(t + 10, "PVTEST", 6);
    memcpy(t + 16, "FAKETBL ", 8);
    fk_put(t, 24, 1, 4);
    return t;
}

static inline void fa_seal(uint8_t *t)
{
    uint32_t len = (uint32_t)(t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24);
    t[9] = 0;
    t[9] = (uint8_t)-fa_sum(t, len);
}

static inline uint64_t fa_addr(const void *p) { return (uint64_t)(uintptr_t)p; }

/* MADT: LAPIC address, flags, CPU 0 and 1, IOAPIC, ISO, LAPIC NMI. */
static inline uint8_t *fa_madt(struct fake_acpi *fa, const struct fake_acpi_opts *o)
{
    uint32_t cpu_len = o->x2apic ? 16 : 8;
    uint32_t len = 44 + 2 * cpu_len + 12 + 10 + 6;
    uint8_t *t = fa_table(fa, "APIC", len, 5), *e = t + 44;
    fk_put(t, 36, FAKE_LAPIC, 4);
    fk_put(t, 40, 1, 4); /* PCAT_COMPAT */
    for (uint32_t cpu = 0; cpu < 2; cpu++, e += cpu_len) {
        uint32_t enabled = (cpu == 0 && o->first_cpu_disabled) ? 0 : 1;
        e[0] = o->x2apic ? 9 : 0;
        e[1] = (uint8_t)cpu_len;
        if (o->x2apic) {
            fk_put(e, 4, 0x100 + cpu, 4); /* x2APIC ID */
            fk_put(e, 8, enabled, 4);
            fk_put(e, 12, cpu, 4);        /* UID */
        } else {
            e[2] = (uint8_t)cpu;          /* ACPI processor UID */
            e[3] = (uint8_t)(cpu + 2);    /* APIC ID */
            fk_put(e, 4, enabled, 4);
        }
    }
    e[0] = 1, e[1] = 12, e[2] = 8;        /* IOAPIC id 8 */
    fk_put(e, 4, FAKE_IOAPIC, 4);
    e += 12;
    e[0] = 2, e[1] = 10, e[3] = 0;        /* ISO: IRQ0 -> GSI 2 */
    fk_put(e, 4, 2, 4);
    e += 10;
    e[0] = 4, e[1] = 6, e[2] = 0xff, e[5] = 1; /* LAPIC NMI, all CPUs, LINT1 */
    fa_seal(t);
    return t;
}

static inline void fake_acpi_build(struct fake_acpi *fa, const struct fake_acpi_opts *o)
{
    memset(fa, 0, sizeof(*fa));
    fa->cap = FAKE_ACPI_ARENA;
    if (o->low32) {
        void *p = mmap(NULL, fa->cap, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        assert_true(p != MAP_FAILED);
        fa->arena = p;
        fa->mapped = true;
    } else {
        fa->arena = aligned_alloc(PAGE_SIZE, fa->cap);
        assert_non_null(fa->arena);
    }
    memset(fa->arena, 0, fa->cap);

    uint8_t *facs = fa_alloc(fa, 64, 64);
    memcpy(facs, "FACS", 4);
    fk_put(facs, 4, 64, 4);
    fa->facs = fa_addr(facs);

    static const uint8_t aml[] = {
        0x10, 0x05, '_', 'S', 'B', '_', 0x00,             /* some bytes */
        0x08, '_', 'S', '5', '_', 0x12, 0x0a, 0x04,        /* Name(_S5_, Package(4) */
        0x0a, FAKE_S5_TYPA, 0x0a, FAKE_S5_TYPB, 0x00, 0x00, /* {5, 6, 0, 0}) */
    };
    uint8_t *dsdt = fa_table(fa, "DSDT", 36 + sizeof(aml), 2);
    memcpy(dsdt + 36, aml, sizeof(aml));
    fa_seal(dsdt);
    fa->dsdt = fa_addr(dsdt);

    uint8_t *fadt = fa_table(fa, "FACP", 276, 6);
    fk_put(fadt, 64, FAKE_PM1A_CNT, 4);
    /* q35's other fixed-hardware blocks: PM1a event, PM timer, GPE0 */
    fk_put(fadt, 56, FAKE_PM1A_CNT - 4, 4);
    fk_put(fadt, 76, FAKE_PM1A_CNT + 4, 4);
    fk_put(fadt, 80, FAKE_PM1A_CNT + 0x1C, 4);
    fk_put(fadt, 88, 4, 1);   /* PM1_EVT_LEN */
    fk_put(fadt, 89, 2, 1);   /* PM1_CNT_LEN */
    fk_put(fadt, 91, 4, 1);   /* PM_TMR_LEN */
    fk_put(fadt, 92, 16, 1);  /* GPE0_BLK_LEN */
    if (o->low32) {
        fk_put(fadt, 36, fa->facs, 4);
        fk_put(fadt, 40, fa->dsdt, 4);
    } else {
        fk_put(fadt, 132, fa->facs, 8);
        fk_put(fadt, 140, fa->dsdt, 8);
    }
    fa_seal(fadt);
    fa->fadt = fa_addr(fadt);

    fa->madt = fa_addr(fa_madt(fa, o));

    uint8_t *hpet = fa_table(fa, "HPET", 56, 1);
    hpet[40] = 0; /* system memory */
    fk_put(hpet, 44, FAKE_HPET, 8);
    fa_seal(hpet);
    fa->hpet = fa_addr(hpet);

    uint8_t *mcfg = fa_table(fa, "MCFG", 60, 1);
    fk_put(mcfg, 44, 0xb0000000, 8);
    fa_seal(mcfg);
    fa->mcfg = fa_addr(mcfg);
    uint8_t *srat = fa_table(fa, "SRAT", 48, 3);
    fa_seal(srat);
    fa->srat = fa_addr(srat);
    uint8_t *ssdt = fa_table(fa, "SSDT", 36 + 24, 2);
    for (int i = 0; i < 24; i++)
        ssdt[36 + i] = (uint8_t)(0x30 + i);
    fa_seal(ssdt);
    fa->ssdt = fa_addr(ssdt);

    const uint64_t list[] = { fa->fadt, fa->madt, fa->mcfg, fa->hpet, fa->srat, fa->ssdt };
    size_t n = sizeof(list) / sizeof(list[0]);
    uint32_t esz = o->rsdt ? 4 : 8;
    uint8_t *root = fa_table(fa, o->rsdt ? "RSDT" : "XSDT", 36 + (uint32_t)n * esz, 1);
    for (size_t i = 0; i < n; i++)
        fk_put(root, 36 + (uint32_t)i * esz, list[i], (int)esz);
    fa_seal(root);
    fa->root = fa_addr(root);

    uint8_t *rsdp = fa_alloc(fa, 36, 16);
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "PVOEM1", 6);
    rsdp[15] = o->rsdt ? 0 : 2;
    if (o->rsdt)
        fk_put(rsdp, 16, fa->root, 4);
    fk_put(rsdp, 20, 36, 4);
    if (!o->rsdt)
        fk_put(rsdp, 24, fa->root, 8);
    rsdp[8] = (uint8_t)-fa_sum(rsdp, 20);
    rsdp[32] = (uint8_t)-fa_sum(rsdp, 36);
    if (o->bad_rsdp_checksum)
        rsdp[8]++;
    fa->rsdp = fa_addr(rsdp);
}

static inline void fake_acpi_free(struct fake_acpi *fa)
{
    if (fa->mapped)
        munmap(fa->arena, fa->cap);
    else
        free(fa->arena);
    fa->arena = NULL;
}

#endif

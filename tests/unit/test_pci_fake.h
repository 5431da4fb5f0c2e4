/*
 * A fake PCI configuration space for host tests of vmm/pci.c and the swap
 * drivers' PCI parts: functions with 256-byte configuration arrays, BARs
 * that answer the write-ones sizing probe with their size mask, and
 * capability lists built by the test. Install with fake_pci_install().
 */
#ifndef PV_TESTS_UNIT_TEST_PCI_FAKE_H
#define PV_TESTS_UNIT_TEST_PCI_FAKE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vmm/drivers/pci.h"
#include "vmm/lib/size_mask.h"

#define FAKE_FUNCS 32

struct fake_fn {
    bool present;
    struct pci_addr a;
    uint8_t cfg[PCI_CFG_SIZE];
    uint32_t bar_mask[PCI_BARS];   /* what a BAR reads after writing all ones */
    uint8_t last_cap;              /* for chaining fake_add_cap */
    uint8_t next_cap_at;
    unsigned writes;               /* configuration writes seen */
    unsigned cmd_writes_with_decode_off;
};

static struct fake_fn fake_fns[FAKE_FUNCS];
static unsigned fake_reads;

static inline struct fake_fn *fake_find(struct pci_addr a)
{
    for (unsigned i = 0; i < FAKE_FUNCS; i++)
        if (fake_fns[i].present && pci_addr_eq(fake_fns[i].a, a))
            return &fake_fns[i];
    return NULL;
}

static inline uint32_t fake_get(const uint8_t *p, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static inline void fake_put(uint8_t *p, unsigned size, uint32_t v)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t fake_read(void *ctx, struct pci_addr a, uint16_t reg, unsigned size)
{
    (void)ctx;
    fake_reads++;
    struct fake_fn *f = fake_find(a);
    if (!f)
        return (uint32_t)access_size_mask(size);
    return fake_get(&f->cfg[reg], size);
}

static inline void fake_write(void *ctx, struct pci_addr a, uint16_t reg, unsigned size,
                              uint32_t v)
{
    (void)ctx;
    struct fake_fn *f = fake_find(a);
    if (!f)
        return;
    f->writes++;
    if (reg >= PCI_BAR0 && reg < PCI_BAR0 + 4 * PCI_BARS && size == 4) {
        unsigned i = (reg - PCI_BAR0) / 4;
        uint32_t cur = fake_get(&f->cfg[reg], 4);
        /* Read-only low bits (type) stay; writable bits take the value. */
        uint32_t ro_bits = (cur & PCI_BAR_IO) ? 0x3u : 0xFu;
        if (v == 0xFFFFFFFFu)
            v = f->bar_mask[i] | (cur & ro_bits);
        fake_put(&f->cfg[reg], 4, v);
        return;
    }
    fake_put(&f->cfg[reg], size, v);
}

static const struct pci_cfg_ops fake_pci_ops = { fake_read, fake_write, NULL };

static inline void fake_pci_install(void)
{
    memset(fake_fns, 0, sizeof(fake_fns));
    fake_reads = 0;
    pci_set_cfg_ops(&fake_pci_ops);
}

static inline struct fake_fn *fake_add(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor,
                                       uint16_t device, uint8_t cls, uint8_t sub,
                                       uint8_t progif, uint8_t header)
{
    for (unsigned i = 0; i < FAKE_FUNCS; i++) {
        struct fake_fn *f = &fake_fns[i];
        if (f->present)
            continue;
        f->present = true;
        f->a = (struct pci_addr){ 0, bus, dev, fn };
        fake_put(&f->cfg[PCI_VENDOR_ID], 2, vendor);
        fake_put(&f->cfg[PCI_DEVICE_ID], 2, device);
        f->cfg[PCI_CLASS] = cls;
        f->cfg[PCI_SUBCLASS] = sub;
        f->cfg[PCI_PROG_IF] = progif;
        f->cfg[PCI_HEADER_TYPE] = header;
        f->next_cap_at = PCI_CAP_MIN;
        return f;
    }
    return NULL;
}

/* A BAR: initial value (base | type bits) and the size it decodes. */
static inline void fake_bar32(struct fake_fn *f, unsigned i, uint32_t value, uint32_t size)
{
    fake_put(&f->cfg[PCI_BAR0 + 4 * i], 4, value);
    uint32_t lowbits = (value & PCI_BAR_IO) ? 0x3u : 0xFu;
    f->bar_mask[i] = ~(size - 1) & ~lowbits;
}

static inline void fake_bar64(struct fake_fn *f, unsigned i, uint64_t value, uint64_t size)
{
    uint64_t mask = ~(size - 1);
    fake_put(&f->cfg[PCI_BAR0 + 4 * i], 4, (uint32_t)value | PCI_BAR_MEM_TYPE_64);
    fake_put(&f->cfg[PCI_BAR0 + 4 * (i + 1)], 4, (uint32_t)(value >> 32));
    f->bar_mask[i] = (uint32_t)mask & ~0xFu;
    f->bar_mask[i + 1] = (uint32_t)(mask >> 32);
}

/* Append a capability (id, then body bytes from offset 2); its offset. */
static inline uint8_t fake_add_cap(struct fake_fn *f, uint8_t id, const uint8_t *body,
                                   uint8_t body_len)
{
    uint8_t at = f->next_cap_at;
    f->cfg[at] = id;
    f->cfg[at + 1] = 0;
    if (body_len)
        memcpy(&f->cfg[at + 2], body, body_len);
    if (f->last_cap)
        f->cfg[f->last_cap + 1] = at;
    else
        f->cfg[PCI_CAP_PTR] = at;
    f->last_cap = at;
    f->next_cap_at = (uint8_t)((at + 2 + body_len + 3) & ~3u);
    fake_put(&f->cfg[PCI_STATUS], 2, PCI_STATUS_CAP_LIST);
    return at;
}

#endif

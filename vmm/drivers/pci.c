/* PCI configuration access, enumeration, BARs, capabilities; see pci.h. */
#include "vmm/drivers/pci.h"
#include "vmm/arch/arch.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"
#include "vmm/lib/size_mask.h"
#include "vmm/arch/paging_mmio.h"

#include <string.h>

/* Mechanism #1: CONFIG_ADDRESS = enable | bus | device | function | register. */
#define CF8_ADDRESS 0xCF8
#define CFC_DATA 0xCFC
#define CF8_ENABLE (1u << 31)
#define CF8_BUS_SHIFT 16
#define CF8_DEV_SHIFT 11
#define CF8_FN_SHIFT 8
#define CF8_REG_MASK 0xFCu
#define CFC_BYTE_MASK 0x3u

#define CAP_WALK_MAX 48u  /* (256 - 64) / 4: more hops than that is a loop */
#define BAR_WIDTH 4u
#define BAR_HI_SHIFT 32
#define IO_SIZE_MASK_HI 0xFFFF0000u  /* I/O BARs may hardwire the upper half to 0 */

static inline uint32_t port_in(uint16_t port, unsigned size)
{
    if (size == 1)
        return inb(port);
    if (size == 2) {
        uint16_t v;
        __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
        return v;
    }
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void port_out(uint16_t port, unsigned size, uint32_t v)
{
    if (size == 1)
        outb(port, (uint8_t)v);
    else if (size == 2)
        outw(port, (uint16_t)v);
    else
        outl(port, v);
}

static uint32_t cf8(struct pci_addr a, uint16_t reg)
{
    return CF8_ENABLE | (uint32_t)a.bus << CF8_BUS_SHIFT | (uint32_t)a.dev << CF8_DEV_SHIFT |
           (uint32_t)a.fn << CF8_FN_SHIFT | (reg & CF8_REG_MASK);
}

/* Segment 0 only; the caller (pci_read*) refuses other segments. Interrupts
 * are off in the hypervisor, so the address/data pair cannot be split. */
static uint32_t port_read(void *ctx, struct pci_addr a, uint16_t reg, unsigned size)
{
    (void)ctx;
    outl(CF8_ADDRESS, cf8(a, reg));
    return port_in((uint16_t)(CFC_DATA + (reg & CFC_BYTE_MASK)), size);
}

static void port_write(void *ctx, struct pci_addr a, uint16_t reg, unsigned size, uint32_t v)
{
    (void)ctx;
    outl(CF8_ADDRESS, cf8(a, reg));
    port_out((uint16_t)(CFC_DATA + (reg & CFC_BYTE_MASK)), size, v);
}

const struct pci_cfg_ops pci_port_ops = { port_read, port_write, NULL };
static const struct pci_cfg_ops *ops = &pci_port_ops;

void pci_set_cfg_ops(const struct pci_cfg_ops *o) { ops = o ? o : &pci_port_ops; }

static bool reachable(struct pci_addr a, uint16_t reg, unsigned size)
{
    return a.seg == 0 && a.dev <= PCI_DEV_MAX && a.fn <= PCI_FN_MAX &&
           reg + size <= PCI_CFG_SIZE && (reg & (size - 1)) == 0;
}

static uint32_t cfg_read(struct pci_addr a, uint16_t reg, unsigned size)
{
    if (!reachable(a, reg, size))
        return (uint32_t)access_size_mask(size);
    return ops->read(ops->ctx, a, reg, size);
}

static void cfg_write(struct pci_addr a, uint16_t reg, unsigned size, uint32_t v)
{
    if (reachable(a, reg, size))
        ops->write(ops->ctx, a, reg, size, v);
}

uint8_t pci_read8(struct pci_addr a, uint16_t reg) { return (uint8_t)cfg_read(a, reg, 1); }
uint16_t pci_read16(struct pci_addr a, uint16_t reg) { return (uint16_t)cfg_read(a, reg, 2); }
uint32_t pci_read32(struct pci_addr a, uint16_t reg) { return cfg_read(a, reg, 4); }
void pci_write16(struct pci_addr a, uint16_t reg, uint16_t v) { cfg_write(a, reg, 2, v); }
void pci_write32(struct pci_addr a, uint16_t reg, uint32_t v) { cfg_write(a, reg, 4, v); }

bool pci_addr_eq(struct pci_addr a, struct pci_addr b)
{
    return a.seg == b.seg && a.bus == b.bus && a.dev == b.dev && a.fn == b.fn;
}

int pci_addr_format(struct pci_addr a, char *buf, size_t len)
{
    if (a.seg)
        return pv_snprintf(buf, len, "%04x:%02x:%02x.%x", (unsigned)a.seg, (unsigned)a.bus,
                           (unsigned)a.dev, (unsigned)a.fn);
    return pv_snprintf(buf, len, "%02x:%02x.%x", (unsigned)a.bus, (unsigned)a.dev,
                       (unsigned)a.fn);
}

bool pci_func_read(struct pci_addr a, struct pci_func *f)
{
    uint16_t vendor = pci_read16(a, PCI_VENDOR_ID);
    if (vendor == PCI_VENDOR_NONE || vendor == 0)
        return false;
    f->addr = a;
    f->vendor = vendor;
    f->device = pci_read16(a, PCI_DEVICE_ID);
    f->revision = pci_read8(a, PCI_REVISION);
    f->prog_if = pci_read8(a, PCI_PROG_IF);
    f->subclass = pci_read8(a, PCI_SUBCLASS);
    f->class_code = pci_read8(a, PCI_CLASS);
    f->header_type = pci_read8(a, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
    return true;
}

struct scan {
    const struct pci_match *match;   /* NULL: every function */
    struct pci_func *out;
    size_t max, n;
    uint8_t seen[(PCI_BUS_MAX + 1) / 8];
};

static void scan_bus(struct scan *s, uint8_t bus);

bool pci_match(const struct pci_match *m, const struct pci_func *f)
{
    return (m->vendor == PCI_MATCH_ANY || m->vendor == f->vendor) &&
           (m->device == PCI_MATCH_ANY || m->device == f->device) &&
           (m->class_code == PCI_MATCH_ANY || m->class_code == f->class_code) &&
           (m->subclass == PCI_MATCH_ANY || m->subclass == f->subclass);
}

static void found(struct scan *s, const struct pci_func *f)
{
    if (!s->match || pci_match(s->match, f)) {
        if (s->n < s->max)
            s->out[s->n] = *f;
        s->n++;
    }
    if (f->header_type == PCI_HEADER_BRIDGE && f->class_code == PCI_CLASS_BRIDGE &&
        f->subclass == PCI_SUBCLASS_PCI_BRIDGE) {
        uint8_t sec = pci_read8(f->addr, PCI_BRIDGE_SECONDARY_BUS);
        if (sec)   /* 0: the firmware did not number this bridge */
            scan_bus(s, sec);
    }
}

static void scan_bus(struct scan *s, uint8_t bus)
{
    if (s->seen[bus / 8] & (1u << (bus % 8)))
        return;
    s->seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
    for (uint8_t dev = 0; dev <= PCI_DEV_MAX; dev++) {
        struct pci_addr a = { 0, bus, dev, 0 };
        struct pci_func f;
        if (!pci_func_read(a, &f))
            continue;
        bool multi = pci_read8(a, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION;
        found(s, &f);
        for (uint8_t fn = 1; multi && fn <= PCI_FN_MAX; fn++) {
            a.fn = fn;
            if (pci_func_read(a, &f))
                found(s, &f);
        }
    }
}

size_t pci_find(const struct pci_match *m, struct pci_func *out, size_t max)
{
    struct scan s;
    memset(&s, 0, sizeof(s));
    s.match = m;
    s.out = out;
    s.max = max;
    scan_bus(&s, 0);
    return s.n;
}

size_t pci_enumerate(struct pci_func *out, size_t max) { return pci_find(NULL, out, max); }

void pci_bar_decode(uint32_t lo, uint32_t hi, uint32_t lo_mask, uint32_t hi_mask,
                    struct pci_bar *bar)
{
    memset(bar, 0, sizeof(*bar));
    if (lo & PCI_BAR_IO) {
        bar->io = true;
        bar->base = lo & PCI_BAR_IO_MASK;
        uint32_t m = lo_mask & PCI_BAR_IO_MASK;
        if (m && !(m & IO_SIZE_MASK_HI))
            m |= IO_SIZE_MASK_HI;
        bar->size = m ? (uint32_t)(~m + 1) : 0;
        return;
    }
    bar->prefetch = lo & PCI_BAR_MEM_PREFETCH;
    bar->is64 = (lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64;
    bar->base = lo & PCI_BAR_MEM_MASK;
    uint64_t m = lo_mask & PCI_BAR_MEM_MASK;
    if (bar->is64) {
        bar->base |= (uint64_t)hi << BAR_HI_SHIFT;
        m |= (uint64_t)hi_mask << BAR_HI_SHIFT;
    } else if (m) {
        m |= ~(uint64_t)UINT32_MAX;
    }
    bar->size = m ? ~m + 1 : 0;
}

unsigned pci_bar_probe(struct pci_addr a, unsigned idx, struct pci_bar *bar)
{
    memset(bar, 0, sizeof(*bar));
    if (idx >= PCI_BARS)
        return 0;
    uint16_t reg = (uint16_t)(PCI_BAR0 + idx * BAR_WIDTH);
    uint32_t lo = pci_read32(a, reg);
    bool is64 = !(lo & PCI_BAR_IO) &&
                (lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64;
    if (is64 && idx + 1 >= PCI_BARS)
        return 0;
    uint16_t cmd = pci_read16(a, PCI_COMMAND);
    /* No decoding while the BAR holds all ones: it would claim a random range. */
    pci_write16(a, PCI_COMMAND, cmd & (uint16_t)~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    pci_write32(a, reg, UINT32_MAX);
    uint32_t lo_mask = pci_read32(a, reg);
    pci_write32(a, reg, lo);
    uint32_t hi = 0, hi_mask = 0;
    if (is64) {
        uint16_t reg_hi = (uint16_t)(reg + BAR_WIDTH);
        hi = pci_read32(a, reg_hi);
        pci_write32(a, reg_hi, UINT32_MAX);
        hi_mask = pci_read32(a, reg_hi);
        pci_write32(a, reg_hi, hi);
    }
    pci_write16(a, PCI_COMMAND, cmd);
    pci_bar_decode(lo, hi, lo_mask, hi_mask, bar);
    return is64 ? 2 : 1;
}

uint8_t pci_cap_next(struct pci_addr a, uint8_t id, uint8_t after)
{
    if (!(pci_read16(a, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    uint8_t p = pci_read8(a, PCI_CAP_PTR) & PCI_CAP_PTR_MASK;
    bool past = after == 0;
    for (unsigned hops = 0; p >= PCI_CAP_MIN && hops < CAP_WALK_MAX; hops++) {
        if (past && pci_read8(a, (uint16_t)(p + PCI_CAP_OFF_ID)) == id)
            return p;
        if (p == after)
            past = true;
        p = pci_read8(a, (uint16_t)(p + PCI_CAP_OFF_NEXT)) & PCI_CAP_PTR_MASK;
    }
    return 0;
}

void pci_enable(struct pci_addr a, uint16_t bits)
{
    uint16_t cmd = pci_read16(a, PCI_COMMAND);
    pci_write16(a, PCI_COMMAND, cmd | bits | PCI_COMMAND_INTX_DISABLE);
}

volatile void *pci_bar_map(const struct pci_bar *bar)
{
    if (bar->io || !bar->size || !bar->base) {
        pv_err("pci: cannot map a %s BAR at 0x%llx (%llu bytes)", bar->io ? "port" : "memory",
               (unsigned long long)bar->base, (unsigned long long)bar->size);
        return NULL;
    }
    if (paging_map_mmio(bar->base, bar->size) < 0)
        return NULL;
    return (volatile void *)(uintptr_t)bar->base;
}

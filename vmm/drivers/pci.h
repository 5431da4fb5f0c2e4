/*
 * The hypervisor's own PCI configuration access: configuration mechanism #1
 * (ports 0xCF8/0xCFC, segment 0), enumeration from bus 0 through
 * PCI-to-PCI bridges, BAR decoding and sizing, the capability list, and
 * enabling decoding and bus mastering.
 *
 * Every access goes through a pci_cfg_ops; host tests install a fake
 * configuration space with pci_set_cfg_ops(). (The guest's filtered view of
 * the same ports is vmm/pci_filter.c: it hides every function but host and
 * ISA bridges, so the devices the hypervisor drives here — the swap disk —
 * are invisible to the guest.)
 */
#ifndef PV_VMM_PCI_H
#define PV_VMM_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Configuration header registers (type 0 and 1 where shared). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_PROG_IF 0x09
#define PCI_SUBCLASS 0x0A
#define PCI_CLASS 0x0B
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define PCI_BRIDGE_SECONDARY_BUS 0x19  /* type 1 header */
#define PCI_CFG_SIZE 0x100             /* mechanism #1 reaches 256 bytes */

#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAP_LIST (1u << 4)

#define PCI_HEADER_TYPE_MASK 0x7Fu
#define PCI_HEADER_MULTIFUNCTION 0x80u
#define PCI_HEADER_NORMAL 0x00u
#define PCI_HEADER_BRIDGE 0x01u

#define PCI_VENDOR_NONE 0xFFFFu
#define PCI_CLASS_STORAGE 0x01u
#define PCI_SUBCLASS_IDE 0x01u
#define PCI_CLASS_BRIDGE 0x06u
#define PCI_SUBCLASS_HOST_BRIDGE 0x00u
#define PCI_SUBCLASS_ISA_BRIDGE 0x01u
#define PCI_SUBCLASS_PCI_BRIDGE 0x04u

#define PCI_CAP_ID_VENDOR 0x09u
#define PCI_CAP_OFF_ID 0
#define PCI_CAP_OFF_NEXT 1
#define PCI_CAP_PTR_MASK 0xFCu
#define PCI_CAP_MIN 0x40u              /* capabilities live past the header */

/* BAR low bits. */
#define PCI_BAR_IO 0x1u
#define PCI_BAR_IO_MASK 0xFFFFFFFCu
#define PCI_BAR_MEM_TYPE_MASK 0x6u
#define PCI_BAR_MEM_TYPE_64 0x4u
#define PCI_BAR_MEM_PREFETCH 0x8u
#define PCI_BAR_MEM_MASK 0xFFFFFFF0u
#define PCI_BARS 6

#define PCI_DEV_MAX 31u
#define PCI_FN_MAX 7u
#define PCI_BUS_MAX 255u

struct pci_addr {
    uint16_t seg;
    uint8_t bus, dev, fn;
};

struct pci_cfg_ops {
    /* size is 1, 2 or 4 and reg is aligned to it; reg < PCI_CFG_SIZE. */
    uint32_t (*read)(void *ctx, struct pci_addr a, uint16_t reg, unsigned size);
    void (*write)(void *ctx, struct pci_addr a, uint16_t reg, unsigned size, uint32_t v);
    void *ctx;
};

/* Port mechanism #1 (the default), and swapping it for tests; NULL restores. */
extern const struct pci_cfg_ops pci_port_ops;
void pci_set_cfg_ops(const struct pci_cfg_ops *ops);

uint8_t pci_read8(struct pci_addr a, uint16_t reg);
uint16_t pci_read16(struct pci_addr a, uint16_t reg);
uint32_t pci_read32(struct pci_addr a, uint16_t reg);
void pci_write16(struct pci_addr a, uint16_t reg, uint16_t v);
void pci_write32(struct pci_addr a, uint16_t reg, uint32_t v);

/* One function found by enumeration. */
struct pci_func {
    struct pci_addr addr;
    uint16_t vendor, device;
    uint8_t class_code, subclass, prog_if, revision;
    uint8_t header_type;         /* without the multifunction bit */
};

/*
 * Every function on bus 0 and on the secondary buses of the PCI-to-PCI
 * bridges found (depth first, each bus once), in bus/device/function order
 * per bus. Stores at most max in out; returns how many exist.
 */
size_t pci_enumerate(struct pci_func *out, size_t max);
/* What pci_find looks for; PCI_MATCH_ANY in a field matches every value. */
#define PCI_MATCH_ANY 0xFFFFu
struct pci_match {
    uint16_t vendor, device;
    uint16_t class_code, subclass;   /* 16 bits so that PCI_MATCH_ANY is no real class */
};

/* Like pci_enumerate, keeping only the functions that match m. */
size_t pci_find(const struct pci_match *m, struct pci_func *out, size_t max);
/* Whether f matches m (pure). */
bool pci_match(const struct pci_match *m, const struct pci_func *f);

/* Reads one function's identity; false when nothing answers there. */
bool pci_func_read(struct pci_addr a, struct pci_func *f);

bool pci_addr_eq(struct pci_addr a, struct pci_addr b);
/* "00:04.0" (segment 0) or "0001:00:04.0"; returns pv_snprintf's value. */
int pci_addr_format(struct pci_addr a, char *buf, size_t len);

struct pci_bar {
    uint64_t base;   /* 0 when unassigned */
    uint64_t size;   /* 0 when the BAR is not implemented */
    bool io, is64, prefetch;
};

/*
 * Decode a BAR from its original value(s) and what reads back after writing
 * all ones (hi/hi_mask only matter for a 64-bit memory BAR). Pure.
 */
void pci_bar_decode(uint32_t lo, uint32_t hi, uint32_t lo_mask, uint32_t hi_mask,
                    struct pci_bar *bar);
/*
 * Size BAR idx of a type 0 function by the write-ones probe, with decoding
 * off meanwhile; the BAR and command register are restored. Returns the
 * number of BAR slots it uses (1, or 2 for a 64-bit BAR), or 0 for a bad
 * index (past the last BAR, or the upper half of a 64-bit BAR).
 */
unsigned pci_bar_probe(struct pci_addr a, unsigned idx, struct pci_bar *bar);

/*
 * Offset of the first capability with id after offset `after` (0: from the
 * start of the list); 0 when there is none. Malformed lists (loops,
 * pointers into the header) end the walk.
 */
uint8_t pci_cap_next(struct pci_addr a, uint8_t id, uint8_t after);

/* Set command bits (PCI_COMMAND_*); INTx is disabled too (polled drivers). */
void pci_enable(struct pci_addr a, uint16_t bits);

/*
 * Make a memory BAR's range addressable by the hypervisor (identity map,
 * uncached; firmware often places 64-bit BARs far above RAM) and return it
 * as a pointer; NULL (with an error line) if that is impossible.
 */
volatile void *pci_bar_map(const struct pci_bar *bar);

#endif

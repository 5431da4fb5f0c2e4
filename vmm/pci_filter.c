/*
 * PCI configuration access filter (mechanism #1, ports 0xCF8/0xCFC).
 *
 * Guest-physical addresses are not host-physical, so any device that can
 * DMA would write to the wrong memory if the guest drove it. The guest also
 * must not touch the hypervisor's own devices (the swap disk). Rule: a
 * function is visible only if it is a host bridge (class 06/00) or an ISA
 * bridge (06/01): no DMA, and Linux expects to find them. Every other
 * function reads as absent (all-ones). Writes to configuration space are
 * dropped and counted: the guest does not own the chipset. The guest ACPI
 * tables omit MCFG, so the guest uses these ports and not ECAM.
 *
 * One emulated function may be attached (the guest's disk, vmm/vdev/vpci.h):
 * its configuration space answers at its address, reads and writes, in place
 * of whatever the host has there (docs/guest-disk.md).
 *
 * The guest's CONFIG_ADDRESS is shadowed here; the host's configuration
 * space is read through the hypervisor's own PCI access (vmm/drivers/pci.h,
 * whose ops host tests replace with a fake configuration space).
 */
#include "vmm/arch/arch.h"
#include "vmm/drivers/pci.h"
#include "vmm/io_policy.h"
#include "vmm/lib/log.h"
#include "vmm/lib/size_mask.h"
#include "vmm/power.h"
#include "vmm/vcpu.h"
#include "vmm/vdev/vpci.h"

#define CFG_ENABLE (1u << 31)
#define CFG_BUS_SHIFT 16             /* bus 23:16 */
#define CFG_DEV_SHIFT 11             /* device 15:11 */
#define CFG_FN_SHIFT 8               /* function 10:8 */
#define CFG_BUS_MASK 0xFFu
#define CFG_DEV_MASK 0x1Fu
#define CFG_FN_MASK 0x7u
#define CFG_REG_MASK 0xFCu
#define RESET_CONTROL_RESET (1u << 2)

static uint32_t address;        /* the guest's view of CONFIG_ADDRESS */
static struct vpci *virt;       /* the emulated function, if any */
static struct pci_addr virt_addr;
static uint64_t dropped_writes, hidden_reads;

static struct pci_addr function_of(uint32_t addr)
{
    return (struct pci_addr){
        .seg = 0,
        .bus = (uint8_t)((addr >> CFG_BUS_SHIFT) & CFG_BUS_MASK),
        .dev = (uint8_t)((addr >> CFG_DEV_SHIFT) & CFG_DEV_MASK),
        .fn = (uint8_t)((addr >> CFG_FN_SHIFT) & CFG_FN_MASK),
    };
}

/* One read of the class dword (revision, prog-if, subclass, class): all
 * ones when no function answers. */
static bool visible(struct pci_addr a)
{
    uint32_t cls = pci_read32(a, PCI_REVISION);
    if (cls == UINT32_MAX)
        return false;
    uint8_t base = (uint8_t)(cls >> (8 * (PCI_CLASS - PCI_REVISION)));
    uint8_t sub = (uint8_t)(cls >> (8 * (PCI_SUBCLASS - PCI_REVISION)));
    return base == PCI_CLASS_BRIDGE &&
           (sub == PCI_SUBCLASS_HOST_BRIDGE || sub == PCI_SUBCLASS_ISA_BRIDGE);
}

bool pci_filter_free_slot(uint8_t first, uint8_t last, uint8_t *dev)
{
    for (unsigned d = first; d <= last; d++)
        if (!visible((struct pci_addr){ 0, 0, (uint8_t)d, 0 })) {
            *dev = (uint8_t)d;
            return true;
        }
    return false;
}

void pci_filter_attach(struct pci_addr a, struct vpci *v)
{
    virt_addr = a;
    virt = v;
}

static bool is_virt(struct pci_addr a)
{
    return virt && pci_addr_eq(a, virt_addr);
}

uint32_t pci_filter_in(uint16_t port, uint8_t size)
{
    uint32_t ones = (uint32_t)access_size_mask(size);
    if (port == PCI_CONFIG_ADDRESS && size == 4)
        return address;
    if (port == PCI_RESET_CONTROL && size == 1)
        return inb(PCI_RESET_CONTROL); /* the chipset's own register */
    if (port < PCI_CONFIG_DATA || !(address & CFG_ENABLE))
        return ones;
    struct pci_addr a = function_of(address);
    unsigned shift = (port - PCI_CONFIG_DATA) * 8;
    if (is_virt(a))
        return vpci_cfg_read(virt, (uint16_t)((address & CFG_REG_MASK) + shift / 8), size);
    if (!visible(a)) {
        hidden_reads++;
        return ones;
    }
    uint32_t v = pci_read32(a, (uint16_t)(address & CFG_REG_MASK));
    return (v >> shift) & ones;
}

void pci_filter_out(struct vcpu *v, uint16_t port, uint8_t size, uint32_t value)
{
    if (port == PCI_CONFIG_ADDRESS && size == 4) {
        address = value;
        return;
    }
    if (port == PCI_RESET_CONTROL && size == 1) {
        if (value & RESET_CONTROL_RESET)
            vcpu_stop(v, PV_EXIT_SUCCESS, "guest requested a reset (port 0xcf9); "
                                          "pagevisor does not reboot guests");
        return;
    }
    if (port >= PCI_CONFIG_DATA && (address & CFG_ENABLE) && is_virt(function_of(address))) {
        vpci_cfg_write(virt, (uint16_t)((address & CFG_REG_MASK) + (port - PCI_CONFIG_DATA)),
                       size, value);
        return;
    }
    if (dropped_writes++ < 8)
        pv_debug("pci: dropped guest config write 0x%x to %02x:%02x.%x reg 0x%x",
                 value, (address >> CFG_BUS_SHIFT) & CFG_BUS_MASK,
                 (address >> CFG_DEV_SHIFT) & CFG_DEV_MASK, (address >> CFG_FN_SHIFT) & CFG_FN_MASK,
                 (address & CFG_REG_MASK) + (port - PCI_CONFIG_DATA));
}

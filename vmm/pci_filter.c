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
 */
#include "vmm/arch/arch.h"
#include "vmm/io_policy.h"
#include "vmm/lib/log.h"
#include "vmm/power.h"
#include "vmm/vcpu.h"

#define CFG_ENABLE (1u << 31)
#define CFG_BDF_MASK 0x00FFFF00u     /* bus 23:16, device 15:11, function 10:8 */
#define CFG_REG_MASK 0xFCu
#define CFG_CLASS_REG 0x08u          /* revision 7:0, class code 31:8 */
#define CLASS_SHIFT 24
#define SUBCLASS_SHIFT 16
#define CLASS_BRIDGE 0x06u
#define SUBCLASS_HOST 0x00u
#define SUBCLASS_ISA 0x01u
#define RESET_CONTROL_RESET (1u << 2)

static uint32_t address;        /* the guest's view of CONFIG_ADDRESS */
static uint64_t dropped_writes, hidden_reads;

static uint32_t host_read32(uint32_t addr)
{
    outl(PCI_CONFIG_ADDRESS, addr);
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((uint16_t)PCI_CONFIG_DATA));
    return v;
}

static int visible(uint32_t addr)
{
    uint32_t cls = host_read32(CFG_ENABLE | (addr & CFG_BDF_MASK) | CFG_CLASS_REG);
    if (cls == 0xFFFFFFFFu)
        return 0;
    uint8_t base = (uint8_t)(cls >> CLASS_SHIFT), sub = (uint8_t)(cls >> SUBCLASS_SHIFT);
    return base == CLASS_BRIDGE && (sub == SUBCLASS_HOST || sub == SUBCLASS_ISA);
}

uint32_t pci_filter_in(uint16_t port, uint8_t size)
{
    uint32_t ones = size == 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFFu : 0xFFu;
    if (port == PCI_CONFIG_ADDRESS && size == 4)
        return address;
    if (port == PCI_RESET_CONTROL && size == 1)
        return inb(PCI_RESET_CONTROL);
    if (port < PCI_CONFIG_DATA || !(address & CFG_ENABLE))
        return ones;
    if (!visible(address)) {
        hidden_reads++;
        return ones;
    }
    uint32_t v = host_read32(address & ~3u & (CFG_ENABLE | CFG_BDF_MASK | CFG_REG_MASK));
    unsigned shift = (port - PCI_CONFIG_DATA) * 8;
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
    if (dropped_writes++ < 8)
        pv_debug("pci: dropped guest config write 0x%x to %02x:%02x.%x reg 0x%x",
                 value, (address >> 16) & 0xFF, (address >> 11) & 0x1F, (address >> 8) & 7,
                 (address & CFG_REG_MASK) + (port - PCI_CONFIG_DATA));
}

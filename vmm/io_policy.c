/* Guest port I/O policy; see io_policy.h. */
#include "vmm/io_policy.h"
#include "vmm/arch/arch.h"
#include "vmm/lib/log.h"
#include "vmm/power.h"
#include "vmm/console.h"

#define KBC_COMMAND 0x64
#define KBC_RESET 0xFE
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK 0x7u
#define PM1_SLP_EN (1u << 13)
#define PCI_PORTS 8

/* Legacy IDE channels: the guest gets no disks (pagevisor boots from one
 * and may swap to another), so their ports read as an empty bus (all-ones)
 * and writes are dropped, even though the controller is hidden from PCI:
 * a driver could still probe the fixed ports. */
static const struct { uint16_t port, count; } ide_ports[] = {
    { 0x1F0, 8 }, { 0x3F6, 1 }, { 0x170, 8 }, { 0x376, 1 },
};

static bool is_ide_port(uint16_t port)
{
    for (size_t i = 0; i < sizeof(ide_ports) / sizeof(ide_ports[0]); i++)
        if (port >= ide_ports[i].port && port < ide_ports[i].port + ide_ports[i].count)
            return true;
    return false;
}

static uint32_t size_mask(uint8_t size)
{
    return size == 4 ? 0xFFFFFFFFu : size == 2 ? 0xFFFFu : 0xFFu;
}

static uint32_t port_in(uint16_t port, uint8_t size)
{
    uint32_t v;
    if (size == 4)
        __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    else if (size == 2) {
        uint16_t w;
        __asm__ volatile("inw %1, %0" : "=a"(w) : "Nd"(port));
        v = w;
    } else
        v = inb(port);
    return v;
}

static void port_out(uint16_t port, uint8_t size, uint32_t v)
{
    if (size == 4)
        outl(port, v);
    else if (size == 2)
        outw(port, (uint16_t)v);
    else
        outb(port, (uint8_t)v);
}

void io_policy_ports(const struct vcpu *v,
                     void (*trap)(void *ctx, uint16_t port, uint16_t count), void *ctx)
{
    const struct guest_devices *d = &v->layout->dev;
    console_trap_ports(trap, ctx); /* the shared console UART: vmm/console.c */
    trap(ctx, PCI_CONFIG_ADDRESS, PCI_PORTS);
    if (d->pm1a_cnt)
        trap(ctx, d->pm1a_cnt, 2);
    if (d->pm1b_cnt)
        trap(ctx, d->pm1b_cnt, 2);
    trap(ctx, KBC_COMMAND, 1);
    trap(ctx, DEBUG_EXIT_PORT, 4);
    for (size_t i = 0; i < sizeof(ide_ports) / sizeof(ide_ports[0]); i++)
        trap(ctx, ide_ports[i].port, ide_ports[i].count);
}

/* A PM1 control write: S5 with SLP_EN is the guest powering off. */
static void pm1_write(struct vcpu *v, uint16_t port, uint8_t size, uint32_t value, uint8_t s5)
{
    const struct guest_devices *d = &v->layout->dev;
    if ((value & PM1_SLP_EN) && d->s5_found &&
        ((value >> PM1_SLP_TYP_SHIFT) & PM1_SLP_TYP_MASK) == s5) {
        vcpu_stop(v, PV_EXIT_SUCCESS, "guest powered off (ACPI S5)");
        return;
    }
    port_out(port, size, value);
}

void io_policy_handle(struct vcpu *v, const struct vm_exit *e)
{
    uint16_t port = e->u.io.port;
    uint8_t size = e->u.io.size;
    const struct guest_devices *d = &v->layout->dev;
    if (e->u.io.string) {
        vcpu_stop(v, PV_EXIT_FAILURE, "guest string I/O (%s%s) on trapped port 0x%x "
                  "is not emulated", e->u.io.rep ? "rep " : "", e->u.io.in ? "ins" : "outs",
                  port);
        return;
    }
    bool pci = port >= PCI_CONFIG_ADDRESS && port < PCI_CONFIG_ADDRESS + PCI_PORTS;
    bool console = console_owns_port(port);
    if (e->u.io.in) {
        uint32_t val = pci ? pci_filter_in(port, size)
                     : console ? console_guest_in(port, size)
                     : (port == DEBUG_EXIT_PORT || is_ide_port(port)) ? size_mask(size)
                     : port_in(port, size);
        uint64_t *rax = &v->gpr[GPR_RAX];
        /* IN writes AL/AX (merging) or EAX (zero-extending to RAX). */
        if (size == 4)
            *rax = val;
        else
            *rax = (*rax & ~(uint64_t)size_mask(size)) | val;
        return;
    }
    uint32_t val = (uint32_t)v->gpr[GPR_RAX] & size_mask(size);
    if (pci)
        pci_filter_out(v, port, size, val);
    else if (is_ide_port(port))
        return; /* the guest owns no disk */
    else if (console)
        console_guest_out(port, size, val);
    else if (d->pm1a_cnt && port == d->pm1a_cnt)
        pm1_write(v, port, size, val, d->s5_typa);
    else if (d->pm1b_cnt && port == d->pm1b_cnt)
        pm1_write(v, port, size, val, d->s5_typb);
    else if (port == KBC_COMMAND && val == KBC_RESET)
        vcpu_stop(v, PV_EXIT_SUCCESS, "guest requested a reset (keyboard controller); "
                                      "pagevisor does not reboot guests");
    else if (port == DEBUG_EXIT_PORT)
        vcpu_stop(v, val == 0 ? PV_EXIT_SUCCESS : PV_EXIT_FAILURE,
                  "guest wrote %u to the debug-exit port", val);
    else
        port_out(port, size, val);
}

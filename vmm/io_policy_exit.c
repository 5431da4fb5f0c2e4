/*
 * Guest port I/O exits: what each trapped entry of the policy does, on the
 * real ports where the device is the guest's. See io_policy.h.
 */
#include "vmm/arch/arch.h"
#include "vmm/console.h"
#include "vmm/drivers/serial.h"
#include "vmm/io_policy.h"
#include "vmm/io_string.h"
#include "vmm/lib/size_mask.h"
#include "vmm/lib/log.h"
#include "vmm/power.h"
#include "vmm/vcpu.h"

#define KBC_RESET 0xFE
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK 0x7u
#define PM1_SLP_EN (1u << 13)

static struct io_policy policy;
static bool policy_ready;

const struct io_policy *io_policy_current(void)
{
    return policy_ready ? &policy : NULL;
}

void io_policy_open_ports(struct vcpu *v,
                          void (*pass)(void *ctx, uint16_t port, uint16_t count), void *ctx)
{
    if (!policy_ready) {
        io_policy_init(&policy, &v->layout->dev, serial_port());
        policy_ready = true;
        for (size_t i = 0; i < policy.n; i++) {
            const struct io_range *r = &policy.ranges[i];
            if (r->action != IO_DENY)
                pv_debug("io: 0x%04x-0x%04x %s: %s", r->port, r->port + r->count - 1u,
                         r->action == IO_PASS ? "pass" : "trapped", r->name);
        }
    }
    io_policy_passthrough(&policy, pass, ctx);
}

/* Port accesses are 1, 2 or 4 bytes wide. */
static uint32_t size_mask(uint8_t size) { return (uint32_t)access_size_mask(size); }

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

/* A PM1 control write: S5 with SLP_EN is the guest powering off. */
static void pm1_write(struct vcpu *v, uint16_t port, uint8_t size, uint32_t value)
{
    const struct guest_devices *d = &v->layout->dev;
    uint8_t s5 = port == d->pm1b_cnt && d->pm1b_cnt ? d->s5_typb : d->s5_typa;
    if ((value & PM1_SLP_EN) && d->s5_found &&
        ((value >> PM1_SLP_TYP_SHIFT) & PM1_SLP_TYP_MASK) == s5) {
        vcpu_stop(v, PV_EXIT_SUCCESS, "guest powered off (ACPI S5)");
        return;
    }
    port_out(port, size, value);
}

static void write_port(struct vcpu *v, enum io_action a, uint16_t port, uint8_t size,
                       uint32_t val)
{
    switch (a) {
    case IO_PASS:
        port_out(port, size, val);
        return;
    case IO_CONSOLE:
        console_guest_out(port, size, val);
        return;
    case IO_PCI_CONFIG:
        pci_filter_out(v, port, size, val);
        return;
    case IO_PM1_CNT:
        pm1_write(v, port, size, val);
        return;
    case IO_KBC_COMMAND:
        if (val == KBC_RESET)
            vcpu_stop(v, PV_EXIT_SUCCESS, "guest requested a reset (keyboard controller); "
                                          "pagevisor does not reboot guests");
        else
            port_out(port, size, val);
        return;
    case IO_DEBUG_EXIT:
        vcpu_stop(v, val == 0 ? PV_EXIT_SUCCESS : PV_EXIT_FAILURE,
                  "guest wrote %u to the debug-exit port", val);
        return;
    case IO_DENY:
    default:
        io_policy_count_denied(&policy, port, size, false);
        return;
    }
}

static uint32_t read_port(enum io_action a, uint16_t port, uint8_t size)
{
    switch (a) {
    case IO_CONSOLE:
        return console_guest_in(port, size);
    case IO_PASS:
    case IO_PM1_CNT:
    case IO_KBC_COMMAND:
        return port_in(port, size);
    case IO_PCI_CONFIG:
        return pci_filter_in(port, size);
    case IO_DEBUG_EXIT:
        return size_mask(size);
    case IO_DENY:
    default:
        io_policy_count_denied(&policy, port, size, true);
        return size_mask(size);
    }
}

bool io_policy_handle(struct vcpu *v, const struct vm_exit *e)
{
    uint16_t port = e->u.io.port;
    uint8_t size = e->u.io.size;
    const char *name;
    enum io_action a = io_policy_lookup(&policy, port, size, &name);
    if (e->u.io.string && a == IO_DENY) {
        /* the empty bus answers the string forms too (vmm/io_string.h) */
        uint64_t n = 0;
        enum io_string_result r = io_string_open_bus(v, e, &n);
        for (uint64_t i = 0; i < n; i++)
            io_policy_count_denied(&policy, port, size, e->u.io.in);
        return r == IO_STRING_DONE;
    }
    if (e->u.io.string) {
        /* no device the guest is given is driven with INS/OUTS */
        vcpu_stop(v, PV_EXIT_FAILURE, "guest string I/O (%s%s) on port 0x%x (%s) "
                  "is not emulated", e->u.io.rep ? "rep " : "", e->u.io.in ? "ins" : "outs",
                  port, name);
        return false;
    }
    if (e->u.io.in) {
        uint32_t val = read_port(a, port, size);
        uint64_t *rax = &v->gpr[GPR_RAX];
        /* IN writes AL/AX (merging) or EAX (zero-extending to RAX). */
        if (size == 4)
            *rax = val;
        else
            *rax = (*rax & ~(uint64_t)size_mask(size)) | (val & size_mask(size));
        return true;
    }
    write_port(v, a, port, size, (uint32_t)v->gpr[GPR_RAX] & size_mask(size));
    return true;
}

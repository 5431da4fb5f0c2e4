/*
 * Guest port I/O: denied by default. The guest reaches exactly the legacy
 * platform devices it is given; every other port reads as an empty bus
 * (all ones) and drops writes, counted per port and logged rate-limited.
 * docs/security.md has the list with the reason for each entry.
 *
 *   pass      no exit: the guest drives the device itself
 *               PIC 0x20-0x21, 0xA0-0xA1 and its ELCR 0x4D0-0x4D1
 *               PIT 0x40-0x43, port B 0x61 (PIT gate, NMI status)
 *               RTC/CMOS 0x70-0x71, POST 0x80, PS/2 data 0x60
 *               the UARTs COM1-COM4 (IO_UART_ACTION)
 *               the ACPI fixed-hardware blocks the FADT names (PM1 event,
 *               PM2 control, PM timer, GPE0/GPE1)
 *   trapped   exits and is emulated (vmm/io_policy_exit.c)
 *               console     the hypervisor's console UART (data, IIR/FCR,
 *                           LCR, LSR; the LSR, and with `console-data
 *                           pass` the data port, only while input waits
 *                           for the guest): emulated by vmm/console.c, which
 *                           passes guest output on (a [pv] line never lands
 *                           mid-line) and takes the monitor escape out of
 *                           the guest's input
 *               PCI config  0xCF8-0xCFF through the filter (vmm/pci_filter.c);
 *                           0xCF9 resets are caught
 *               PM1 control the FADT's PM1a/PM1b control ports: S5 = the
 *                           guest powers off
 *               PS/2 cmd    0x64: reads pass, 0xFE (reset) stops the guest
 *               debug exit  QEMU's 0xF4: reads open bus, a write stops
 *   denied    everything else, the IDE ports and every I/O BAR included
 *
 * The pure part (this file's struct and lookups) is host-tested; the exit
 * handler with the real port accesses is vmm/io_policy_exit.c.
 */
#ifndef PV_VMM_IO_POLICY_H
#define PV_VMM_IO_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/guest.h"
#include "vmm/drivers/pci.h"

enum io_action {
    IO_DENY,         /* open bus: reads all ones, writes dropped, counted */
    IO_PASS,         /* the guest's own device: no exit */
    IO_CONSOLE,      /* the hypervisor's console UART (trapped) */
    IO_PCI_CONFIG,   /* 0xCF8-0xCFF through the PCI filter (trapped) */
    IO_PM1_CNT,      /* ACPI PM1 control: S5 is power-off (trapped) */
    IO_KBC_COMMAND,  /* 0x64: reset request caught (trapped) */
    IO_DEBUG_EXIT,   /* QEMU isa-debug-exit (trapped) */
};

/*
 * What the UARTs COM1-COM4 are to the guest. The hypervisor's own console
 * UART's data and status registers are trapped on top of this (IO_CONSOLE
 * entries, later in the table, win).
 */
#define IO_UART_ACTION IO_PASS

#define IO_POLICY_MAX_RANGES 48
#define IO_DENY_SLOTS 128         /* distinct denied ports counted one by one */
#define IO_LOG_BUDGET 64          /* per-port warning lines before summaries only */

struct io_range {
    uint16_t port;
    uint16_t count;
    enum io_action action;
    const char *name;
};

struct io_deny_count {
    uint16_t port;
    bool used;
    uint64_t reads, writes;
};

struct io_policy {
    struct io_range ranges[IO_POLICY_MAX_RANGES];
    size_t n;
    struct io_deny_count deny[IO_DENY_SLOTS];
    uint64_t denied_reads, denied_writes;
    uint64_t untracked;           /* denied accesses to ports beyond the slots */
    size_t ports_seen;            /* distinct denied ports counted */
    unsigned lines;               /* warning lines spent of IO_LOG_BUDGET */
};

/* Build the table for a guest with devices d whose console UART is at
 * console_base (0: none). Ranges later in the table win over earlier ones. */
void io_policy_init(struct io_policy *p, const struct guest_devices *d, uint16_t console_base);

/* What an access of size bytes at port gets: an access spanning ports
 * with different entries is denied as a whole. *name (may be NULL) gets
 * the entry's name, or "unassigned". */
enum io_action io_policy_lookup(const struct io_policy *p, uint16_t port, uint8_t size,
                                const char **name);

/* Call pass(ctx, first, count) for every run of ports the guest may reach
 * without an exit. The backends start from "every port exits" and clear
 * these. */
void io_policy_passthrough(const struct io_policy *p,
                           void (*pass)(void *ctx, uint16_t port, uint16_t count), void *ctx);

/* Count a denied access and log it rate-limited: a port's 1st, 2nd, 4th,
 * 8th, ... access while the line budget lasts, then one summary line each
 * time the total of denied accesses reaches a power of two. */
void io_policy_count_denied(struct io_policy *p, uint16_t port, uint8_t size, bool in);

/* Denied accesses counted for one port (reads + writes); 0 if untracked. */
uint64_t io_policy_denied_count(const struct io_policy *p, uint16_t port);

/* The policy's lines for the final statistics ("io denied-reads N", ...). */
void io_policy_render_stats(const struct io_policy *p,
                            void (*emit)(void *ctx, const char *line), void *ctx);

/* ---- the vCPU side (vmm/io_policy_exit.c) ------------------------------- */
struct vcpu;
struct vm_exit;

/* Build the vCPU's policy (once) and report its pass-through runs. */
void io_policy_open_ports(struct vcpu *v,
                          void (*pass)(void *ctx, uint16_t port, uint16_t count), void *ctx);
/* Handle one I/O exit. Returns true when the instruction is complete (the caller skips it);
 * false when it must run again (a REP string not finished) or the guest
 * was stopped. */
bool io_policy_handle(struct vcpu *v, const struct vm_exit *e);
/* The policy in force (NULL before io_policy_open_ports). */
const struct io_policy *io_policy_current(void);

/* PCI configuration filter (vmm/pci_filter.c). */
#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define PCI_RESET_CONTROL 0xCF9
uint32_t pci_filter_in(uint16_t port, uint8_t size);
/* The first device number in [first, last] on bus 0 whose function 0 the
 * guest sees as empty; false when none. */
bool pci_filter_free_slot(uint8_t first, uint8_t last, uint8_t *dev);
/* Show the emulated function v at a (vmm/vdev/vpci.h) from now on. */
struct vpci;
void pci_filter_attach(struct pci_addr a, struct vpci *v);
void pci_filter_out(struct vcpu *v, uint16_t port, uint8_t size, uint32_t value);

#endif

/* Guest port I/O policy, the pure part: the table, lookups, counters.
 * See io_policy.h for the list and docs/security.md for the reasons. */
#include "vmm/io_policy.h"
#include "vmm/drivers/ata.h"
#include "vmm/drivers/uart16550.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"
#include "vmm/power.h"

#include <string.h>

#define PCI_CONFIG_PORTS 8
#define DEBUG_EXIT_PORTS 4
#define ATA_IO_PORTS 8
#define ATA_CTRL_PORTS 1

/* The legacy platform every guest is given, in table order (later entries
 * win). The denied entries only name what a denied access hit: they pass
 * nothing. */
static const struct io_range platform[] = {
    { 0x000, 0x20, IO_DENY, "ISA DMA controller 1 (DMA-capable)" },
    { 0x020, 2, IO_PASS, "PIC master" },
    { 0x040, 4, IO_PASS, "PIT" },
    { 0x060, 1, IO_PASS, "PS/2 data" },
    { 0x061, 1, IO_PASS, "port B (PIT gate, NMI status)" },
    { 0x064, 1, IO_KBC_COMMAND, "PS/2 command" },
    { 0x070, 2, IO_PASS, "RTC/CMOS" },
    { 0x080, 1, IO_PASS, "POST" },
    { 0x081, 0xF, IO_DENY, "ISA DMA page registers (DMA-capable)" },
    { 0x092, 1, IO_DENY, "system control port A (host reset, A20)" },
    { 0x0A0, 2, IO_PASS, "PIC slave" },
    { 0x0B2, 2, IO_DENY, "APM/SMI command (host SMM)" },
    { 0x0C0, 0x20, IO_DENY, "ISA DMA controller 2 (DMA-capable)" },
    { DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS, IO_DEBUG_EXIT, "debug exit" },
    { ATA_PRIMARY_IO, ATA_IO_PORTS, IO_DENY, "IDE primary (pagevisor's disks)" },
    { ATA_PRIMARY_CTRL, ATA_CTRL_PORTS, IO_DENY, "IDE primary control (pagevisor's disks)" },
    { ATA_SECONDARY_IO, ATA_IO_PORTS, IO_DENY, "IDE secondary (pagevisor's disks)" },
    { ATA_SECONDARY_CTRL, ATA_CTRL_PORTS, IO_DENY, "IDE secondary control (pagevisor's disks)" },
    { 0x3F8, UART_PORTS, IO_UART_ACTION, "COM1" },
    { 0x2F8, UART_PORTS, IO_UART_ACTION, "COM2" },
    { 0x3E8, UART_PORTS, IO_UART_ACTION, "COM3" },
    { 0x2E8, UART_PORTS, IO_UART_ACTION, "COM4" },
    { 0x4D0, 2, IO_PASS, "PIC edge/level control (ELCR)" },
    { 0x510, 0xC, IO_DENY, "QEMU fw_cfg (DMA-capable)" },
    { PCI_CONFIG_ADDRESS, PCI_CONFIG_PORTS, IO_PCI_CONFIG, "PCI configuration" },
};

static const char *const pm_names[PM_BLK_COUNT] = {
    [PM_BLK_PM1A_EVT] = "ACPI PM1a event", [PM_BLK_PM1B_EVT] = "ACPI PM1b event",
    [PM_BLK_PM1A_CNT] = "ACPI PM1a control", [PM_BLK_PM1B_CNT] = "ACPI PM1b control",
    [PM_BLK_PM2_CNT] = "ACPI PM2 control", [PM_BLK_PM_TMR] = "ACPI PM timer",
    [PM_BLK_GPE0] = "ACPI GPE0", [PM_BLK_GPE1] = "ACPI GPE1",
};

static void add(struct io_policy *p, uint16_t port, uint16_t count, enum io_action a,
                const char *name)
{
    if (!count || p->n >= IO_POLICY_MAX_RANGES)
        return; /* the table is sized for the fixed entries plus the FADT's */
    p->ranges[p->n++] = (struct io_range){ port, count, a, name };
}

void io_policy_init(struct io_policy *p, const struct guest_devices *d, uint16_t console_base)
{
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < sizeof(platform) / sizeof(platform[0]); i++)
        p->ranges[p->n++] = platform[i];
    for (int b = 0; b < PM_BLK_COUNT; b++) {
        if (!d->pm_port[b])
            continue;
        bool control = b == PM_BLK_PM1A_CNT || b == PM_BLK_PM1B_CNT;
        add(p, d->pm_port[b], d->pm_len[b], control ? IO_PM1_CNT : IO_PASS, pm_names[b]);
    }
    /* The S5 ports the power-off path knows, even where the FADT gave no
     * block length (pm_len 0 above). */
    if (d->pm1a_cnt)
        add(p, d->pm1a_cnt, 2, IO_PM1_CNT, pm_names[PM_BLK_PM1A_CNT]);
    if (d->pm1b_cnt)
        add(p, d->pm1b_cnt, 2, IO_PM1_CNT, pm_names[PM_BLK_PM1B_CNT]);
    /* The console's receive and transmit path (vmm/console.c): data,
     * IIR/FCR, LCR and LSR; its IER, MCR, MSR and scratch stay the UART's. */
    if (console_base) {
        add(p, (uint16_t)(console_base + UART_DATA), 1, IO_CONSOLE, "console UART data");
        add(p, (uint16_t)(console_base + UART_IIR), 2, IO_CONSOLE,
            "console UART IIR/FCR and line control");
        add(p, (uint16_t)(console_base + UART_LSR), 1, IO_CONSOLE, "console UART line status");
    }
}

static const struct io_range *find(const struct io_policy *p, uint16_t port)
{
    for (size_t i = p->n; i-- > 0;) {
        const struct io_range *r = &p->ranges[i];
        if (port >= r->port && (uint32_t)port < (uint32_t)r->port + r->count)
            return r;
    }
    return NULL;
}

enum io_action io_policy_lookup(const struct io_policy *p, uint16_t port, uint8_t size,
                                const char **name)
{
    const struct io_range *r = find(p, port);
    for (uint32_t q = (uint32_t)port + 1; r && q < (uint32_t)port + size; q++)
        if (q > UINT16_MAX || find(p, (uint16_t)q) != r)
            r = NULL; /* straddles two entries, or wraps: no device answers that */
    if (name)
        *name = r ? r->name : "unassigned";
    return r ? r->action : IO_DENY;
}

void io_policy_passthrough(const struct io_policy *p,
                           void (*pass)(void *ctx, uint16_t port, uint16_t count), void *ctx)
{
    uint32_t start = 0;
    bool open = false;
    for (uint32_t port = 0; port <= UINT16_MAX + 1u; port++) {
        bool pass_here = port <= UINT16_MAX &&
                         io_policy_lookup(p, (uint16_t)port, 1, NULL) == IO_PASS;
        if (pass_here && !open) {
            start = port;
            open = true;
        } else if (!pass_here && open) {
            pass(ctx, (uint16_t)start, (uint16_t)(port - start));
            open = false;
        }
    }
}

static struct io_deny_count *slot(struct io_policy *p, uint16_t port, bool create)
{
    unsigned h = (port * 2654435761u) >> 25; /* 7 bits: IO_DENY_SLOTS */
    for (unsigned i = 0; i < IO_DENY_SLOTS; i++) {
        struct io_deny_count *c = &p->deny[(h + i) % IO_DENY_SLOTS];
        if (c->used && c->port == port)
            return c;
        if (!c->used) {
            if (!create)
                return NULL;
            c->used = true;
            c->port = port;
            p->ports_seen++;
            return c;
        }
    }
    return NULL;
}
_Static_assert(IO_DENY_SLOTS == 128, "slot() hashes to 7 bits");

static bool power_of_two(uint64_t n) { return n && !(n & (n - 1)); }

void io_policy_count_denied(struct io_policy *p, uint16_t port, uint8_t size, bool in)
{
    const char *name;
    io_policy_lookup(p, port, size, &name);
    if (in)
        p->denied_reads++;
    else
        p->denied_writes++;
    uint64_t total = p->denied_reads + p->denied_writes;
    struct io_deny_count *c = slot(p, port, true);
    if (!c) {
        p->untracked++;
    } else {
        uint64_t n = in ? ++c->reads : ++c->writes;
        if (power_of_two(n) && p->lines < IO_LOG_BUDGET) {
            p->lines++;
            pv_warn("io: guest %s %u byte(s) at port 0x%x (%s) denied: open bus "
                    "(%s #%llu at this port)", in ? "read of" : "write of", size, port, name,
                    in ? "read" : "write", (unsigned long long)n);
            return;
        }
    }
    if (p->lines >= IO_LOG_BUDGET && power_of_two(total))
        pv_warn("io: %llu denied port accesses on %zu ports so far (latest 0x%x, %s); "
                "per-port lines suppressed", (unsigned long long)total,
                p->ports_seen + (p->untracked ? 1 : 0), port, name);
}

uint64_t io_policy_denied_count(const struct io_policy *p, uint16_t port)
{
    const struct io_deny_count *c = slot((struct io_policy *)p, port, false);
    return c ? c->reads + c->writes : 0;
}

void io_policy_render_stats(const struct io_policy *p,
                            void (*emit)(void *ctx, const char *line), void *ctx)
{
    pv_emitf(emit, ctx, "io denied-reads %llu", (unsigned long long)p->denied_reads);
    pv_emitf(emit, ctx, "io denied-writes %llu", (unsigned long long)p->denied_writes);
    pv_emitf(emit, ctx, "io denied-ports %zu", p->ports_seen);
}

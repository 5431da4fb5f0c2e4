/* Unit tests for the guest port I/O policy (vmm/io_policy.c): every
 * allowed entry, the trapped ones, a sample of denied ports, the counters
 * and the rate-limited log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "vmm/drivers/ata.h"
#include "vmm/io_policy.h"

#define CONSOLE 0x3F8

/* QEMU q35's FADT: PM base 0x600 (PM1a event 4, control 2, timer 4), GPE0
 * at 0x620 (16 ports); no b blocks, no PM2. */
static struct guest_devices q35(void)
{
    struct guest_devices d;
    memset(&d, 0, sizeof(d));
    d.pm_port[PM_BLK_PM1A_EVT] = 0x600, d.pm_len[PM_BLK_PM1A_EVT] = 4;
    d.pm_port[PM_BLK_PM1A_CNT] = 0x604, d.pm_len[PM_BLK_PM1A_CNT] = 2;
    d.pm_port[PM_BLK_PM_TMR] = 0x608, d.pm_len[PM_BLK_PM_TMR] = 4;
    d.pm_port[PM_BLK_GPE0] = 0x620, d.pm_len[PM_BLK_GPE0] = 16;
    d.pm1a_cnt = 0x604;
    return d;
}

static struct io_policy pol;

static enum io_action at(uint16_t port)
{
    return io_policy_lookup(&pol, port, 1, NULL);
}

static void expect_range(uint16_t first, unsigned count, enum io_action a)
{
    for (unsigned p = first; p < first + count; p++) {
        if (at((uint16_t)p) != a)
            fail_msg("port 0x%x: action %d, expected %d", p, at((uint16_t)p), a);
    }
}

static void test_every_allowed_entry(void **state)
{
    (void)state;
    struct guest_devices d = q35();
    io_policy_init(&pol, &d, CONSOLE);
    expect_range(0x20, 2, IO_PASS);        /* PIC master */
    expect_range(0xA0, 2, IO_PASS);        /* PIC slave */
    expect_range(0x4D0, 2, IO_PASS);       /* ELCR */
    expect_range(0x40, 4, IO_PASS);        /* PIT */
    expect_range(0x61, 1, IO_PASS);        /* port B */
    expect_range(0x60, 1, IO_PASS);        /* PS/2 data */
    expect_range(0x64, 1, IO_KBC_COMMAND); /* PS/2 command */
    expect_range(0x70, 2, IO_PASS);        /* RTC */
    expect_range(0x80, 1, IO_PASS);        /* POST */
    expect_range(0x2F8, 8, IO_UART_ACTION);
    expect_range(0x3E8, 8, IO_UART_ACTION);
    expect_range(0x2E8, 8, IO_UART_ACTION);
    /* COM1 is the console: data, IIR/FCR, LCR and LSR trapped (the
     * monitor's receive path, vmm/console.c); IER, MCR, MSR, scratch the
     * UART's */
    assert_int_equal(at(0x3F8), IO_CONSOLE);
    expect_range(0x3F9, 1, IO_UART_ACTION);
    expect_range(0x3FA, 2, IO_CONSOLE);
    expect_range(0x3FC, 1, IO_UART_ACTION);
    assert_int_equal(at(0x3FD), IO_CONSOLE);
    expect_range(0x3FE, 2, IO_UART_ACTION);
    expect_range(0xCF8, 8, IO_PCI_CONFIG);
    expect_range(0xF4, 4, IO_DEBUG_EXIT);
    expect_range(0x600, 4, IO_PASS);       /* PM1a event */
    expect_range(0x604, 2, IO_PM1_CNT);    /* PM1a control */
    expect_range(0x608, 4, IO_PASS);       /* PM timer */
    expect_range(0x620, 16, IO_PASS);      /* GPE0 */
}

/* The whole port space: what is not listed above is denied. */
static void test_nothing_else_passes(void **state)
{
    (void)state;
    struct guest_devices d = q35();
    io_policy_init(&pol, &d, CONSOLE);
    static const struct { uint16_t port, count; } allowed[] = {
        { 0x20, 2 }, { 0x40, 4 }, { 0x60, 2 }, { 0x64, 1 }, { 0x70, 2 }, { 0x80, 1 },
        { 0xA0, 2 }, { 0xF4, 4 }, { 0x2E8, 8 }, { 0x2F8, 8 }, { 0x3E8, 8 }, { 0x3F8, 8 },
        { 0x4D0, 2 }, { 0x600, 4 }, { 0x604, 2 }, { 0x608, 4 }, { 0x620, 16 }, { 0xCF8, 8 },
    };
    unsigned not_denied = 0;
    for (uint32_t p = 0; p <= 0xFFFF; p++) {
        bool listed = false;
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
            if (p >= allowed[i].port && p < (uint32_t)allowed[i].port + allowed[i].count)
                listed = true;
        if (at((uint16_t)p) != IO_DENY) {
            not_denied++;
            if (!listed)
                fail_msg("port 0x%x is reachable but not in the list", p);
        } else if (listed) {
            fail_msg("port 0x%x is listed but denied", p);
        }
    }
    assert_int_equal(not_denied, 2 + 4 + 2 + 1 + 2 + 1 + 2 + 4 + 32 + 2 + 4 + 2 + 4 + 16 + 8);
}

static void test_denied_sample(void **state)
{
    (void)state;
    struct guest_devices d = q35();
    io_policy_init(&pol, &d, CONSOLE);
    const char *name;
    /* pagevisor's disks, whatever the flavour */
    assert_int_equal(io_policy_lookup(&pol, ATA_PRIMARY_IO, 1, &name), IO_DENY);
    assert_string_equal(name, "IDE primary (pagevisor's disks)");
    assert_int_equal(io_policy_lookup(&pol, ATA_PRIMARY_IO + 7, 1, NULL), IO_DENY);
    assert_int_equal(io_policy_lookup(&pol, ATA_SECONDARY_CTRL, 1, NULL), IO_DENY);
    assert_int_equal(io_policy_lookup(&pol, ATA_PRIMARY_IO, 2, NULL), IO_DENY); /* rep insw's port */
    assert_int_equal(io_policy_lookup(&pol, 0x6000, 4, &name), IO_DENY); /* virtio legacy BAR */
    assert_string_equal(name, "unassigned");
    assert_int_equal(at(0x6012), IO_DENY);  /* its status register */
    assert_int_equal(at(0xC000), IO_DENY);  /* PIIX IDE bus master (Bochs) */
    assert_int_equal(at(0xC0C0), IO_DENY);
    assert_int_equal(at(0x92), IO_DENY);    /* fast reset */
    assert_int_equal(at(0xB2), IO_DENY);    /* SMI command */
    assert_int_equal(at(0x00), IO_DENY);    /* DMA controller */
    assert_int_equal(at(0x81), IO_DENY);    /* DMA page */
    assert_int_equal(at(0x510), IO_DENY);   /* fw_cfg */
    assert_int_equal(at(0x3C0), IO_DENY);   /* VGA */
    assert_int_equal(at(0x630), IO_DENY);   /* ICH9 SMI_EN, beside the PM block */
    assert_int_equal(at(0xFFFF), IO_DENY);
}

/* An access that straddles two entries reaches neither. */
static void test_straddling_access_is_denied(void **state)
{
    (void)state;
    struct guest_devices d = q35();
    io_policy_init(&pol, &d, CONSOLE);
    assert_int_equal(io_policy_lookup(&pol, 0x42, 4, NULL), IO_DENY);   /* PIT..0x45 */
    assert_int_equal(io_policy_lookup(&pol, 0x40, 4, NULL), IO_PASS);
    assert_int_equal(io_policy_lookup(&pol, 0xCFE, 4, NULL), IO_DENY);
    assert_int_equal(io_policy_lookup(&pol, 0xCFC, 4, NULL), IO_PCI_CONFIG);
    assert_int_equal(io_policy_lookup(&pol, 0xFFFE, 4, NULL), IO_DENY);  /* wraps */
    assert_int_equal(io_policy_lookup(&pol, 0x3F8, 2, NULL), IO_DENY);   /* console + UART */
}

/* Without ACPI (Bochs's OVMF) there is no PM block, and no console: the
 * whole COM1 is the UART's. */
static void test_no_acpi_no_console(void **state)
{
    (void)state;
    struct guest_devices d;
    memset(&d, 0, sizeof(d));
    io_policy_init(&pol, &d, 0);
    expect_range(0x3F8, 8, IO_UART_ACTION);
    assert_int_equal(at(0x600), IO_DENY);
    assert_int_equal(at(0xB000), IO_DENY);
    /* a PM1 control port given without a block length still powers off */
    d.pm1a_cnt = 0xB004;
    io_policy_init(&pol, &d, 0);
    expect_range(0xB004, 2, IO_PM1_CNT);
    assert_int_equal(at(0xB000), IO_DENY);
}

struct run { uint32_t first, count; };
static struct run runs[64];
static size_t nruns;

static void collect(void *ctx, uint16_t port, uint16_t count)
{
    (void)ctx;
    assert_true(nruns < 64);
    runs[nruns++] = (struct run){ port, count };
}

/* The backends' bitmaps are built from these runs: exactly the IO_PASS
 * ports, merged where they touch. */
static void test_passthrough_runs(void **state)
{
    (void)state;
    struct guest_devices d = q35();
    io_policy_init(&pol, &d, CONSOLE);
    nruns = 0;
    io_policy_passthrough(&pol, collect, NULL);
    unsigned total = 0;
    for (size_t i = 0; i < nruns; i++) {
        for (uint32_t p = runs[i].first; p < runs[i].first + runs[i].count; p++)
            assert_int_equal(at((uint16_t)p), IO_PASS);
        total += runs[i].count;
        if (i)
            assert_true(runs[i].first > runs[i - 1].first + runs[i - 1].count);
    }
    unsigned pass = 0;
    for (uint32_t p = 0; p <= 0xFFFF; p++)
        pass += at((uint16_t)p) == IO_PASS;
    assert_int_equal(total, pass);
    assert_int_equal(runs[0].first, 0x20);
    assert_int_equal(runs[0].count, 2);
    /* 0x60 and 0x61 merge; 0x64 is trapped */
    bool merged = false;
    for (size_t i = 0; i < nruns; i++)
        merged |= runs[i].first == 0x60 && runs[i].count == 2;
    assert_true(merged);
}

static void test_counters_per_port(void **state)
{
    (void)state;
    struct guest_devices d = q35();
    io_policy_init(&pol, &d, CONSOLE);
    host_log_clear();
    for (int i = 0; i < 5; i++)
        io_policy_count_denied(&pol, 0x6000, 4, true);
    io_policy_count_denied(&pol, 0x6012, 1, false);
    io_policy_count_denied(&pol, ATA_PRIMARY_IO, 1, true);
    assert_int_equal(io_policy_denied_count(&pol, 0x6000), 5);
    assert_int_equal(io_policy_denied_count(&pol, 0x6012), 1);
    assert_int_equal(io_policy_denied_count(&pol, ATA_PRIMARY_IO), 1);
    assert_int_equal(io_policy_denied_count(&pol, 0x6004), 0);
    assert_int_equal(pol.denied_reads, 6);
    assert_int_equal(pol.denied_writes, 1);
    assert_int_equal(pol.ports_seen, 3);
    /* the 1st, 2nd and 4th access of 0x6000 are logged, the 3rd and 5th not */
    assert_int_equal(host_log_count(), 3 + 1 + 1);
    assert_true(host_log_contains("io: guest read of 4 byte(s) at port 0x6000 (unassigned) "
                                  "denied: open bus (read #4 at this port)"));
    assert_true(host_log_contains("io: guest write of 1 byte(s) at port 0x6012"));
    assert_true(host_log_contains("port 0x1f0 (IDE primary (pagevisor's disks)) denied"));
}

/* A scan of the whole port space: counted in full, logged within the
 * budget plus one summary per power of two of the total. */
static void test_scan_is_rate_limited(void **state)
{
    (void)state;
    struct guest_devices d = q35();
    io_policy_init(&pol, &d, CONSOLE);
    host_log_clear();
    uint64_t denied = 0;
    for (uint32_t p = 0; p <= 0xFFFF; p++)
        if (at((uint16_t)p) == IO_DENY) {
            io_policy_count_denied(&pol, (uint16_t)p, 1, true);
            denied++;
        }
    assert_int_equal(pol.denied_reads, denied);
    assert_int_equal(pol.ports_seen, IO_DENY_SLOTS);
    assert_int_equal(pol.untracked, denied - IO_DENY_SLOTS);
    assert_true(host_log_count() <= IO_LOG_BUDGET + 17);
    assert_true(host_log_count() > IO_LOG_BUDGET);
    assert_true(host_log_contains("denied port accesses on 128 ports so far"));
    assert_int_equal(io_policy_denied_count(&pol, 0x0), 1);
    host_log_clear();
    io_policy_count_denied(&pol, 0x0, 1, true); /* 2nd: within a spent budget, silent */
    assert_int_equal(host_log_count(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allowed_entry),
        cmocka_unit_test(test_nothing_else_passes),
        cmocka_unit_test(test_denied_sample),
        cmocka_unit_test(test_straddling_access_is_denied),
        cmocka_unit_test(test_no_acpi_no_console),
        cmocka_unit_test(test_passthrough_runs),
        cmocka_unit_test(test_counters_per_port),
        cmocka_unit_test(test_scan_is_rate_limited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

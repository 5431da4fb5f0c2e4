/*
 * Unit tests: the console UART's guest view (vmm/console.c) and the line
 * state of the hypervisor's console (vmm/drivers/serial.c), over a model
 * of a 16550 (uart_inb / uart_outb, vmm/drivers/uart_port.h) and a vCPU
 * whose set_port_trap records which console ports exit.
 *
 * console.c keeps its state in statics: each test starts as a boot does
 * (console_init with every console port trapped, then one exit that
 * settles the traps) over a fresh UART model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/console.h"
#include "vmm/drivers/serial.h"
#include "vmm/drivers/uart16550.h"
#include "vmm/drivers/uart_port.h"
#include "vmm/lib/log.h"
#include "vmm/monitor/monitor.h"

#define BASE COM1_PORT
#define POLL_TICKS 100u
#define TX_MAX 512u
#define RX_MAX 64u
#define IIR_THR_EMPTY 0x02u /* IIR cause: transmitter holding register empty */

/* ---- the UART model ------------------------------------------------------ */

static struct {
    uint8_t rx[RX_MAX];
    unsigned rx_head, rx_tail;   /* bytes the line delivered, not yet read */
    uint8_t lsr_errors;          /* OE/PE/FE/BI until the next LSR read */
    uint8_t lcr, ier, iir_cause; /* iir_cause: IIR_NO_INT or an interrupt id */
    char tx[TX_MAX];             /* everything written to THR */
    unsigned tx_len;
    unsigned ier_writes;
} uart;

static void line_sends(const char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        uart.rx[uart.rx_head++ % RX_MAX] = (uint8_t)bytes[i];
}

uint8_t uart_inb(uint16_t port)
{
    switch (port - BASE) {
    case UART_DATA:
        if (uart.lcr & LCR_DLAB)
            return 0;
        return uart.rx_head != uart.rx_tail ? uart.rx[uart.rx_tail++ % RX_MAX] : 0;
    case UART_IER:
        return uart.ier;
    case UART_IIR:
        return uart.iir_cause;
    case UART_LCR:
        return uart.lcr;
    case UART_LSR: {
        uint8_t lsr = (uint8_t)(LSR_THR_EMPTY | uart.lsr_errors);
        uart.lsr_errors = 0;
        return uart.rx_head != uart.rx_tail ? (uint8_t)(lsr | LSR_DR) : lsr;
    }
    default:
        return 0;
    }
}

void uart_outb(uint16_t port, uint8_t v)
{
    switch (port - BASE) {
    case UART_DATA:
        if (!(uart.lcr & LCR_DLAB) && uart.tx_len < TX_MAX - 1)
            uart.tx[uart.tx_len++] = (char)v;
        break;
    case UART_IER:
        uart.ier = v;
        uart.ier_writes++;
        break;
    case UART_LCR:
        uart.lcr = v;
        break;
    default:
        break;
    }
}

/* ---- the vCPU and the monitor -------------------------------------------- */

static bool trapped[UART_PORTS]; /* the console ports that exit now */
static unsigned trap_calls;

static void fake_set_port_trap(struct vcpu *v, uint16_t port, bool trap)
{
    (void)v;
    assert_true(port >= BASE && port < BASE + UART_PORTS);
    trapped[port - BASE] = trap;
    trap_calls++;
}

static const struct vcpu_ops ops = { .name = "fake", .set_port_trap = fake_set_port_trap };
static struct vcpu cpu = { .ops = &ops };

static unsigned monitor_runs;
static enum monitor_end monitor_answer = MONITOR_RESUME;

enum monitor_end monitor_run(struct vcpu *v)
{
    (void)v;
    monitor_runs++;
    return monitor_answer;
}

static uint64_t now;

/* One exit of the guest: the console's work after it, then the entry. */
static void exit_and_enter(void)
{
    console_after_exit(&cpu, now);
    /* the data port never passes without the LSR */
    assert_true(trapped[UART_DATA] || !trapped[UART_LSR]);
    console_before_entry();
}

/* Time for the periodic input poll, then one exit. */
static void poll_exit(void)
{
    now += POLL_TICKS;
    exit_and_enter();
}

static uint8_t guest_in(unsigned reg) { return (uint8_t)console_guest_in(BASE + reg, 1); }

static void guest_out(unsigned reg, uint8_t v) { console_guest_out(BASE + reg, 1, v); }

/* A boot's start: the I/O policy traps the data port and the LSR (and the
 * guest has passed no byte), then the first exit settles the traps. */
static void boot(bool pass_data)
{
    memset(&uart, 0, sizeof(uart));
    uart.iir_cause = IIR_NO_INT;
    memset(trapped, 0, sizeof(trapped));
    trapped[UART_DATA] = trapped[UART_LSR] = true;
    trap_calls = monitor_runs = 0;
    monitor_answer = MONITOR_RESUME;
    serial_init(BASE);
    serial_write("\n", 1); /* a known line start */
    uart.tx_len = 0;
    console_init(POLL_TICKS, pass_data);
    poll_exit();
}

static bool data_passed(void) { return !trapped[UART_DATA]; }
static bool lsr_passed(void) { return !trapped[UART_LSR]; }

static void tx_is(const char *want)
{
    uart.tx[uart.tx_len] = '\0';
    assert_string_equal(uart.tx, want);
    uart.tx_len = 0;
}

/* ---- pass mode ----------------------------------------------------------- */

/* Nothing waits: the data port and the LSR pass, together. */
static void test_pass_quiet(void **state)
{
    (void)state;
    boot(true);
    assert_true(data_passed());
    assert_true(lsr_passed());
    assert_true(console_data_passed());
    /* exits with nothing new change nothing */
    unsigned calls = trap_calls;
    for (int i = 0; i < 5; i++)
        poll_exit();
    assert_int_equal(trap_calls, calls);
}

/* Input: the guest's interrupt handler reads IIR (trapped), which pulls
 * the bytes; both traps come back before it reads LSR and RBR, and go away
 * together once its last LSR read shows nothing waiting. */
static void test_pass_input_retraps_and_drains(void **state)
{
    (void)state;
    boot(true);
    line_sends("hi", 2);
    uart.iir_cause = IIR_RDI;
    assert_int_equal(guest_in(UART_IIR) & IIR_ID_MASK, IIR_RDI);
    exit_and_enter();
    assert_false(data_passed());
    assert_false(lsr_passed());
    assert_int_equal(console_pending(), 2);

    uart.iir_cause = IIR_NO_INT;
    assert_true(guest_in(UART_LSR) & LSR_DR);
    exit_and_enter();
    assert_int_equal(guest_in(UART_DATA), 'h');
    exit_and_enter();
    assert_true(guest_in(UART_LSR) & LSR_DR);
    exit_and_enter();
    assert_int_equal(guest_in(UART_DATA), 'i');
    exit_and_enter();
    /* the buffer is empty, but the handler has not yet seen that */
    assert_false(data_passed());
    assert_false(lsr_passed());
    assert_false(guest_in(UART_LSR) & LSR_DR);
    exit_and_enter();
    assert_true(data_passed());
    assert_true(lsr_passed());
}

/* A byte that lands after the pull, while the handler still reads: its
 * trapped LSR read pulls it too, so the guest never reads RBR past us. */
static void test_pass_late_byte_goes_through_the_buffer(void **state)
{
    (void)state;
    boot(true);
    line_sends("a", 1);
    uart.iir_cause = IIR_RDI;
    (void)guest_in(UART_IIR);
    exit_and_enter();
    assert_true(guest_in(UART_LSR) & LSR_DR);
    exit_and_enter();
    assert_int_equal(guest_in(UART_DATA), 'a');
    exit_and_enter();
    line_sends("\x1e" "b", 2); /* the escape, then a byte for the monitor */
    assert_false(guest_in(UART_LSR) & LSR_DR); /* the escape is ours */
    exit_and_enter();
    assert_int_equal(monitor_runs, 1);
    assert_int_equal(uart.rx_head - uart.rx_tail, 1); /* "b" left in the FIFO */
}

/* The poll finds input the guest is not reading: traps back, and a
 * receive interrupt raised for the guest when it wants them. */
static void test_pass_poll_retraps(void **state)
{
    (void)state;
    boot(true);
    uart.ier = IER_RDI;
    unsigned ier_writes = uart.ier_writes;
    line_sends("x", 1);
    poll_exit();
    assert_int_equal(console_pending(), 1);
    assert_false(data_passed());
    assert_false(lsr_passed());
    assert_int_equal(uart.ier_writes, ier_writes + 2); /* THRI on, then off */
    assert_int_equal(uart.ier, IER_RDI);
}

/* A transmit interrupt (IIR with a cause, no input): the handler's LSR
 * read is trapped, then the THR writes that follow it pass. An IIR that
 * shows no cause keeps everything passed. */
static void test_pass_iir_arms_until_clean_lsr(void **state)
{
    (void)state;
    boot(true);
    uart.iir_cause = IIR_NO_INT;
    (void)guest_in(UART_IIR);
    exit_and_enter();
    assert_true(data_passed());

    uart.iir_cause = IIR_THR_EMPTY;
    (void)guest_in(UART_IIR);
    exit_and_enter();
    assert_false(data_passed());
    assert_false(lsr_passed());
    uart.iir_cause = IIR_NO_INT;
    assert_true(guest_in(UART_LSR) & LSR_THR_EMPTY);
    exit_and_enter();
    assert_true(data_passed());
    assert_true(lsr_passed());
}

/* The escape typed twice: the monitor hands one escape to the guest,
 * which reads it through the traps. */
static void test_pass_escape_sent_to_guest(void **state)
{
    (void)state;
    boot(true);
    monitor_answer = MONITOR_SEND_ESCAPE;
    line_sends("\x1e", 1);
    poll_exit();
    assert_int_equal(monitor_runs, 1);
    assert_int_equal(console_pending(), 1);
    assert_false(data_passed());
    assert_int_equal(guest_in(UART_DATA), CONSOLE_ESCAPE);
    exit_and_enter();
    assert_true(data_passed());
}

/* ---- the line state ------------------------------------------------------ */

/* While the data port passes the guest's bytes are not seen: before each
 * entry the state goes unknown, and a [pv] line then starts with a
 * newline; a second [pv] line in the same exit does not. */
static void test_pass_line_unknown(void **state)
{
    (void)state;
    boot(true);
    assert_int_equal(serial_line_state(), SERIAL_LINE_UNKNOWN);
    log_console_write("[pv] one\n", 9);
    log_console_write("[pv] two\n", 9);
    tx_is("\r\n[pv] one\r\n[pv] two\r\n");
    assert_int_equal(serial_line_state(), SERIAL_LINE_START);
    exit_and_enter();
    assert_int_equal(serial_line_state(), SERIAL_LINE_UNKNOWN);
    log_console_write("[pv] three\n", 11);
    tx_is("\r\n[pv] three\r\n");
}

/* Traps back (input): a guest byte seen makes the state known again. */
static void test_pass_line_known_while_trapped(void **state)
{
    (void)state;
    boot(true);
    line_sends("q", 1);
    poll_exit();
    assert_false(data_passed());
    guest_out(UART_THR, 'o');
    guest_out(UART_THR, 'k');
    assert_int_equal(serial_line_state(), SERIAL_LINE_MID);
    exit_and_enter(); /* still trapped: the entry keeps the state */
    assert_int_equal(serial_line_state(), SERIAL_LINE_MID);
    log_console_write("[pv] x\n", 7);
    tx_is("ok\r\n[pv] x\r\n");
    guest_out(UART_THR, '\n');
    exit_and_enter();
    assert_int_equal(serial_line_state(), SERIAL_LINE_START);
    log_console_write("[pv] y\n", 7);
    tx_is("\n[pv] y\r\n");
}

/* A writer waiting for the guest's line to end (telemetry) gets the data
 * port's trap back (the LSR stays passed: its THRE poll costs no exit)
 * until a line ends, then it goes again. */
static void test_pass_want_line_start(void **state)
{
    (void)state;
    boot(true);
    console_want_line_start();
    exit_and_enter();
    assert_false(data_passed());
    assert_true(lsr_passed());
    assert_int_equal(serial_line_state(), SERIAL_LINE_UNKNOWN);
    guest_out(UART_THR, 'a');
    exit_and_enter();
    assert_false(data_passed()); /* mid-line: still waiting */
    assert_int_equal(serial_line_state(), SERIAL_LINE_MID);
    /* input meanwhile: the LSR's trap comes back, and goes with the input */
    line_sends("k", 1);
    poll_exit();
    assert_false(lsr_passed());
    assert_int_equal(guest_in(UART_DATA), 'k');
    exit_and_enter();
    assert_true(lsr_passed());
    assert_false(data_passed());
    guest_out(UART_THR, '\n');
    console_after_exit(&cpu, now);
    assert_int_equal(serial_line_state(), SERIAL_LINE_START); /* the writer may go now */
    assert_true(data_passed());
    console_before_entry();
    assert_int_equal(serial_line_state(), SERIAL_LINE_UNKNOWN);
}

/* ---- trap mode ------------------------------------------------------------ */

/* console-data trap: the data port never passes, whatever happens; the LSR
 * passes while nothing waits (as before the data port could pass); the
 * line state is always known. */
static void test_trap_mode(void **state)
{
    (void)state;
    boot(false);
    assert_false(data_passed());
    assert_true(lsr_passed());
    assert_false(console_data_passed());
    assert_int_equal(serial_line_state(), SERIAL_LINE_START);

    uart.iir_cause = IIR_THR_EMPTY; /* a cause: does not trap the LSR here */
    (void)guest_in(UART_IIR);
    exit_and_enter();
    assert_true(lsr_passed());
    console_want_line_start();
    exit_and_enter();
    assert_true(lsr_passed());

    line_sends("z", 1);
    uart.iir_cause = IIR_RDI;
    (void)guest_in(UART_IIR);
    exit_and_enter();
    assert_false(lsr_passed());
    uart.iir_cause = IIR_NO_INT;
    assert_int_equal(guest_in(UART_DATA), 'z');
    exit_and_enter();
    assert_true(lsr_passed());
    assert_false(data_passed());

    guest_out(UART_THR, 'g');
    exit_and_enter();
    assert_int_equal(serial_line_state(), SERIAL_LINE_MID);
    log_console_write("[pv] t\n", 7);
    tx_is("g\r\n[pv] t\r\n");
    for (int i = 0; i < 4; i++)
        poll_exit();
    assert_false(data_passed());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pass_quiet),
        cmocka_unit_test(test_pass_input_retraps_and_drains),
        cmocka_unit_test(test_pass_late_byte_goes_through_the_buffer),
        cmocka_unit_test(test_pass_poll_retraps),
        cmocka_unit_test(test_pass_iir_arms_until_clean_lsr),
        cmocka_unit_test(test_pass_escape_sent_to_guest),
        cmocka_unit_test(test_pass_line_unknown),
        cmocka_unit_test(test_pass_line_known_while_trapped),
        cmocka_unit_test(test_pass_want_line_start),
        cmocka_unit_test(test_trap_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

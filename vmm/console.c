/* The shared console UART's guest view; see console.h. */
#include "vmm/console.h"
#include "vmm/drivers/serial.h"
#include "vmm/drivers/uart16550.h"
#include "vmm/drivers/uart_port.h"
#include "vmm/monitor/monitor.h"

#include <string.h>

#define RX_SIZE 256u           /* power of two */
#define RX_MASK (RX_SIZE - 1)
#define PULL_MAX 64u           /* bytes one pull takes from the FIFO */

static struct {
    uint8_t buf[RX_SIZE];
    unsigned head, tail;       /* bytes tail..head-1 wait for the guest */
    uint8_t lsr_errors;        /* error bits our own LSR reads consumed */
    bool escape;               /* the escape came: open the monitor */
    uint64_t poll_ticks, next_poll;
    bool pass_data;            /* config: the data port may pass with the LSR */
    bool reading;              /* pass_data: the guest's interrupt handler is
                                  in the UART (trapped IIR showed a cause) and
                                  has not yet read an LSR with nothing waiting */
    bool want_line;            /* pass_data: a writer waits for the guest's
                                  line to end: trap the data port until the
                                  line state is known at a line start */
    bool lsr_passed;           /* the guest reads the real LSR: no exit */
    bool data_passed;          /* ... and the real RBR/THR (pass_data) */
} rx;

void console_init(uint64_t poll_ticks, bool pass_data)
{
    memset(&rx, 0, sizeof(rx)); /* the I/O policy's start: everything trapped */
    rx.poll_ticks = poll_ticks;
    rx.pass_data = pass_data;
}

static uint16_t base(void) { return serial_port(); }

static bool dlab(void) { return (uart_inb(base() + UART_LCR) & LCR_DLAB) != 0; }

unsigned console_pending(void) { return rx.head - rx.tail; }

bool console_data_passed(void) { return rx.data_passed; }

static bool rx_full(void) { return console_pending() == RX_SIZE; }

static void rx_push(uint8_t b)
{
    rx.buf[rx.head++ & RX_MASK] = b;
}

/*
 * Move waiting bytes from the UART into the guest's buffer, taking the
 * escape out. Stops at the escape: what follows it is the monitor's input
 * and stays in the FIFO. Stops when the buffer is full: the FIFO then
 * fills and the sender waits (QEMU's chardev, a real line's flow control),
 * nothing is dropped. Returns the bytes handed to the guest.
 */
static unsigned rx_pull(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PULL_MAX && !rx.escape && !rx_full(); i++) {
        uint8_t lsr = uart_inb(base() + UART_LSR);
        rx.lsr_errors |= lsr & LSR_ERRORS;
        if (!(lsr & LSR_DR))
            break;
        uint8_t b = uart_inb(base() + UART_DATA);
        if (b == CONSOLE_ESCAPE) {
            rx.escape = true;
            break;
        }
        rx_push(b);
        n++;
    }
    return n;
}

/*
 * Bytes reached the buffer while the guest was not reading the UART (a
 * poll, the monitor): the UART's own receive interrupt for them may have
 * been consumed with them. If the guest wants receive interrupts, give it
 * one: enabling the transmitter-empty interrupt for a moment raises the
 * UART's line (its transmitter is idle between our accesses), and the
 * guest's handler then finds the data through the emulated IIR/LSR.
 */
static void rx_notify_guest(void)
{
    if (!console_pending() || dlab())
        return;
    uint8_t ier = uart_inb(base() + UART_IER);
    if (!(ier & IER_RDI) || (ier & IER_THRI))
        return;
    uart_outb(base() + UART_IER, ier | IER_THRI);
    uart_outb(base() + UART_IER, ier);
}

uint32_t console_guest_in(uint16_t port, uint8_t size)
{
    (void)size;
    uint16_t off = (uint16_t)(port - base());
    if (off == UART_LCR || dlab())
        return uart_inb(port);
    rx_pull();
    switch (off) {
    case UART_DATA:
        return console_pending() ? rx.buf[rx.tail++ & RX_MASK] : 0;
    case UART_LSR: {
        uint8_t lsr = (uint8_t)((uart_inb(port) & ~LSR_DR) | rx.lsr_errors);
        rx.lsr_errors = 0;
        if (console_pending())
            return lsr | LSR_DR;
        if (!(lsr & LSR_ERRORS))
            rx.reading = false; /* nothing left for its handler to read */
        return lsr;
    }
    default: { /* IIR: our buffer stands in for the FIFO's data-available state */
        uint8_t iir = uart_inb(port);
        if (console_pending() && (iir & IIR_ID_MASK) != IIR_RLSI)
            iir = (uint8_t)((iir & ~IIR_ID_MASK) | IIR_RDI);
        if (rx.pass_data && !(iir & IIR_NO_INT))
            rx.reading = true;
        return iir;
    }
    }
}

void console_guest_out(uint16_t port, uint8_t size, uint32_t value)
{
    (void)size;
    uint16_t off = (uint16_t)(port - base());
    uint8_t b = (uint8_t)value;
    if (off == UART_DATA && !dlab()) {
        serial_guest_byte(b);
        return;
    }
    if (off == UART_IIR && (b & FCR_CLEAR_RX) && !dlab())
        rx.tail = rx.head; /* the guest clears its receive FIFO: ours too */
    uart_outb(port, b);
}

/*
 * The LSR (and with pass_data the RBR/THR) need their traps only while the
 * guest's view differs from the UART's, or while the guest may read input:
 *   - bytes wait in our buffer (DR and RBR must show them), our own reads
 *     consumed error bits the guest has not seen, or the escape waits;
 *   - pass_data: the guest's interrupt handler read an IIR that showed a
 *     cause and has not yet read an LSR with nothing waiting. The 8250
 *     driver reads IIR (always trapped) before LSR and RBR, so every byte
 *     it reads passes rx_pull() first, and its loop's last LSR read is
 *     trapped too: it ends on our "nothing waiting", never on a byte that
 *     came after our pull.
 *   - the data port alone, pass_data: a writer that waits for the
 *     guest's line to end (telemetry) asked for the line state: its trap
 *     stays until the guest's trapped bytes (or a hypervisor line) end a
 *     line. The LSR may pass meanwhile, as in strict mode: a byte the
 *     guest then sees in the real LSR.DR still comes through rx_pull().
 * The data port passes only with the LSR: a passed RBR with a trapped LSR
 * would show the guest DR from our buffer and the FIFO's bytes at RBR.
 * Otherwise the guest reads the real LSR, and writes (pass_data) the real
 * THR: Linux's console write, a THRE poll and a THR write per byte, costs
 * no exit. The cost of pass_data: a guest that reads RBR without a
 * trapped IIR first can take a byte, the escape included, before us.
 * (While the LSR passes and RBR is trapped, were the escape the only byte
 * the guest's RBR read finds after it saw DR in the real LSR, that read
 * returns 0: the guest sees a NUL in place of the escape; the monitor
 * opens as ever.)
 */
static void trap_update(struct vcpu *v)
{
    if (!v->ops->set_port_trap)
        return;
    if (rx.want_line && serial_line_state() == SERIAL_LINE_START)
        rx.want_line = false;
    bool quiet = !console_pending() && !rx.lsr_errors && !rx.escape && !rx.reading;
    bool data = rx.pass_data && quiet && !rx.want_line;
    if (quiet != rx.lsr_passed) {
        v->ops->set_port_trap(v, (uint16_t)(base() + UART_LSR), !quiet);
        rx.lsr_passed = quiet;
    }
    if (data != rx.data_passed) {
        v->ops->set_port_trap(v, (uint16_t)(base() + UART_DATA), !data);
        rx.data_passed = data;
    }
}

void console_after_exit(struct vcpu *v, uint64_t now)
{
    if (now >= rx.next_poll) {
        rx.next_poll = now + rx.poll_ticks;
        if (!dlab() && rx_pull())
            rx_notify_guest();
    }
    if (rx.escape) {
        rx.escape = false;
        if (monitor_run(v) == MONITOR_SEND_ESCAPE && !rx_full())
            rx_push(CONSOLE_ESCAPE);
        rx_notify_guest();
    }
    trap_update(v);
}

void console_want_line_start(void)
{
    if (rx.pass_data)
        rx.want_line = true;
}

void console_before_entry(void)
{
    if (console_data_passed())
        serial_line_unknown();
}

/* Polled 16550 driver; see serial.h. */
#include "vmm/drivers/serial.h"
#include "vmm/drivers/uart16550.h"
#include "vmm/drivers/uart_port.h"
#include "vmm/lib/log.h"

#define UART_CLOCK_DIV_115200 1 /* 1.8432 MHz / 16 / 115200 */
#define TX_SPIN_LIMIT 100000    /* give up on a stuck/missing UART */

static uint16_t base = COM1_PORT;
/* Where the line is: the last byte written (by anyone) ended a line or
 * not, or unknown since the guest may have written bytes we did not see. */
static enum serial_line line = SERIAL_LINE_START;

void serial_init(uint16_t port)
{
    base = port;
    uart_outb(base + UART_IER, 0);
    uart_outb(base + UART_LCR, LCR_DLAB);
    uart_outb(base + UART_DLL, UART_CLOCK_DIV_115200);
    uart_outb(base + UART_DLM, 0);
    uart_outb(base + UART_LCR, LCR_8N1);
    uart_outb(base + UART_FCR, FCR_ENABLE_CLEAR);
    uart_outb(base + UART_MCR, MCR_DTR_RTS_OUT2);
}

uint16_t serial_port(void) { return base; }

static void put_byte(char c)
{
    for (int i = 0; i < TX_SPIN_LIMIT; i++) {
        if (uart_inb(base + UART_LSR) & LSR_THR_EMPTY)
            break;
        uart_pause();
    }
    uart_outb(base + UART_THR, (uint8_t)c);
}

static enum serial_line after(uint8_t last)
{
    return last == '\n' ? SERIAL_LINE_START : SERIAL_LINE_MID;
}

void serial_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            put_byte('\r');
        put_byte(s[i]);
    }
    if (n)
        line = after((uint8_t)s[n - 1]);
}

void serial_guest_byte(uint8_t b)
{
    uart_outb(base + UART_THR, b);
    line = after(b);
}

void serial_line_unknown(void) { line = SERIAL_LINE_UNKNOWN; }

enum serial_line serial_line_state(void) { return line; }

int serial_getc(void)
{
    if (!(uart_inb(base + UART_LSR) & LSR_DR))
        return -1;
    return uart_inb(base + UART_RBR);
}

/* The log's console (see vmm/lib/log.h). */
void log_console_write(const char *text, size_t len)
{
    if (line != SERIAL_LINE_START)
        serial_write("\n", 1); /* never continue a guest's (possible) half line */
    serial_write(text, len);
}

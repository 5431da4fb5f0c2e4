/* Polled 16550 driver; see serial.h. */
#include "vmm/drivers/serial.h"
#include "vmm/drivers/uart16550.h"
#include "vmm/arch/arch.h"
#include "vmm/lib/log.h"

#include <stdbool.h>

#define UART_CLOCK_DIV_115200 1 /* 1.8432 MHz / 16 / 115200 */
#define TX_SPIN_LIMIT 100000    /* give up on a stuck/missing UART */

static uint16_t base = COM1_PORT;
static bool mid_line; /* the last byte written (by anyone) did not end a line */

void serial_init(uint16_t port)
{
    base = port;
    outb(base + UART_IER, 0);
    outb(base + UART_LCR, LCR_DLAB);
    outb(base + UART_DLL, UART_CLOCK_DIV_115200);
    outb(base + UART_DLM, 0);
    outb(base + UART_LCR, LCR_8N1);
    outb(base + UART_FCR, FCR_ENABLE_CLEAR);
    outb(base + UART_MCR, MCR_DTR_RTS_OUT2);
}

uint16_t serial_port(void) { return base; }

static void put_byte(char c)
{
    for (int i = 0; i < TX_SPIN_LIMIT; i++) {
        if (inb(base + UART_LSR) & LSR_THR_EMPTY)
            break;
        pause();
    }
    outb(base + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            put_byte('\r');
        put_byte(s[i]);
    }
    if (n)
        mid_line = s[n - 1] != '\n';
}

void serial_guest_byte(uint8_t b)
{
    outb(base, b);
    mid_line = b != '\n';
}

bool serial_mid_line(void) { return mid_line; }

int serial_getc(void)
{
    if (!(inb(base + UART_LSR) & LSR_DR))
        return -1;
    return inb(base + UART_RBR);
}

/* The log's console (see vmm/lib/log.h). */
void log_console_write(const char *line, size_t len)
{
    if (serial_mid_line())
        serial_write("\n", 1); /* never continue a guest's half line */
    serial_write(line, len);
}

/* Polled 16550 UART: the hypervisor's console. Usable from the first
 * instruction (before and after ExitBootServices); never uses interrupts. */
#ifndef PV_VMM_SERIAL_H
#define PV_VMM_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COM1_PORT 0x3F8u

/* Program the UART at port for 115200 8N1 with FIFOs. Safe to call again
 * (e.g. to move the console to another port). */
void serial_init(uint16_t port);
uint16_t serial_port(void);
void serial_write(const char *s, size_t n);
/*
 * The console line's state, for keeping hypervisor lines off the guest's:
 * START  the last byte written ended a line
 * MID    the last byte written did not: a hypervisor line must start on a
 *        fresh one
 * UNKNOWN the guest may have written bytes without an exit (vmm/console.c
 *        passes the data port while nothing waits for it): a hypervisor
 *        line starts with a newline as when MID, at worst one blank line.
 * Any write seen here (the hypervisor's, or a guest byte trapped) makes it
 * known again.
 */
enum serial_line {
    SERIAL_LINE_START,
    SERIAL_LINE_MID,
    SERIAL_LINE_UNKNOWN,
};

/* A byte the guest wrote to the shared console port, passed on as is
 * (the guest's own driver waits for the transmitter, so no wait here). */
void serial_guest_byte(uint8_t b);
/* The guest is about to run able to write the data port without exits. */
void serial_line_unknown(void);
enum serial_line serial_line_state(void);
/* Non-blocking read: returns -1 when no byte is waiting. */
int serial_getc(void);

#endif

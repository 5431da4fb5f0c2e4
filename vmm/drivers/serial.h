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
/* A byte the guest wrote to the shared console port, passed on as is
 * (the guest's own driver waits for the transmitter, so no wait here). */
void serial_guest_byte(uint8_t b);
/* True when the last byte on the line was not a newline: the guest is in
 * the middle of a line, and a hypervisor line must start on a fresh one. */
bool serial_mid_line(void);
/* Non-blocking read: returns -1 when no byte is waiting. */
int serial_getc(void);

#endif

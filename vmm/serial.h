/* Polled 16550 UART: the hypervisor's console. Usable from the first
 * instruction (before and after ExitBootServices); never uses interrupts. */
#ifndef PV_VMM_SERIAL_H
#define PV_VMM_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#define COM1_PORT 0x3F8u

/* Program the UART at port for 115200 8N1 with FIFOs. Safe to call again
 * (e.g. to move the console to another port). */
void serial_init(uint16_t port);
uint16_t serial_port(void);
void serial_write(const char *s, size_t n);
/* Non-blocking read: returns -1 when no byte is waiting. */
int serial_getc(void);

#endif

/*
 * Byte access to the 16550 registers for vmm/drivers/serial.c and
 * vmm/console.c. In the hypervisor these are the CPU's IN / OUT; a host
 * build (PV_HOST, the unit tests) links its own uart_inb / uart_outb, a
 * model of the UART, so the console's trap and line-state logic runs on
 * the host unchanged.
 */
#ifndef PV_VMM_DRIVERS_UART_PORT_H
#define PV_VMM_DRIVERS_UART_PORT_H

#include <stdint.h>

#ifdef PV_HOST
uint8_t uart_inb(uint16_t port);
void uart_outb(uint16_t port, uint8_t v);
static inline void uart_pause(void) {}
#else
#include "vmm/arch/arch.h"
static inline uint8_t uart_inb(uint16_t port) { return inb(port); }
static inline void uart_outb(uint16_t port, uint8_t v) { outb(port, v); }
static inline void uart_pause(void) { pause(); } /* in a transmitter wait */
#endif

#endif

/*
 * The shared console UART: the guest's accesses to the hypervisor's
 * console port (config `console`, COM1 by default) are trapped so that
 *   - guest output is passed on and the line state tracked (a `[pv]` line
 *     never splits a guest line), and
 *   - guest input goes through a small software receive buffer: the
 *     hypervisor reads every byte first, takes the monitor escape out of
 *     the stream, and the guest reads the rest through an emulated
 *     RBR / LSR.DR / IIR view of that buffer.
 *
 * Trapped registers (offsets from the base port): RBR/THR (0), IIR/FCR
 * (2), LCR (3), and LSR (5) while input waits in our buffer (or error bits
 * our reads took wait for the guest); with nothing waiting the guest reads
 * the real LSR without an exit, so its transmitter poll before each byte
 * is free (docs/performance.md). IER, MCR, MSR and the scratch register
 * stay the hardware's. With LCR.DLAB set (divisor latch, and Linux's 0xBF
 * probe of the enhanced registers) every access passes through untouched.
 *
 * The escape is CONSOLE_ESCAPE (Ctrl-^, 0x1E): not Ctrl-A (QEMU's stdio
 * mux, screen, minicom, picocom), not Ctrl-] (virsh console, telnet), not a
 * terminal signal key (Ctrl-C, Ctrl-\, Ctrl-Z). It opens the monitor; the
 * escape typed again at the monitor's empty prompt sends one escape byte to
 * the guest and resumes it. The guest never sees a lone escape.
 */
#ifndef PV_VMM_CONSOLE_H
#define PV_VMM_CONSOLE_H

#include "vmm/vcpu.h"

#include <stdbool.h>
#include <stdint.h>

#define CONSOLE_ESCAPE 0x1Eu     /* Ctrl-^ */
#define CONSOLE_ESCAPE_NAME "Ctrl-^"

/* Start polling for input every poll_ticks TSC ticks after exits. */
void console_init(uint64_t poll_ticks);
/* vmm/io_policy.c traps the registers named above (IO_CONSOLE entries). */
/* Emulate the guest's IN / OUT on a console port (any size: the low byte
 * is the register, as on the 8-bit bus). */
uint32_t console_guest_in(uint16_t port, uint8_t size);
void console_guest_out(uint16_t port, uint8_t size, uint32_t value);

/*
 * After every exit, with the current TSC: pull input the guest is not
 * reading (rate-limited), and when the escape came, open the monitor
 * (vmm/monitor) with the guest paused until it is closed.
 */
void console_after_exit(struct vcpu *v, uint64_t now);

/* Bytes waiting for the guest (for tests and the monitor's summary). */
unsigned console_pending(void);

#endif

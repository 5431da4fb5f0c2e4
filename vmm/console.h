/*
 * The shared console UART: the guest's accesses to the hypervisor's
 * console port (config `console`, COM1 by default) are trapped so that
 *   - guest output is passed on and the line state tracked (a `[pv]` line
 *     never splits a guest line; while the guest writes the data port
 *     itself, below, the state is unknown and a `[pv]` line starts on a
 *     fresh one), and
 *   - guest input goes through a small software receive buffer: the
 *     hypervisor reads every byte first (see below for the one exception),
 *     takes the monitor escape out of the stream, and the guest reads the
 *     rest through an emulated RBR / LSR.DR / IIR view of that buffer.
 *
 * Trapped registers (offsets from the base port): IIR/FCR (2) and LCR (3)
 * always; LSR (5), and in `console-data pass` mode (the default) RBR/THR
 * (0) with it, only while the guest's view must differ from the UART's or
 * while it may be reading input (console.c, trap_update):
 *   - input or error bits our reads took wait in our buffer, or the escape
 *     came (the monitor has not run yet);
 *   - pass mode: the guest read a trapped IIR that showed a cause and has
 *     not since read an LSR with nothing waiting (its interrupt handler);
 *   - the data port alone, pass mode: the telemetry waits for the
 *     guest's line to end (console_want_line_start).
 * Otherwise the guest's THRE poll and (pass mode) its THR write go to the
 * UART without an exit (docs/performance.md), and the guest's bytes pass
 * unseen: the line state is then unknown (serial.h) and a [pv] line starts
 * with a newline. In `console-data trap` mode RBR/THR are always trapped:
 * every guest byte is seen and every byte of input passes rx_pull(), so
 * the escape reaches the monitor whatever the guest does. In pass mode it
 * does for a guest that reads IIR before RBR (Linux's 8250 driver, in its
 * interrupt handler and its polling timer); a guest that reads RBR without
 * a trapped IIR first can take input, the escape included, before us
 * (docs/monitor.md, docs/security.md). IER, MCR, MSR and the scratch
 * register stay the hardware's. With LCR.DLAB set (divisor latch, and
 * Linux's 0xBF probe of the enhanced registers) every access passes
 * through untouched.
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

/* Start polling for input every poll_ticks TSC ticks after exits;
 * pass_data: the data port may pass with the LSR (config `console-data`).
 * Starts from an empty buffer with every console port trapped, as
 * vmm/io_policy.c leaves them; the first exit passes what may pass. */
void console_init(uint64_t poll_ticks, bool pass_data);
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

/* Before every entry into the guest: while the data port passes, the
 * guest may write bytes unseen, so the line state becomes unknown. */
void console_before_entry(void);

/* A hypervisor writer that may wait for the guest's line to end (the
 * telemetry) found the line state unknown: trap the data port (alone:
 * output is all it needs to see) from the
 * next entry until the state is known at a line start (the guest's bytes
 * are seen again; a line the hypervisor writes also ends the wait). */
void console_want_line_start(void);

/* Bytes waiting for the guest (for tests and the monitor's summary). */
unsigned console_pending(void);
/* The guest reads and writes the data port without exits now. */
bool console_data_passed(void);

#endif

/*
 * The 16550 UART's registers (offsets from the base port) and the bits
 * pagevisor uses: one definition for the hypervisor's own driver
 * (vmm/drivers/serial.c), the guest console emulation (vmm/console.c) and
 * the port policy (vmm/io_policy.c).
 */
#ifndef PV_VMM_DRIVERS_UART16550_H
#define PV_VMM_DRIVERS_UART16550_H

#define UART_PORTS 8 /* registers per UART */

#define UART_DATA 0  /* RBR (read) / THR (write), with DLAB clear */
#define UART_THR 0   /* transmit holding (write, DLAB=0) */
#define UART_RBR 0   /* receive buffer (read, DLAB=0) */
#define UART_DLL 0   /* divisor latch low (DLAB=1) */
#define UART_IER 1   /* interrupt enable (DLAB=0) */
#define UART_DLM 1   /* divisor latch high (DLAB=1) */
#define UART_IIR 2   /* interrupt identification (read) */
#define UART_FCR 2   /* FIFO control (write) */
#define UART_LCR 3   /* line control */
#define UART_MCR 4   /* modem control */
#define UART_LSR 5   /* line status */

#define LCR_8N1 0x03u
#define LCR_DLAB 0x80u           /* divisor latch access */
#define IER_RDI 0x01u            /* receive data interrupt */
#define IER_THRI 0x02u           /* transmitter empty interrupt */
#define IIR_NO_INT 0x01u
#define IIR_ID_MASK 0x0Fu
#define IIR_RLSI 0x06u           /* line status: above received data */
#define IIR_RDI 0x04u            /* received data available */
#define FCR_CLEAR_RX 0x02u
#define FCR_ENABLE_CLEAR 0x07u   /* enable FIFOs, clear RX and TX */
#define MCR_DTR_RTS_OUT2 0x0Bu
#define LSR_DR 0x01u             /* data ready */
#define LSR_ERRORS 0x1Eu         /* OE, PE, FE, BI: cleared by reading LSR */
#define LSR_THR_EMPTY 0x20u

#endif

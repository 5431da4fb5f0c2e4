/* The hypervisor's own GDT, TSS and IDT (vmm/gdt.c, vmm/idt.c). */
#ifndef PV_VMM_CPU_TABLES_H
#define PV_VMM_CPU_TABLES_H

#include <stdint.h>

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

/* IST slots (1-based, as in the IDT gate) for exceptions that must not run
 * on a possibly broken stack. */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3

void gdt_init(void);
void idt_init(void);

#endif

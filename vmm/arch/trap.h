/* Exception handling: what an exception stub saves (vmm/arch/isr.S). */
#ifndef PV_VMM_TRAP_H
#define PV_VMM_TRAP_H

#include <stdint.h>

#include "vmm/arch/exception.h"

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* Called by the stubs. Prints the full register dump and stops the
 * machine: an exception in the hypervisor is always a bug. */
void trap_handler(struct trap_frame *f);

/* Short name ("#PF") and description of an exception vector. */
const char *exception_mnemonic(uint64_t vector);

/* Provided by the core, not by arch/ (vmm/power.c): stop the machine with a
 * failure status once trap_handler has printed its report. */
__attribute__((noreturn)) void trap_fatal_stop(void);

#endif

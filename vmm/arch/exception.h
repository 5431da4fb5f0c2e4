/*
 * x86 exception vectors (Intel SDM vol. 3A table 6-1, AMD APM vol. 2
 * table 8-1): the one place their numbers are written. Used by the
 * hypervisor's own trap reporting (vmm/arch/trap.c), by the exit core that
 * injects exceptions into the guest (vmm/exit.c), and by the vendor
 * backends' exit decoding (vmm/svm, vmm/vmx).
 */
#ifndef PV_VMM_ARCH_EXCEPTION_H
#define PV_VMM_ARCH_EXCEPTION_H

#include <stdbool.h>
#include <stdint.h>

enum x86_exception {
    EXC_DE = 0,    /* divide error */
    EXC_DB = 1,    /* debug */
    EXC_NMI = 2,
    EXC_BP = 3,    /* breakpoint */
    EXC_OF = 4,    /* overflow */
    EXC_BR = 5,    /* bound range */
    EXC_UD = 6,    /* invalid opcode */
    EXC_NM = 7,    /* device not available */
    EXC_DF = 8,    /* double fault */
    EXC_TS = 10,   /* invalid TSS */
    EXC_NP = 11,   /* segment not present */
    EXC_SS = 12,   /* stack fault */
    EXC_GP = 13,   /* general protection */
    EXC_PF = 14,   /* page fault */
    EXC_MF = 16,   /* x87 floating point */
    EXC_AC = 17,   /* alignment check */
    EXC_MC = 18,   /* machine check */
    EXC_XM = 19,   /* SIMD floating point */
    EXC_VE = 20,   /* virtualization exception */
    EXC_CP = 21,   /* control protection */
    EXC_HV = 28,   /* hypervisor injection (AMD) */
    EXC_VC = 29,   /* VMM communication (AMD) */
    EXC_SX = 30,   /* security (AMD) */
};

/* Vectors 0-31 are exceptions; 32 and up are interrupts. */
#define EXC_COUNT 32

/* The exceptions that push an error code when delivered (#VC and #SX,
 * which exist only under SEV, are never reflected to the guest). */
#define EXC_ERROR_CODE_MASK ((1u << EXC_DF) | (1u << EXC_TS) | (1u << EXC_NP) | \
                             (1u << EXC_SS) | (1u << EXC_GP) | (1u << EXC_PF) | \
                             (1u << EXC_AC) | (1u << EXC_CP))

static inline bool exc_has_error_code(unsigned vector)
{
    return vector < EXC_COUNT && (EXC_ERROR_CODE_MASK & (1u << vector)) != 0;
}

#endif

/*
 * The VMX instructions as inline functions (hypervisor build only: they
 * fault outside VMX operation). The VMfail convention: CF=1 is
 * VMfailInvalid (no current VMCS), ZF=1 is VMfailValid (the error number
 * is in the VM-instruction error field); either makes these return -1.
 */
#ifndef PV_VMM_VMX_VMX_INSN_H
#define PV_VMM_VMX_VMX_INSN_H

#include <stdint.h>

static inline int vmxon(uint64_t pa)
{
    uint8_t failed;
    __asm__ volatile("vmxon %1; setna %0" : "=q"(failed) : "m"(pa) : "cc", "memory");
    return failed ? -1 : 0;
}

static inline int vmclear(uint64_t pa)
{
    uint8_t failed;
    __asm__ volatile("vmclear %1; setna %0" : "=q"(failed) : "m"(pa) : "cc", "memory");
    return failed ? -1 : 0;
}

static inline int vmptrld(uint64_t pa)
{
    uint8_t failed;
    __asm__ volatile("vmptrld %1; setna %0" : "=q"(failed) : "m"(pa) : "cc", "memory");
    return failed ? -1 : 0;
}

/* Read a field of the current VMCS (0 when the read fails). */
static inline uint64_t vmread(uint32_t field)
{
    uint64_t value = 0;
    __asm__ volatile("vmread %q1, %q0" : "+r"(value) : "r"((uint64_t)field) : "cc");
    return value;
}

static inline int vmwrite_raw(uint32_t field, uint64_t value)
{
    uint8_t failed;
    __asm__ volatile("vmwrite %q2, %q1; setna %0"
                     : "=q"(failed)
                     : "r"((uint64_t)field), "r"(value)
                     : "cc");
    return failed ? -1 : 0;
}

struct invept_desc {
    uint64_t eptp;
    uint64_t reserved;
};

static inline int invept(uint64_t type, uint64_t eptp)
{
    struct invept_desc d = { eptp, 0 };
    uint8_t failed;
    __asm__ volatile("invept %1, %2; setna %0"
                     : "=q"(failed)
                     : "m"(d), "r"(type)
                     : "cc", "memory");
    return failed ? -1 : 0;
}

static inline void xsetbv(uint32_t index, uint64_t value)
{
    __asm__ volatile("xsetbv" ::"c"(index), "a"((uint32_t)value),
                     "d"((uint32_t)(value >> 32))
                     : "memory");
}

#endif

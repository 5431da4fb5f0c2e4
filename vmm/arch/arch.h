/*
 * Thin wrappers over x86-64 instructions the hypervisor core needs.
 * Architectural register and MSR numbers live here as named constants.
 */
#ifndef PV_VMM_ARCH_H
#define PV_VMM_ARCH_H

#include <stdint.h>

#include "vmm/arch/cpuid_regs.h"
#include "vmm/lib/cycles.h" /* rdtsc */

/* MSRs */
#define MSR_IA32_FEATURE_CONTROL 0x03Au
#define MSR_IA32_VMX_BASIC 0x480u
#define MSR_IA32_VMX_PINBASED_CTLS 0x481u
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482u
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48Bu
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48Cu
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48Du
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48Eu
#define MSR_EFER 0xC0000080u
/* EFER bits */
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)
#define EFER_FFXSR (1ull << 14)
#define EFER_TCE (1ull << 15)
#define EFER_AUTOIBRS (1ull << 21)
#define MSR_VM_CR 0xC0010114u

/* control register bits */
#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)

#define RFLAGS_IF (1ull << 9)

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf));
    return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

/* words 16-bit transfers between one port and memory (a data register). */
static inline void insw(uint16_t port, void *buf, uint32_t words)
{
    __asm__ volatile("rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}

static inline void outsw(uint16_t port, const void *buf, uint32_t words)
{
    __asm__ volatile("rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}

#define DEFINE_READ_CR(n)                                     \
    static inline uint64_t read_cr##n(void)                   \
    {                                                         \
        uint64_t v;                                           \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));     \
        return v;                                             \
    }
DEFINE_READ_CR(0)
DEFINE_READ_CR(2)
DEFINE_READ_CR(3)
DEFINE_READ_CR(4)
#undef DEFINE_READ_CR

static inline void write_cr0(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory");
}

static inline void write_cr3(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}

static inline void write_cr4(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline void pause(void) { __asm__ volatile("pause"); }

#endif

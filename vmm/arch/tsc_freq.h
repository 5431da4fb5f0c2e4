/*
 * Which TSC rate to believe: a pure choice among the sources the CPU and
 * an outer hypervisor offer (host unit-tested), used by clock_init().
 *
 * Under nested KVM, calibrating against the PIT is the least reliable
 * source: every PIT port access exits to the outer hypervisor, and the
 * measurement window stretches with the exit latency. A hypervisor that
 * knows the rate says so: the timing leaf 0x40000010 (EAX = TSC kHz, the
 * convention VMware introduced and QEMU/KVM offer with
 * `-cpu ...,vmware-cpuid-freq=on`), or kvmclock's scale factors
 * (Linux's Documentation/virt/kvm/x86/msr.rst: ns = ((tsc - tsc_timestamp)
 * shifted by tsc_shift) * tsc_to_system_mul >> 32). On bare metal the PIT
 * remains the first choice, then CPUID leaves 0x15 and 0x16.
 */
#ifndef PV_VMM_ARCH_TSC_FREQ_H
#define PV_VMM_ARCH_TSC_FREQ_H

#include <stdbool.h>
#include <stdint.h>

#define TSC_MIN_HZ 100000000ull      /* anything slower is a misreading */
#define TSC_MAX_HZ 10000000000ull
#define TSC_DISAGREE_PERCENT 10u     /* PIT vs chosen source: worth a warning */

#define CPUID_HV_TIMING 0x40000010u  /* EAX: TSC kHz, EBX: bus kHz */
#define CPUID_KVM_FEATURES 0x40000001u
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)   /* MSR_KVM_SYSTEM_TIME_NEW */
#define KVM_FEATURE_CLOCKSOURCE_STABLE (1u << 24)
#define KVM_SIGNATURE "KVMKVMKVM\0\0\0"

struct tsc_sources {
    bool hypervisor;        /* CPUID.1:ECX.hypervisor */
    uint32_t hv_max_leaf;   /* EAX of leaf 0x40000000 (0 if none) */
    uint32_t hv_timing_khz; /* EAX of leaf 0x40000010 (read only if hv_max_leaf allows) */
    bool pvclock;           /* kvmclock was read: */
    uint32_t pvclock_mul;   /*   tsc_to_system_mul */
    int8_t pvclock_shift;   /*   tsc_shift */
    uint32_t cpuid15_eax, cpuid15_ebx, cpuid15_ecx; /* 0 when the leaf is absent */
    uint32_t cpuid16_mhz;
    uint64_t pit_hz;        /* PIT calibration, 0 when it failed */
};

struct tsc_choice {
    uint64_t hz;            /* 0: no source was usable */
    const char *source;     /* "hypervisor leaf 0x40000010", "kvmclock", "pit", ... */
    bool pit_disagrees;     /* PIT measured, and more than 10 % off hz */
};

/* TSC rate implied by kvmclock's scale factors; 0 for mul == 0 or a
 * rate beyond 64 bits. */
uint64_t pvclock_tsc_hz(uint32_t mul, int8_t shift);

/* Pick the rate as described above; sources outside TSC_MIN_HZ..TSC_MAX_HZ
 * are skipped. Returns 0, or -1 when none is usable (c->hz = 0). */
int tsc_freq_choose(const struct tsc_sources *s, struct tsc_choice *c);

#endif

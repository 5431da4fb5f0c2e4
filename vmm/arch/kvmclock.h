/*
 * kvmclock, read once: the scale factors KVM publishes for the TSC, which
 * give its rate without timing the PIT (see vmm/arch/tsc_freq.h). The
 * clock is registered just long enough to read them and then turned off,
 * so the outer KVM stops writing into pagevisor's memory and nothing of it
 * is left for the guest (whose CPUID never shows KVM's leaves).
 * Interface: Linux's Documentation/virt/kvm/x86/msr.rst
 * (MSR_KVM_SYSTEM_TIME_NEW, struct pvclock_vcpu_time_info).
 */
#ifndef PV_VMM_ARCH_KVMCLOCK_H
#define PV_VMM_ARCH_KVMCLOCK_H

#include <stdint.h>

#define MSR_KVM_SYSTEM_TIME_NEW 0x4B564D01u
#define KVMCLOCK_ENABLE 1ull

/* 0 with *mul and *shift from a consistent snapshot; -1 when not under KVM,
 * KVM does not offer the clock, or it never published a stable value. */
int kvmclock_read_scale(uint32_t *mul, int8_t *shift);

#endif

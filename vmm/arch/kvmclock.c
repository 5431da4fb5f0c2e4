/* One read of kvmclock's TSC scale; see kvmclock.h. */
#include "vmm/arch/kvmclock.h"
#include "vmm/arch/arch.h"
#include "vmm/arch/cpufeat.h"
#include "vmm/arch/msr_safe.h"
#include "vmm/arch/tsc_freq.h"
#include "vmm/lib/types.h"

#include <string.h>

#define PVCLOCK_TRIES 1000u
#define PVCLOCK_VERSION_BUSY 1u   /* odd version: KVM is updating the record */

/* struct pvclock_vcpu_time_info; 32 bytes, aligned so it never crosses a page */
struct pvclock_time {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags;
    uint8_t pad[2];
} __attribute__((aligned(32)));
_Static_assert(sizeof(struct pvclock_time) == 32, "kvmclock record layout");

static struct pvclock_time record;

static int under_kvm(void)
{
    if (!(cpuid(CPUID_FEATURES, 0).ecx & CPUID1_ECX_HYPERVISOR))
        return 0;
    struct cpuid_regs h = cpuid(CPUID_HV_BASE, 0);
    char sig[12];
    memcpy(sig, &h.ebx, 4);
    memcpy(sig + 4, &h.ecx, 4);
    memcpy(sig + 8, &h.edx, 4);
    if (memcmp(sig, KVM_SIGNATURE, sizeof(sig)) != 0 || h.eax < CPUID_KVM_FEATURES)
        return 0;
    return (cpuid(CPUID_KVM_FEATURES, 0).eax & KVM_FEATURE_CLOCKSOURCE2) != 0;
}

int kvmclock_read_scale(uint32_t *mul, int8_t *shift)
{
    if (!under_kvm())
        return -1;
    volatile struct pvclock_time *r = &record;
    r->version = 0;
    if (wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, va_hpa(&record) | KVMCLOCK_ENABLE) < 0)
        return -1;
    int rc = -1;
    for (unsigned i = 0; i < PVCLOCK_TRIES && rc < 0; i++) {
        uint32_t v = r->version;
        __asm__ volatile("" ::: "memory");
        uint32_t m = r->tsc_to_system_mul;
        int8_t s = r->tsc_shift;
        __asm__ volatile("" ::: "memory");
        if (v != 0 && !(v & PVCLOCK_VERSION_BUSY) && r->version == v && m != 0) {
            *mul = m;
            *shift = s;
            rc = 0;
        }
    }
    (void)wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW, 0); /* stop KVM's updates */
    return rc;
}

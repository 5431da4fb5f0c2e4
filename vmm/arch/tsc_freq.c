/* Choosing the TSC rate among CPU and hypervisor sources; see tsc_freq.h. */
#include "vmm/arch/tsc_freq.h"

#include <stddef.h>

#define NS_PER_S 1000000000ull
#define KHZ 1000ull
#define MHZ 1000000ull
#define PVCLOCK_FRAC_BITS 32
#define PERCENT 100u

uint64_t pvclock_tsc_hz(uint32_t mul, int8_t shift)
{
    /* ns per tick = mul * 2^shift / 2^32, so hz = (1e9 << 32) / mul / 2^shift */
    if (mul == 0)
        return 0;
    uint64_t hz = (NS_PER_S << PVCLOCK_FRAC_BITS) / mul;
    if (shift >= 0)
        return hz >> shift;
    unsigned up = (unsigned)-shift;
    if (up >= 64 || hz > (UINT64_MAX >> up))
        return 0;
    return hz << up;
}

static bool plausible(uint64_t hz) { return hz >= TSC_MIN_HZ && hz <= TSC_MAX_HZ; }

static uint64_t crystal_hz(const struct tsc_sources *s)
{
    /* leaf 0x15: TSC = crystal (ECX Hz) * EBX / EAX; ECX may be 0 (unknown) */
    if (!s->cpuid15_eax || !s->cpuid15_ebx || !s->cpuid15_ecx)
        return 0;
    return (uint64_t)s->cpuid15_ecx * s->cpuid15_ebx / s->cpuid15_eax;
}

static uint64_t distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

int tsc_freq_choose(const struct tsc_sources *s, struct tsc_choice *c)
{
    uint64_t leaf = 0, pv = 0;
    if (s->hypervisor && s->hv_max_leaf >= CPUID_HV_TIMING)
        leaf = (uint64_t)s->hv_timing_khz * KHZ;
    if (s->pvclock)
        pv = pvclock_tsc_hz(s->pvclock_mul, s->pvclock_shift);
    const struct {
        uint64_t hz;
        const char *name;
    } nested[] = {
        { leaf, "hypervisor leaf 0x40000010" },
        { pv, "kvmclock" },
        { crystal_hz(s), "cpuid 0x15" },
        { (uint64_t)s->cpuid16_mhz * MHZ, "cpuid 0x16" },
        { s->pit_hz, "pit" },
    }, bare[] = {
        { s->pit_hz, "pit" },
        { crystal_hz(s), "cpuid 0x15" },
        { (uint64_t)s->cpuid16_mhz * MHZ, "cpuid 0x16" },
    };
    c->hz = 0;
    c->source = "none";
    c->pit_disagrees = false;
    size_t n = s->hypervisor ? sizeof(nested) / sizeof(nested[0]) : sizeof(bare) / sizeof(bare[0]);
    for (size_t i = 0; i < n; i++) {
        uint64_t hz = s->hypervisor ? nested[i].hz : bare[i].hz;
        if (plausible(hz)) {
            c->hz = hz;
            c->source = s->hypervisor ? nested[i].name : bare[i].name;
            break;
        }
    }
    if (!c->hz)
        return -1;
    if (plausible(s->pit_hz) && distance(s->pit_hz, c->hz) * PERCENT > c->hz * TSC_DISAGREE_PERCENT)
        c->pit_disagrees = true;
    return 0;
}

/* TSC calibration (clock_init); see clock.h. */
#include "vmm/arch/clock.h"
#include "vmm/arch/arch.h"
#include "vmm/arch/cpufeat.h"
#include "vmm/arch/kvmclock.h"
#include "vmm/arch/tsc_freq.h"
#include "vmm/lib/log.h"

#include <string.h>

/* i8254 PIT, channel 2 gated through system control port B. */
#define PIT_HZ 1193182u
#define PIT_CH2_DATA 0x42
#define PIT_MODE 0x43
#define PIT_MODE_CH2_LOHI_MODE0 0xB0u   /* channel 2, lo/hi byte, mode 0, binary */
#define PORT_B 0x61
#define PORT_B_GATE2 0x01u
#define PORT_B_SPEAKER 0x02u
#define PORT_B_OUT2 0x20u
#define CALIBRATE_MS 10u
#define CALIBRATE_SPINS 10000000u       /* give up on a PIT that never fires */

#define CPUID_MAX_LEAF 0x0u
#define CPUID_TSC_CRYSTAL 0x15u
#define CPUID_FREQ 0x16u
#define MHZ 1000000ull
#define MS_PER_S 1000u

static bool calibrated;

/* Ticks of the TSC during CALIBRATE_MS of PIT channel 2; 0 if it never ran out. */
static uint64_t pit_measure(void)
{
    uint32_t latch = PIT_HZ / (MS_PER_S / CALIBRATE_MS);
    uint8_t b = inb(PORT_B);
    outb(PORT_B, (uint8_t)((b & ~PORT_B_SPEAKER) | PORT_B_GATE2));
    outb(PIT_MODE, PIT_MODE_CH2_LOHI_MODE0);
    outb(PIT_CH2_DATA, (uint8_t)latch);
    outb(PIT_CH2_DATA, (uint8_t)(latch >> 8));
    uint64_t t0 = rdtsc();
    uint32_t spins = 0;
    while (!(inb(PORT_B) & PORT_B_OUT2))
        if (++spins == CALIBRATE_SPINS)
            break;
    uint64_t t1 = rdtsc();
    outb(PORT_B, b);
    return spins == CALIBRATE_SPINS ? 0 : t1 - t0;
}

/* Every source tsc_freq_choose() weighs; see tsc_freq.h for the order. */
static void gather(struct tsc_sources *s)
{
    memset(s, 0, sizeof(*s));
    s->hypervisor = (cpuid(CPUID_FEATURES, 0).ecx & CPUID1_ECX_HYPERVISOR) != 0;
    if (s->hypervisor) {
        uint32_t max = cpuid(CPUID_HV_BASE, 0).eax;
        s->hv_max_leaf = max >= CPUID_HV_BASE && max <= CPUID_HV_LAST ? max : 0;
        if (s->hv_max_leaf >= CPUID_HV_TIMING)
            s->hv_timing_khz = cpuid(CPUID_HV_TIMING, 0).eax;
        s->pvclock = kvmclock_read_scale(&s->pvclock_mul, &s->pvclock_shift) == 0;
    }
    uint32_t max = cpuid(CPUID_MAX_LEAF, 0).eax;
    if (max >= CPUID_TSC_CRYSTAL) {
        struct cpuid_regs r = cpuid(CPUID_TSC_CRYSTAL, 0);
        s->cpuid15_eax = r.eax, s->cpuid15_ebx = r.ebx, s->cpuid15_ecx = r.ecx;
    }
    if (max >= CPUID_FREQ)
        s->cpuid16_mhz = cpuid(CPUID_FREQ, 0).eax;
    s->pit_hz = pit_measure() * (MS_PER_S / CALIBRATE_MS);
}

void clock_init(void)
{
    if (calibrated)
        return;
    calibrated = true;
    struct tsc_sources s;
    struct tsc_choice c;
    gather(&s);
    if (tsc_freq_choose(&s, &c) < 0) {
        pv_warn("clock: cannot calibrate the TSC; assuming %llu MHz",
                (unsigned long long)(CLOCK_NOMINAL_HZ / MHZ));
        return;
    }
    clock_set_tsc_hz(c.hz);
    if (c.pit_disagrees)
        pv_warn("clock: tsc %llu MHz (%s); the PIT measured %llu MHz%s",
                (unsigned long long)(c.hz / MHZ), c.source,
                (unsigned long long)(s.pit_hz / MHZ),
                s.hypervisor ? " (its reads exit to the hypervisor below)" : "");
    else
        pv_debug("clock: tsc %llu MHz (%s)", (unsigned long long)(c.hz / MHZ), c.source);
}


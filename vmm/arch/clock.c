/* The TSC rate and deadlines; see clock.h. Calibration is clock_calibrate.c:
 * this half builds on the host too (the drivers' timeouts under test). */
#include "vmm/arch/clock.h"
#include "vmm/lib/cycles.h"

#define MS_PER_S 1000u

static uint64_t tsc_hz = CLOCK_NOMINAL_HZ;

uint64_t clock_ms_to_ticks(uint64_t hz, uint32_t ms)
{
    uint64_t per_ms = hz / MS_PER_S;
    if (per_ms && ms > UINT64_MAX / per_ms)
        return UINT64_MAX;
    return per_ms * ms;
}

void clock_set_tsc_hz(uint64_t hz)
{
    if (hz)
        tsc_hz = hz;
}

uint64_t clock_tsc_hz(void) { return tsc_hz; }

uint64_t clock_deadline(uint32_t ms)
{
    uint64_t now = rdtsc(), d = clock_ms_to_ticks(tsc_hz, ms);
    return now + d < now ? UINT64_MAX : now + d;
}

bool clock_passed(uint64_t deadline) { return rdtsc() >= deadline; }

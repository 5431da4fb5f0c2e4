/*
 * A coarse clock for device timeouts: the TSC, calibrated once against the
 * PIT (channel 2, the PC speaker gate), falling back to CPUID leaves 0x15
 * and 0x16, then to a nominal rate. Only used to bound polling loops, so an
 * error of a few percent does not matter; a wildly wrong rate only makes
 * timeouts longer or shorter, never infinite.
 */
#ifndef PV_VMM_CLOCK_H
#define PV_VMM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define CLOCK_NOMINAL_HZ 2000000000ull /* until calibrated, and last resort */

/* Calibrate the TSC (idempotent; the PIT is touched only the first time).
 * vmm/arch/clock_calibrate.c; the core calls it once at start, before any
 * driver sets a deadline. */
void clock_init(void);
/* What clock_init found (0 is ignored). */
void clock_set_tsc_hz(uint64_t hz);
/* TSC ticks per second (CLOCK_NOMINAL_HZ before clock_init). */
uint64_t clock_tsc_hz(void);
/* Ticks in ms milliseconds at hz ticks per second (saturating). */
uint64_t clock_ms_to_ticks(uint64_t hz, uint32_t ms);
/* A deadline ms milliseconds from now, and whether it has passed. */
uint64_t clock_deadline(uint32_t ms);
bool clock_passed(uint64_t deadline);

#endif

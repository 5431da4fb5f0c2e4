/*
 * Telemetry on the console: CSV records, one per line, each line starting
 * with TELEMETRY_PREFIX so that a host tool (scripts/pvsplit.py) can take
 * them out of the guest's text. Format (docs/monitor.md):
 *
 *   [pvt] columns,TYPE,COL,COL,...   once per record type, before its first record
 *   [pvt] sample,...                 every N ms of guest time (config `telemetry N`)
 *   [pvt] fault,...                  fault-trace events since the last sample
 *                                    (config `telemetry N,trace`)
 *   [pvt] lost,ms,EVENTS             trace events the ring overwrote before
 *                                    they could be sent
 *
 * Sample counters are deltas over the interval (gauges: frames_used,
 * frames_free), and a last sample is sent when the guest stops, so the
 * counters of all samples add up to the final statistics block.
 * "Guest time" leaves out the time the guest spent paused in the monitor.
 */
#ifndef PV_VMM_MONITOR_TELEMETRY_H
#define PV_VMM_MONITOR_TELEMETRY_H

#include "ept/fault_stats.h"
#include "vmm/vcpu.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TELEMETRY_PREFIX "[pvt] "
#define TRACE_CSV_COLUMNS "seq,tsc,gpa,rip,access,entry,rights,resolution,cycles"

/* Start sampling every ms of guest time (0: off); trace: stream fault
 * events too. tsc_hz: the calibrated TSC rate. */
void telemetry_init(struct vcpu *v, uint32_t ms, bool trace, uint64_t tsc_hz);
/* After each exit (cheap when no sample is due). */
void telemetry_tick(struct vcpu *v, uint64_t now);
/* The guest stopped: send the last sample. */
void telemetry_final(struct vcpu *v);

/* One trace event as CSV (TRACE_CSV_COLUMNS); seq: its number since the
 * ring was last cleared. */
void trace_csv(uint64_t seq, const struct fault_event *ev, char *buf, size_t len);

#endif

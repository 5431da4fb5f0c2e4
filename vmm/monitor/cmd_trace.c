/*
 * Monitor: the fault-trace ring (ept/fault_stats.h) — `trace on|off|clear`
 * and `trace dump [N]` as CSV (TRACE_CSV_COLUMNS, header first).
 *
 * Off is a ring of capacity 0, which ept/ documents as "records nothing but
 * still counts": the counters stay exact, only the events stop. On restores
 * the capacity the boot path gave the ring; clear empties it.
 */
#include "ept/mm.h"
#include "vmm/monitor/mon.h"
#include "vmm/monitor/telemetry.h"

#include <string.h>

#define DUMP_DEFAULT 32u
#define CSV_LINE 160

static size_t saved_cap; /* the ring's capacity while tracing is off */

static void dump(const struct fault_trace *tr, uint64_t n)
{
    size_t held = fault_trace_len(tr);
    if (n > held)
        n = held;
    mon_out(TRACE_CSV_COLUMNS);
    for (uint64_t i = n; i-- > 0;) { /* oldest first */
        struct fault_event ev;
        if (!fault_trace_get(tr, (size_t)i, &ev))
            continue;
        char line[CSV_LINE];
        trace_csv(tr->recorded - 1 - i, &ev, line, sizeof(line));
        mon_out("%s", line);
    }
}

static enum mon_next cmd_trace(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    struct fault_trace *tr = &v->mm->trace;
    if (argc < 2)
        return mon_usage(c);
    const char *op = argv[1];
    if (!strcmp(op, "dump")) {
        uint64_t n = DUMP_DEFAULT;
        if (argc > 3 || (argc == 3 && !mon_parse_u64(argv[2], &n)))
            return mon_usage(c);
        dump(tr, n);
        return MON_STAY;
    }
    if (argc != 2)
        return mon_usage(c);
    if (!strcmp(op, "on")) {
        if (!tr->cap && saved_cap)
            tr->cap = saved_cap;
        saved_cap = 0;
        if (!tr->cap)
            mon_out("trace: no ring was set up at boot");
        else
            mon_out("trace on (ring of %zu events, %zu held)", tr->cap, fault_trace_len(tr));
    } else if (!strcmp(op, "off")) {
        if (tr->cap) {
            saved_cap = tr->cap;
            tr->cap = 0;
        }
        mon_out("trace off (faults are still counted)");
    } else if (!strcmp(op, "clear")) {
        size_t cap = tr->cap ? tr->cap : saved_cap;
        bool off = !tr->cap;
        fault_trace_init(tr, tr->ev, cap);
        if (off)
            tr->cap = 0;
        mon_out("trace cleared");
    } else {
        return mon_usage(c);
    }
    return MON_STAY;
}

const struct mon_cmd mon_cmds_trace[] = {
    { "trace", "on|off|clear|dump [N]", "fault-trace ring: switch, empty, last N events as CSV",
      cmd_trace },
    { 0 },
};

/* CSV telemetry on the console; see telemetry.h. */
#include "vmm/monitor/telemetry.h"
#include "ept/frame.h"
#include "swap/swap.h"
#include "vmm/arch/arch.h"
#include "vmm/arch/clock.h"
#include "vmm/console.h"
#include "vmm/drivers/serial.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"
#include "vmm/monitor/monitor.h"

#include <string.h>

#define LINE_LEN 1024
#define MS_PER_S 1000u
#define MID_LINE_WAIT_MS 500u /* longest a sample waits for a guest line to end */

/* Appends ",PREFIXname" with '-' made '_' (CSV column names). */
static size_t append_name(char *line, size_t n, const char *prefix, const char *name)
{
    if (n >= LINE_LEN)
        return n;
    n += (size_t)pv_snprintf(line + n, LINE_LEN - n, ",%s%s", prefix, name);
    if (n > LINE_LEN - 1)
        n = LINE_LEN - 1;
    for (char *p = line + n - 1; *p != ','; p--)
        if (*p == '-')
            *p = '_';
    return n;
}

/* Cumulative counters a sample reports the deltas of. */
struct counters {
    uint64_t fault[RES_COUNT];
    uint64_t faults, ins, ins_minor, outs, ra_hits, ra_misses, scanned, exits;
    uint64_t exit_kind[EXIT_KIND_COUNT];
};

static struct {
    bool on, trace;
    uint64_t interval, next, start, ticks_per_ms;
    struct counters last;
    uint64_t trace_seen;          /* trace events already sent (ring's count) */
    uint64_t defer_since, defer_max; /* waiting for the guest's line to end */
} tm;

static void send(const char *line)
{
    char buf[LINE_LEN + sizeof(TELEMETRY_PREFIX) + 1];
    int n = pv_snprintf(buf, sizeof(buf), TELEMETRY_PREFIX "%s\n", line);
    if (n > 0)
        log_console_write(buf, strlen(buf));
}

static void read_counters(const struct vcpu *v, struct counters *c)
{
    memset(c, 0, sizeof(*c));
    for (int r = 0; r < RES_COUNT; r++)
        c->fault[r] = v->mm->stats.count[r];
    c->faults = v->mm->stats.total;
    for (int k = 0; k < EXIT_KIND_COUNT; k++) {
        c->exits += v->exits[k];
        c->exit_kind[k] = v->exits[k];
    }
    if (v->swap) {
        c->ins = v->swap->st.ins;
        c->ins_minor = v->swap->st.ins_minor;
        c->outs = v->swap->st.outs;
        c->ra_hits = v->swap->ra.st.hits;
        c->ra_misses = v->swap->ra.st.misses;
        c->scanned = v->swap->st.scanned;
    }
}

static size_t append(char *buf, size_t n, const char *fmt, unsigned long long x)
{
    if (n < LINE_LEN)
        n += (size_t)pv_snprintf(buf + n, LINE_LEN - n, fmt, x);
    return n < LINE_LEN ? n : LINE_LEN;
}

static void send_columns(void)
{
    char line[LINE_LEN];
    size_t n = (size_t)pv_snprintf(line, sizeof(line), "columns,sample,ms,frames_used,"
                                                       "frames_free,exits,faults");
    for (int r = 0; r < RES_COUNT; r++)
        n = append_name(line, n, "f_", fault_res_name((enum fault_res)r));
    if (n < sizeof(line))
        n += (size_t)pv_snprintf(line + n, sizeof(line) - n,
                                 ",swapins_major,swapins_minor,swapouts,"
                                 "ra_hits,ra_misses,reclaim_scans");
    for (int k = 0; k < EXIT_KIND_COUNT; k++)
        n = append_name(line, n, "x_", exit_kind_name((enum exit_kind)k));
    send(line);
    if (tm.trace) {
        send("columns,fault," TRACE_CSV_COLUMNS);
        send("columns,lost,ms,events");
    }
}

void telemetry_init(struct vcpu *v, uint32_t ms, bool trace, uint64_t tsc_hz)
{
    memset(&tm, 0, sizeof(tm));
    if (!ms)
        return;
    tm.on = true;
    tm.trace = trace;
    tm.ticks_per_ms = tsc_hz / MS_PER_S ? tsc_hz / MS_PER_S : 1;
    tm.interval = clock_ms_to_ticks(tsc_hz, ms);
    tm.defer_max = clock_ms_to_ticks(tsc_hz, MID_LINE_WAIT_MS);
    tm.start = rdtsc();
    tm.next = tm.start + tm.interval;
    read_counters(v, &tm.last);
    tm.trace_seen = v->mm->trace.recorded;
    pv_info("telemetry: a sample every %u ms of guest time%s, lines start with '%s'", ms,
            trace ? ", fault events too" : "", TELEMETRY_PREFIX);
    send_columns();
}

void trace_csv(uint64_t seq, const struct fault_event *ev, char *buf, size_t len)
{
    static const char *const states[] = { "none", "present", "swap" };
    char acc[4], rights[4];
    fault_rights_str(ev->access, acc);
    fault_rights_str(ev->entry_rights, rights);
    pv_snprintf(buf, len, "%llu,%llu,0x%llx,0x%llx,%s,%s,%s,%s,%u", (unsigned long long)seq,
                (unsigned long long)ev->tsc, (unsigned long long)ev->gpa,
                (unsigned long long)ev->rip, acc,
                ev->entry_state < 3 ? states[ev->entry_state] : "?", rights,
                fault_res_name((enum fault_res)ev->res), ev->cycles);
}

static uint64_t guest_ms(uint64_t now)
{
    return (now - tm.start - monitor_paused_ticks()) / tm.ticks_per_ms;
}

static void send_trace(const struct vcpu *v, uint64_t ms)
{
    const struct fault_trace *tr = &v->mm->trace;
    uint64_t fresh = tr->recorded - tm.trace_seen;
    size_t held = fault_trace_len(tr);
    if (tr->recorded < tm.trace_seen) /* the ring was cleared (monitor) */
        fresh = tr->recorded;
    tm.trace_seen = tr->recorded;
    if (fresh > held) {
        char line[64];
        pv_snprintf(line, sizeof(line), "lost,%llu,%llu", (unsigned long long)ms,
                    (unsigned long long)(fresh - held));
        send(line);
        fresh = held;
    }
    for (uint64_t i = fresh; i-- > 0;) { /* oldest first */
        struct fault_event ev;
        if (!fault_trace_get(tr, (size_t)i, &ev))
            continue;
        char line[LINE_LEN];
        int n = pv_snprintf(line, sizeof(line), "fault,");
        trace_csv(tr->recorded - 1 - i, &ev, line + n, sizeof(line) - (size_t)n);
        send(line);
    }
}

static void sample(struct vcpu *v, uint64_t now)
{
    struct counters c;
    read_counters(v, &c);
    const struct counters *l = &tm.last;
    const struct frame_pool *fp = v->mm->fp;
    char line[LINE_LEN];
    uint64_t ms = guest_ms(now);
    size_t n = (size_t)pv_snprintf(line, sizeof(line), "sample,%llu,%zu,%zu,%llu,%llu",
                                   (unsigned long long)ms, frame_used_count(fp),
                                   frame_free_count(fp),
                                   (unsigned long long)(c.exits - l->exits),
                                   (unsigned long long)(c.faults - l->faults));
    for (int r = 0; r < RES_COUNT; r++)
        n = append(line, n, ",%llu", c.fault[r] - l->fault[r]);
    n = append(line, n, ",%llu", c.ins - l->ins);
    n = append(line, n, ",%llu", c.ins_minor - l->ins_minor);
    n = append(line, n, ",%llu", c.outs - l->outs);
    n = append(line, n, ",%llu", c.ra_hits - l->ra_hits);
    n = append(line, n, ",%llu", c.ra_misses - l->ra_misses);
    n = append(line, n, ",%llu", c.scanned - l->scanned);
    for (int k = 0; k < EXIT_KIND_COUNT; k++)
        n = append(line, n, ",%llu", c.exit_kind[k] - l->exit_kind[k]);
    if (tm.trace)
        send_trace(v, ms);
    send(line);
    tm.last = c;
}

void telemetry_tick(struct vcpu *v, uint64_t now)
{
    if (!tm.on || now < tm.next)
        return;
    /* A record would break the guest's half-written line in two: wait for
     * its end, but not forever (a shell prompt waits for input). While the
     * guest writes the console without exits the line is unknown: ask for
     * the traps back until it is known at a line start (vmm/console.h). */
    if (serial_line_state() != SERIAL_LINE_START) {
        if (serial_line_state() == SERIAL_LINE_UNKNOWN)
            console_want_line_start();
        if (!tm.defer_since)
            tm.defer_since = now;
        if (now - tm.defer_since < tm.defer_max)
            return;
    }
    tm.defer_since = 0;
    sample(v, now);
    /* Time paused in the monitor is not guest time: the next sample is an
     * interval of running after this one. */
    tm.next = now + tm.interval;
}

void telemetry_final(struct vcpu *v)
{
    if (tm.on)
        sample(v, rdtsc());
}

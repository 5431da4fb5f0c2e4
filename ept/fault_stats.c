/* Fault counters and trace ring; see fault_stats.h for the contracts. */
#include "ept/fault_stats.h"

#include "vmm/lib/fmt.h"

#include <string.h>

static const char *const fault_res_names[RES_COUNT] = {
    [RES_ZERO_MAP] = "zero-map",
    [RES_ANON_NEW] = "anon-new",
    [RES_ANON_HUGE] = "anon-huge",
    [RES_COW_ZERO] = "cow-zero",
    [RES_COW_REUSE] = "cow-reuse",
    [RES_COW_COPY] = "cow-copy",
    [RES_FILE_MAP] = "file-map",
    [RES_FILE_COPY] = "file-copy",
    [RES_ROM_MAP] = "rom-map",
    [RES_PASSTHROUGH] = "passthrough-map",
    [RES_MMIO] = "mmio",
    [RES_OPEN_BUS] = "open-bus",
    [RES_DENIED] = "denied",
    [RES_SPURIOUS] = "spurious",
    [RES_REPROTECT] = "reprotect",
    [RES_EXEC] = "exec",
    [RES_SWAP_IN] = "swap-in",
    [RES_SWAP_MINOR] = "swap-in-minor",
    [RES_OOM] = "oom",
    [RES_ERROR] = "error",
};

#define RENDER_LINE_LEN 160

const char *fault_res_name(enum fault_res res)
{
    if ((unsigned)res >= RES_COUNT || !fault_res_names[res])
        return "?";
    return fault_res_names[res];
}

void fault_stats_init(struct fault_stats *st) { memset(st, 0, sizeof(*st)); }

void fault_trace_init(struct fault_trace *tr, struct fault_event *buf, size_t cap)
{
    tr->ev = buf;
    tr->cap = buf ? cap : 0;
    tr->recorded = 0;
}

void fault_account(struct fault_stats *st, struct fault_trace *tr,
                   const struct fault_event *ev)
{
    unsigned res = ev->res < RES_COUNT ? ev->res : RES_ERROR;

    st->count[res]++;
    st->cycles[res] += ev->cycles;
    st->total++;
    if (tr->cap) {
        tr->ev[tr->recorded % tr->cap] = *ev;
        tr->recorded++;
    }
}

size_t fault_trace_len(const struct fault_trace *tr)
{
    return tr->recorded < tr->cap ? (size_t)tr->recorded : tr->cap;
}

bool fault_trace_get(const struct fault_trace *tr, size_t i,
                     struct fault_event *out)
{
    if (i >= fault_trace_len(tr))
        return false;
    *out = tr->ev[(tr->recorded - 1 - i) % tr->cap];
    return true;
}

void fault_rights_str(uint32_t rights, char buf[4])
{
    buf[0] = (rights & ACC_R) ? 'r' : '-';
    buf[1] = (rights & ACC_W) ? 'w' : '-';
    buf[2] = (rights & ACC_X) ? 'x' : '-';
    buf[3] = '\0';
}

void fault_stats_render(const struct fault_stats *st, emit_fn emit, void *ctx)
{
    char line[RENDER_LINE_LEN];

    for (unsigned r = 0; r < RES_COUNT; r++) {
        pv_snprintf(line, sizeof(line), "fault %s %llu", fault_res_name(r),
                    (unsigned long long)st->count[r]);
        emit(ctx, line);
    }
    pv_snprintf(line, sizeof(line), "fault total %llu",
                (unsigned long long)st->total);
    emit(ctx, line);
    pv_snprintf(line, sizeof(line), "open-bus reads %llu writes %llu",
                (unsigned long long)st->open_bus_reads,
                (unsigned long long)st->open_bus_writes);
    emit(ctx, line);
    pv_snprintf(line, sizeof(line), "fault around %llu", (unsigned long long)st->around);
    emit(ctx, line);
    pv_snprintf(line, sizeof(line), "fault around-file %llu",
                (unsigned long long)st->around_file);
    emit(ctx, line);
    pv_snprintf(line, sizeof(line), "fault around-cow %llu",
                (unsigned long long)st->around_cow);
    emit(ctx, line);
    pv_snprintf(line, sizeof(line), "fault huge-found-zero %llu",
                (unsigned long long)st->huge_found_zero);
    emit(ctx, line);
    /* The handler's cost per resolution taken (TSC cycles per fault). */
    for (unsigned r = 0; r < RES_COUNT; r++) {
        if (!st->count[r])
            continue;
        pv_snprintf(line, sizeof(line), "fault-cycles %s %llu per fault", fault_res_name(r),
                    (unsigned long long)(st->cycles[r] / st->count[r]));
        emit(ctx, line);
    }
}

static void entry_str(const struct fault_event *ev, char *buf, size_t len)
{
    char rw[4];

    switch (ev->entry_state) {
    case S2_PRESENT:
        fault_rights_str(ev->entry_rights, rw);
        pv_snprintf(buf, len, "present %s", rw);
        break;
    case S2_SWAP:
        pv_snprintf(buf, len, "swap");
        break;
    default:
        pv_snprintf(buf, len, "none");
        break;
    }
}

void fault_trace_render(const struct fault_trace *tr, size_t n, emit_fn emit,
                        void *ctx)
{
    char line[RENDER_LINE_LEN], acc[4], entry[16];
    size_t have = fault_trace_len(tr);

    if (n > have)
        n = have;
    for (size_t i = n; i-- > 0;) {
        struct fault_event ev;
        if (!fault_trace_get(tr, i, &ev))
            continue;
        fault_rights_str(ev.access, acc);
        entry_str(&ev, entry, sizeof(entry));
        pv_snprintf(line, sizeof(line),
                    "#%llu tsc %llu gpa 0x%010llx rip 0x%llx acc %s entry %s "
                    "res %s cycles %u",
                    (unsigned long long)(tr->recorded - 1 - i),
                    (unsigned long long)ev.tsc, (unsigned long long)ev.gpa,
                    (unsigned long long)ev.rip, acc, entry,
                    fault_res_name(ev.res), ev.cycles);
        emit(ctx, line);
    }
}

/*
 * Stage-2 fault accounting: how each fault was resolved (counters) and what
 * the last faults were (a trace ring). The hypervisor's answer to the
 * exceptions/page_fault tracepoints Linux offers for its own page faults: every fault the handler
 * sees is counted under exactly one resolution and recorded as one event.
 *
 * Storage: the trace ring lives in a caller-provided array (no malloc in the
 * hypervisor). A ring of capacity 0 records nothing but still counts.
 *
 * Rendering goes through an emit callback, one text line per call, so the
 * serial monitor, the e2e tests and the host tests all see the same lines.
 */
#ifndef PV_EPT_FAULT_STATS_H
#define PV_EPT_FAULT_STATS_H

#include "ept/s2pt.h"
#include "vmm/lib/types.h"

/* How a fault was resolved. Keep fault_res_names[] (fault_stats.c) in the
 * same order. */
enum fault_res {
    RES_ZERO_MAP = 0,  /* anon read of an untouched page: shared zero frame, RO */
    RES_ANON_NEW,      /* anon write of an untouched page: fresh zeroed 4 KiB frame */
    RES_ANON_HUGE,     /* anon write into an empty, aligned block: zeroed 2 MiB leaf */
    RES_COW_ZERO,      /* write to a zero-frame mapping: fresh zeroed frame */
    RES_COW_REUSE,     /* write to RO mapping of a sole-owner frame: make writable */
    RES_COW_COPY,      /* write to a shared / staged frame: copy into a new frame */
    RES_FILE_MAP,      /* file-private read, page fully in the image: map image RO */
    RES_FILE_COPY,     /* file-private write, or partial last page: copy (+ zero-fill) */
    RES_ROM_MAP,       /* ROM read/exec: map the image read-only */
    RES_PASSTHROUGH,   /* passthrough: map the host range with the region's memtype */
    RES_MMIO,          /* emulated MMIO: hand to the device model */
    RES_OPEN_BUS,      /* no region: reads all-ones, writes dropped */
    RES_DENIED,        /* the region does not allow the access */
    RES_SPURIOUS,      /* present and allowed (stale TLB): invalidate, retry */
    RES_REPROTECT,     /* present, a right the region grants is missing and no
                          copy is needed (e.g. taken away for aging): restore */
    RES_EXEC,          /* first fetch from a pool frame not known as code,
                          mapped without execute (guest_mm.learn_exec):
                          grant it, the frame is code from now on */
    RES_SWAP_IN,       /* swap entry resolved by the swap-in hook (major: read
                          from the swap device) */
    RES_SWAP_MINOR,    /* swap entry resolved from the swap cache, no I/O */
    RES_OOM,           /* no frame / table page: caller pauses the guest */
    RES_ERROR,         /* unhandled entry (e.g. swap entry, no swap-in hook) */
    RES_COUNT,
};

const char *fault_res_name(enum fault_res res);

/* One traced fault. entry_state/entry_rights: what stage-2 held for the gpa
 * when the handler looked (S2_NONE when it never looked, e.g. open bus). */
struct fault_event {
    uint64_t tsc;          /* when the handler started */
    gpa_t gpa;
    uint64_t rip;
    uint32_t cycles;       /* handler duration in TSC cycles (saturating) */
    uint8_t access;        /* ACC_* attempted */
    uint8_t entry_state;   /* enum s2_state */
    uint8_t entry_rights;  /* ACC_* of the entry when present */
    uint8_t res;           /* enum fault_res */
};

struct fault_stats {
    uint64_t count[RES_COUNT];
    uint64_t cycles[RES_COUNT];   /* summed handler cycles per resolution */
    uint64_t total;
    uint64_t open_bus_reads, open_bus_writes;
    uint64_t around;              /* pages mapped by fault-around (no fault of their own) */
    uint64_t around_file;         /* image pages mapped read-only by mm_file_around */
    uint64_t around_cow;          /* image pages copied ahead by mm_cow_around */
    uint64_t huge_found_zero;     /* anon-huge blocks that read as zero: mapped uncleared */
};

struct fault_trace {
    struct fault_event *ev;   /* caller's array */
    size_t cap;
    uint64_t recorded;        /* events ever recorded; next slot = recorded % cap */
};

void fault_stats_init(struct fault_stats *st);
void fault_trace_init(struct fault_trace *tr, struct fault_event *buf, size_t cap);

/* Count one resolution taking cycles, and record the event in the ring. */
void fault_account(struct fault_stats *st, struct fault_trace *tr,
                   const struct fault_event *ev);

/* Copy the i-th most recent event (0 = newest) into *out; false when the ring
 * holds fewer than i + 1 events. */
bool fault_trace_get(const struct fault_trace *tr, size_t i,
                     struct fault_event *out);
/* Events currently held in the ring. */
size_t fault_trace_len(const struct fault_trace *tr);

typedef void (*emit_fn)(void *ctx, const char *line);

/*
 * Counters, one line per resolution ("fault zero-map 12"), every resolution
 * listed even when zero so the output has a fixed shape, then
 * "fault total N", "open-bus reads N writes M", "fault around N",
 * "fault around-file N", "fault huge-found-zero N", then
 * "fault-cycles RES N per fault" for each
 * resolution taken.
 */
void fault_stats_render(const struct fault_stats *st, emit_fn emit, void *ctx);

/*
 * The last n events (fewer if the ring holds fewer), oldest first, one line
 * each:
 *   "#41 tsc 123456 gpa 0x0000100000 rip 0xffffffff81000000 acc -w-
 *    entry present r-x res cow-zero cycles 812"
 */
void fault_trace_render(const struct fault_trace *tr, size_t n, emit_fn emit,
                        void *ctx);

/* "rwx" with '-' for missing rights into buf (at least 4 bytes). */
void fault_rights_str(uint32_t rights, char buf[4]);

#endif

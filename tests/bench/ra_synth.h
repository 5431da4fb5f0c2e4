/*
 * Synthetic swap-in traces for the readahead replay (ra_replay.h). Each is
 * a footprint of RS_FOOTPRINT pages at RS_BASE, all swapped out at the start
 * (the trace's `swapped` range), with a resident set of a quarter of it:
 *
 *   seq        two passes up the footprint
 *   down       one pass down the footprint
 *   stride:S   two passes up, touching every S-th page
 *   random     uniform random pages (a fixed-seed generator), 2 x footprint
 *              accesses
 *   mix        sequential runs of 8 to 64 pages, strided runs (stride 2 to 4)
 *              and random single pages, a third of the accesses each,
 *              interleaved
 *
 * Deterministic: the same trace every time (no time, no rand()).
 */
#ifndef PV_TESTS_RA_SYNTH_H
#define PV_TESTS_RA_SYNTH_H

#include "tests/bench/ra_replay.h"

#define RS_BASE 0x10000u     /* first page (256 MiB into the guest) */
#define RS_FOOTPRINT 8192u   /* pages (32 MiB) */

enum rs_kind { RS_SEQ, RS_DOWN, RS_STRIDE, RS_RANDOM, RS_MIX };

/* Fill t (rr_trace_init'ed by the caller) with the trace of kind; stride:
 * for RS_STRIDE (2 or more). Returns 0, -1 when out of memory. */
int rs_make(struct rr_trace *t, enum rs_kind kind, uint32_t stride);

/* The synthetic traces the bench and the property test replay. */
struct rs_spec {
    const char *name;
    enum rs_kind kind;
    uint32_t stride;
};
extern const struct rs_spec rs_traces[];
extern const size_t rs_ntraces;

#endif

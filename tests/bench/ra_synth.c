/* Synthetic swap-in traces (see ra_synth.h). */
#include "tests/bench/ra_synth.h"

#define SEED 0x9e3779b97f4a7c15ull
#define SEQ_PASSES 2u
#define RANDOM_FACTOR 2u       /* random: accesses per footprint page */
#define MIX_RUN_MIN 8u
#define MIX_RUN_SPAN 57u       /* sequential runs of 8..64 pages */
#define MIX_STRIDE_RUN 16u     /* strided runs: 16 steps */

const struct rs_spec rs_traces[] = {
    { "seq", RS_SEQ, 1 },          { "down", RS_DOWN, 1 },
    { "stride:2", RS_STRIDE, 2 },  { "stride:4", RS_STRIDE, 4 },
    { "stride:8", RS_STRIDE, 8 },  { "random", RS_RANDOM, 1 },
    { "mix", RS_MIX, 1 },
};
const size_t rs_ntraces = sizeof(rs_traces) / sizeof(rs_traces[0]);

/* xorshift64*: fixed seed, so every run gets the same trace. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static int add_range(struct rr_trace *t, uint64_t first, uint32_t count, uint32_t step)
{
    for (uint32_t i = 0; i < count; i++) {
        uint64_t p = first + (uint64_t)i * step;
        if (p >= RS_BASE + RS_FOOTPRINT)
            break;
        if (rr_trace_add(t, p) < 0)
            return -1;
    }
    return 0;
}

static int make_mix(struct rr_trace *t)
{
    uint64_t s = SEED;
    uint32_t target = RANDOM_FACTOR * RS_FOOTPRINT;
    while (t->n < target) {
        uint64_t r = next_rand(&s);
        uint64_t start = RS_BASE + (r >> 8) % RS_FOOTPRINT;
        int rc = 0;
        switch (r % 3) {
        case 0:
            rc = add_range(t, start, MIX_RUN_MIN + (uint32_t)((r >> 40) % MIX_RUN_SPAN), 1);
            break;
        case 1:
            rc = add_range(t, start, MIX_STRIDE_RUN, 2 + (uint32_t)((r >> 40) % 3));
            break;
        default: /* random single pages: as many accesses as a run */
            for (unsigned i = 0; i < MIX_STRIDE_RUN && rc == 0; i++)
                rc = rr_trace_add(t, RS_BASE + next_rand(&s) % RS_FOOTPRINT);
            break;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

int rs_make(struct rr_trace *t, enum rs_kind kind, uint32_t stride)
{
    uint64_t s = SEED;
    t->swapped_lo = RS_BASE;
    t->swapped_hi = RS_BASE + RS_FOOTPRINT;
    t->capacity = RS_FOOTPRINT / 4;
    switch (kind) {
    case RS_SEQ:
        for (unsigned pass = 0; pass < SEQ_PASSES; pass++)
            if (add_range(t, RS_BASE, RS_FOOTPRINT, 1) < 0)
                return -1;
        return 0;
    case RS_DOWN:
        for (uint32_t i = RS_FOOTPRINT; i-- > 0;)
            if (rr_trace_add(t, RS_BASE + i) < 0)
                return -1;
        return 0;
    case RS_STRIDE:
        if (stride < 2)
            return -1;
        /* a quarter of the pages a pass touches: the next pass faults again */
        t->capacity = RS_FOOTPRINT / stride / 4;
        if (t->capacity < RR_MIN_CAPACITY)
            t->capacity = RR_MIN_CAPACITY;
        for (unsigned pass = 0; pass < SEQ_PASSES; pass++)
            if (add_range(t, RS_BASE, RS_FOOTPRINT / stride, stride) < 0)
                return -1;
        return 0;
    case RS_RANDOM:
        for (uint32_t i = 0; i < RANDOM_FACTOR * RS_FOOTPRINT; i++)
            if (rr_trace_add(t, RS_BASE + next_rand(&s) % RS_FOOTPRINT) < 0)
                return -1;
        return 0;
    case RS_MIX:
        return make_mix(t);
    }
    return -1;
}

/*
 * Exit accounting beyond the per-kind counters of struct vcpu: I/O exits by
 * port and MSR exits by MSR, for the monitor's `stats` and the telemetry.
 *
 * Cheap enough to leave on (tests/bench/bench_exit.c measures it against
 * the fault path): a fixed open-addressed table per kind, one multiply and
 * usually one probe per exit, no allocation. A table that is full counts
 * the exit under "other" rather than evicting anything.
 */
#ifndef PV_VMM_EXIT_STATS_H
#define PV_VMM_EXIT_STATS_H

#include "ept/fault_stats.h"
#include "vmm/vcpu.h"

#include <stdint.h>

#define EXIT_STATS_SLOTS 128u  /* per table; power of two */

struct exit_key_count {
    uint32_t key;              /* port or MSR index */
    uint32_t used;
    uint64_t count;
};

struct exit_key_table {
    struct exit_key_count slot[EXIT_STATS_SLOTS];
    uint64_t other;            /* exits whose key found no free slot */
    uint32_t keys;             /* slots in use */
};

struct exit_stats {
    struct exit_key_table io, msr;
};

/* The hypervisor's one instance (one vCPU). */
extern struct exit_stats vm_exit_stats;

/* Count one exit under key (called by exit_account). */
static inline void exit_stats_count_key(struct exit_key_table *t, uint32_t key)
{
    uint32_t i = (key * 0x9E3779B1u) >> (32 - 7);
    _Static_assert(EXIT_STATS_SLOTS == 1u << 7, "hash width must match the table");
    for (uint32_t n = 0; n < EXIT_STATS_SLOTS; n++, i = (i + 1) & (EXIT_STATS_SLOTS - 1)) {
        struct exit_key_count *s = &t->slot[i];
        if (s->used && s->key == key) {
            s->count++;
            return;
        }
        if (!s->used) {
            s->used = 1;
            s->key = key;
            s->count = 1;
            t->keys++;
            return;
        }
    }
    t->other++;
}

/* Count one exit: per kind in v->exits, and by port / MSR. */
static inline void exit_account(struct vcpu *v, struct exit_stats *st, const struct vm_exit *e)
{
    v->exits[e->kind]++;
    if (e->kind == EXIT_IO)
        exit_stats_count_key(&st->io, e->u.io.port);
    else if (e->kind == EXIT_MSR_READ || e->kind == EXIT_MSR_WRITE)
        exit_stats_count_key(&st->msr, e->u.msr.index);
}

/* The table's keys by count, highest first: at most max lines
 *   "<what> 0x3f8 1234"  (what: "io-port" or "msr")
 * then "<what> other N" when keys were left out or overflowed. */
void exit_stats_render(const struct exit_key_table *t, const char *what, unsigned max,
                       emit_fn emit, void *ctx);

#endif

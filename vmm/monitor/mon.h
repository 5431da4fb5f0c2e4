/*
 * Private to vmm/monitor: the command table entries each group file
 * exports, and the output and argument helpers they share.
 *
 * Contract for a command: print its answer with mon_out / mon_emit, one
 * line per call; a bad argument is answered with exactly one line
 * (mon_usage or mon_out) and the command returns MON_STAY.
 */
#ifndef PV_VMM_MONITOR_MON_H
#define PV_VMM_MONITOR_MON_H

#include "vmm/vcpu.h"

#include <stdbool.h>
#include <stdint.h>

#define MON_ARGS_MAX 8

enum mon_next {
    MON_STAY,     /* read the next command */
    MON_LEAVE,    /* resume the guest (continue, or quit after vcpu_stop) */
};

struct mon_cmd {
    const char *name;
    const char *args;     /* synopsis of the arguments, "" when none */
    const char *help;     /* one line */
    enum mon_next (*run)(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv);
};

/* Each group: an array ended by an entry with name NULL. */
extern const struct mon_cmd mon_cmds_stats[];
extern const struct mon_cmd mon_cmds_mem[];
extern const struct mon_cmd mon_cmds_vcpu[];
extern const struct mon_cmd mon_cmds_swap[];
extern const struct mon_cmd mon_cmds_trace[];

/* One line of monitor output (a newline is added). */
void mon_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* emit_fn for the renderers (ctx: a prefix string, or NULL). */
void mon_emit(void *ctx, const char *line);
/* "usage: NAME ARGS". */
enum mon_next mon_usage(const struct mon_cmd *c);

/* Unsigned number: decimal, or hex with 0x; false when s is not one. */
bool mon_parse_u64(const char *s, uint64_t *out);
/* A byte count "4096", "0x1000", "4K", "16M" (K/M/G suffixes). */
bool mon_parse_size(const char *s, uint64_t *out);

#endif

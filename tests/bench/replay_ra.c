/*
 * replay_ra: swap-in traces replayed against every readahead policy of
 * swap/readahead.c (linked in), over the memory model of ra_replay.h.
 *
 *   build/host/bench/replay_ra [TRACE...]
 *
 * Replays the synthetic traces (ra_synth.h) and the recorded ones given
 * (default: every .trace file in tests/traces; scripts/ra-record.py makes them)
 * against off, cluster:8, cluster:16 and auto, and prints one table: per
 * trace and policy the resident set (pages), trace entries, major faults,
 * readahead hits, pages read, device requests, accuracy and coverage.
 * Then the goal of issue 14 per synthetic trace (rr_goal_met): auto beats
 * cluster:8 on sequential and strided traces, reads no more than off on
 * random ones. Exit status 0, 1 when a trace cannot be read or a goal is
 * missed, 2 for bad arguments.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bench/ra_goal.h"
#include "tests/bench/ra_replay.h"
#include "tests/bench/ra_synth.h"

#define DEFAULT_GLOB "tests/traces/*.trace"

static void header(void)
{
    printf("%-16s %-10s %8s %8s %8s %8s %8s %8s %6s %6s\n", "trace", "policy", "resident",
           "entries", "majors", "ra-hits", "read", "requests", "accur", "cover");
}

static void row(const char *trace, const char *policy, const struct rr_result *r)
{
    printf("%-16s %-10s %8u %8llu %8llu %8llu %8llu %8llu %5.1f%% %5.1f%%\n", trace, policy,
           r->capacity, (unsigned long long)r->accesses, (unsigned long long)r->majors,
           (unsigned long long)r->ra_hits, (unsigned long long)r->pages_read,
           (unsigned long long)r->requests, 100.0 * rr_accuracy(r), 100.0 * rr_coverage(r));
}

/* Replay t against every policy into res[]; prints the rows. */
static int replay_all(const struct rr_trace *t, struct rr_result res[RG_NPOLICIES])
{
    uint32_t cap = t->capacity ? t->capacity : rr_calibrate(t);
    for (size_t i = 0; i < RG_NPOLICIES; i++) {
        if (rr_replay(t, &rg_policies[i], cap, &res[i]) < 0) {
            fprintf(stderr, "replay_ra: %s: replay under %s failed (out of memory)\n",
                    t->name, rg_policies[i].name);
            return -1;
        }
        row(t->name, rg_policies[i].name, &res[i]);
    }
    return 0;
}

static int replay_file(const char *path)
{
    struct rr_trace t;
    struct rr_result res[RG_NPOLICIES];
    char err[160];
    const char *base = strrchr(path, '/');
    rr_trace_init(&t, base ? base + 1 : path);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "replay_ra: %s: cannot open\n", path);
        return -1;
    }
    int rc = rr_trace_parse(&t, f, err, sizeof(err));
    fclose(f);
    if (rc < 0)
        fprintf(stderr, "replay_ra: %s: %s\n", path, err);
    else
        rc = replay_all(&t, res);
    rr_trace_free(&t);
    return rc;
}

int main(int argc, char **argv)
{
    struct rr_result res[RS_MAX_TRACES][RG_NPOLICIES];
    int status = 0;

    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [TRACE...] (default: %s)\n", argv[0], DEFAULT_GLOB);
            return 2;
        }
    }
    if (rs_ntraces > RS_MAX_TRACES) {
        fprintf(stderr, "replay_ra: %zu synthetic traces, room for %d\n", rs_ntraces,
                RS_MAX_TRACES);
        return 1;
    }
    printf("readahead replay (swap/readahead.c over the model of tests/bench/ra_replay.h)\n");
    header();
    for (size_t i = 0; i < rs_ntraces; i++) {
        struct rr_trace t;
        rr_trace_init(&t, rs_traces[i].name);
        if (rs_make(&t, rs_traces[i].kind, rs_traces[i].stride) < 0 ||
            replay_all(&t, res[i]) < 0) {
            fprintf(stderr, "replay_ra: synthetic trace %s failed\n", rs_traces[i].name);
            status = 1;
        }
        rr_trace_free(&t);
    }
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            if (replay_file(argv[i]) < 0)
                status = 1;
    } else {
        glob_t g;
        if (glob(DEFAULT_GLOB, 0, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; i++)
                if (replay_file(g.gl_pathv[i]) < 0)
                    status = 1;
            globfree(&g);
        } else {
            printf("(no recorded traces: %s matched nothing)\n", DEFAULT_GLOB);
        }
    }
    if (status)
        return status;
    printf("\ngoal (issue 14): auto beats cluster:8 on sequential and strided traces, "
           "reads no more than off on random ones\n");
    for (size_t i = 0; i < rs_ntraces; i++) {
        char why[160];
        bool ok = rg_goal_met(&rs_traces[i], res[i], why, sizeof(why));
        printf("%-16s %s: %s\n", rs_traces[i].name, ok ? "met" : "MISSED", why);
        if (!ok)
            status = 1;
    }
    return status;
}

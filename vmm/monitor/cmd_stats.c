/* Monitor: `stats` — exits, faults, frames, swap and readahead at a glance. */
#include "ept/frame.h"
#include "swap/swap.h"
#include "vmm/exit_stats.h"
#include "vmm/monitor/mon.h"

#define TOP_KEYS 12 /* ports / MSRs listed by count */
#define PERMILLE 1000u

static void exits(const struct vcpu *v)
{
    uint64_t total = 0;
    for (int k = 0; k < EXIT_KIND_COUNT; k++)
        total += v->exits[k];
    mon_out("exits total %llu entries %llu", (unsigned long long)total,
            (unsigned long long)v->entries);
    for (int k = 0; k < EXIT_KIND_COUNT; k++)
        if (v->exits[k])
            mon_out("exit %s %llu", exit_kind_name((enum exit_kind)k),
                    (unsigned long long)v->exits[k]);
    exit_stats_render(&vm_exit_stats.io, "io-port", TOP_KEYS, mon_emit, NULL);
    exit_stats_render(&vm_exit_stats.msr, "msr", TOP_KEYS, mon_emit, NULL);
}

static void readahead(const struct swap *sw)
{
    const struct ra_stats *ra = &sw->ra.st;
    uint64_t judged = ra->hits + ra->misses;
    if (!judged) {
        mon_out("readahead hits 0 misses 0 accuracy -");
        return;
    }
    uint64_t pm = ra->hits * PERMILLE / judged;
    mon_out("readahead hits %llu misses %llu accuracy %llu.%llu%%",
            (unsigned long long)ra->hits, (unsigned long long)ra->misses,
            (unsigned long long)(pm / 10), (unsigned long long)(pm % 10));
}

static enum mon_next cmd_stats(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return mon_usage(c);
    const struct frame_pool *fp = v->mm->fp;
    exits(v);
    mm_render_stats(v->mm, mon_emit, NULL);
    mon_out("frames total %zu free %zu used %zu peak %zu", fp->nframes, frame_free_count(fp),
            frame_used_count(fp), fp->peak_used);
    mon_out("frames code %zu", mm_code_frames(v->mm));
    const struct swap *sw = v->swap;
    if (!sw) {
        mon_out("swap none");
        return MON_STAY;
    }
    mon_out("swap used %llu of %llu slots, outs %llu ins %llu ins-minor %llu",
            (unsigned long long)sw->area.used, (unsigned long long)sw->area.nslots,
            (unsigned long long)sw->st.outs, (unsigned long long)sw->st.ins,
            (unsigned long long)sw->st.ins_minor);
    readahead(sw);
    return MON_STAY;
}

const struct mon_cmd mon_cmds_stats[] = {
    { "stats", "", "exits by kind, port and MSR; faults by resolution; frames; swap; readahead",
      cmd_stats },
    { 0 },
};

/* Final statistics; see report.h. */
#include "vmm/report.h"
#include "ept/frame.h"
#include "vmm/lib/heap.h"
#include "vmm/exit_stats.h"
#include "vmm/io_fuse.h"
#include "vmm/io_policy.h"
#include "vmm/lib/log.h"
#include "vmm/msr_policy.h"
#include "swap/swap.h"

#define REPORT_TOP_KEYS 12u /* ports / MSRs listed by count; the rest as "other" */

static void stat_line(void *ctx, const char *line)
{
    (void)ctx;
    pv_info("stats %s", line);
}

void report_final(const struct vcpu *v)
{
    const struct frame_pool *fp = v->mm->fp;
    pv_info("stats begin: guest stopped: %s", v->stop_reason);
    pv_info("stats vcpu entries %llu", (unsigned long long)v->entries);
    for (int k = 0; k < EXIT_KIND_COUNT; k++)
        if (v->exits[k])
            pv_info("stats exit %s %llu", exit_kind_name((enum exit_kind)k),
                    (unsigned long long)v->exits[k]);
    /* Where the vCPU's time went (vmm/vcpu.h), in millions of TSC cycles,
     * and per exit of each kind in cycles. */
    pv_info("stats cycles guest %llu M, after-exit work %llu M",
            (unsigned long long)(v->guest_cycles / 1000000),
            (unsigned long long)(v->tick_cycles / 1000000));
    for (int k = 0; k < EXIT_KIND_COUNT; k++)
        if (v->exits[k])
            pv_info("stats cycles exit %s %llu M, %llu per exit",
                    exit_kind_name((enum exit_kind)k),
                    (unsigned long long)(v->exit_cycles[k] / 1000000),
                    (unsigned long long)(v->exit_cycles[k] / v->exits[k]));
    /* The busiest ports and MSRs, as the monitor's `stats` shows them
     * (what the guest-level benchmark reads to attribute I/O exits). */
    exit_stats_render(&vm_exit_stats.io, "io-port", REPORT_TOP_KEYS, stat_line, NULL);
    exit_stats_render(&vm_exit_stats.msr, "msr", REPORT_TOP_KEYS, stat_line, NULL);
    mm_render_stats(v->mm, stat_line, NULL);
    pv_info("stats frames total %zu", fp->nframes);
    pv_info("stats frames in-use %zu", frame_used_count(fp));
    pv_info("stats frames peak %zu", fp->peak_used);
    pv_info("stats frames code %zu", mm_code_frames(v->mm));
    pv_info("stats stage2 tables %llu", (unsigned long long)v->mm->s2.tables);
    pv_info("stats stage2 invalidations %llu", (unsigned long long)v->mm->s2.invalidations);
    if (v->swap)
        swap_render_stats(v->swap, stat_line, NULL);
    if (io_policy_current())
        io_policy_render_stats(io_policy_current(), stat_line, NULL);
    pv_info("stats io fused-pci-reads %llu", (unsigned long long)io_fuse_count());
    msr_policy_render_stats(msr_exit_state(), stat_line, NULL);
    pv_info("stats heap used %llu", (unsigned long long)heap_used());
    pv_info("stats end");
}

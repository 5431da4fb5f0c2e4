#!/usr/bin/env python3
"""Tables and plots from an experiment results folder (the sweep runner's
RESULTS: summary.csv and runs/RUN.telemetry.csv).

usage: exp-report.py RESULTS [-o OUTDIR]
       OUTDIR   default RESULTS/report; created if missing. Gets summary.md
                and the PNG plots below (Debian's python3-matplotlib, Agg
                backend: no display, no network).

Exit status: 0 when summary.md and the plots were written (a run left out of
a plot, e.g. for a missing telemetry CSV, is reported on stderr); 1 when the
summary cannot be used (a missing column, a bad number, no runs) or
matplotlib is missing (summary.md is still written); 2 for bad arguments or
a RESULTS that is not a results folder (missing, not a folder, no
summary.csv). Every problem is one line on stderr naming the file and, where
it applies, the line and column.

How to read the tables and plots
--------------------------------
Figures are the median over a configuration's verified repeats; with more
than one repeat the table adds (min–max) and the line plots draw it as an
error bar. Runs that failed or did not verify are left out of every figure
and listed under "Failed runs" in summary.md with their reason and log.
"Local memory" is the share of the guest's memory that is local: pagevisor's
frames for pv runs, the guest's RAM for the direct-swap baseline.

summary.md, per workload: one row per local-memory fraction × setup (pv with
its readahead policy, direct-swap, direct) × swap kind. `time × direct-swap`
is the median completion time over that of the guest swapping by itself
with the same local memory: under 1.00 pagevisor's swapping beats Linux's
own. `time × direct` compares with the guest holding all its memory: the
price of overcommit (1.00 = none).

completion-WORKLOAD.png: completion time (guest clock, seconds, lower is
better) against local memory. One line per pv readahead policy, a dashed
black line for direct-swap, a dotted grey horizontal line for direct (all
memory local, no swapping). The gap between a pv line and the grey line is
the cost of overcommit at that fraction; where a pv line runs below the
dashed line, pagevisor swaps the guest better than the guest swaps itself.

timeline-WORKLOAD-fFRACTION.png: one pv run per policy (its lowest verified
repeat) over guest time. Top: frames in use (MiB; the dashed line is the
local-memory limit, which the curve reaches once the guest's working set no
longer fits). Bottom: swap-ins per second, solid for major ones (read from
the swap disk), dotted for minor ones (the page was still in the swap cache,
e.g. brought in by readahead). A policy that reads ahead well turns major
swap-ins into minor ones and shortens the run (the x axis ends earlier).

readahead-WORKLOAD.png: per local-memory fraction, one bar per pv policy.
Top: accuracy, readahead pages later used / pages read ahead (100 %: no read
wasted). Bottom: coverage, swap-ins served by readahead / all swap-ins (100 %:
no swap-in had to wait for the disk). Each bar carries its value; `n/a`
means the figure is undefined: the policy read nothing ahead (`off`) or there
was no swap-in. High coverage at low accuracy buys speed with disk traffic.

p99-WORKLOAD.png (workloads that report request latency: the key-value store
`redis`): p99 request latency in ms against local memory, lines as in the
completion plot. Tail latency grows long before throughput drops: a request
that faults on a swapped-out page waits for the disk.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import expdata as ed  # noqa: E402
import expsummary  # noqa: E402

PROG = "exp-report"


def warn(msg):
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


def fail(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        fail(message)
        sys.exit(2)


def main(argv=None):
    ap = Parser(prog="exp-report.py", description=__doc__.split("\n\n")[0],
                epilog="How to read the output: the docstring of scripts/exp-report.py "
                       "(docs/experiments.md).")
    ap.add_argument("results", metavar="RESULTS", help="results folder of a sweep")
    ap.add_argument("-o", "--outdir", help="output folder (default RESULTS/report)")
    args = ap.parse_args(argv)
    outdir = args.outdir or os.path.join(args.results, "report")
    try:
        runs = ed.load_summary(args.results, warn)
    except ed.ReportError as e:
        fail(str(e))
        return e.status
    try:
        os.makedirs(outdir, exist_ok=True)
    except OSError as e:
        fail(f"{outdir}: cannot create the output folder: {e.strerror}")
        return 2
    groups = ed.group_runs(runs)
    status, plots = 0, {}
    try:
        from expplot import plot_all
        plots = plot_all(groups, args.results, outdir, warn)
    except ed.ReportError as e:
        fail(str(e))
        status = 1
    md = os.path.join(outdir, "summary.md")
    try:
        with open(md, "w", encoding="utf-8") as f:
            f.write(expsummary.render(args.results, runs, groups, plots, outdir))
    except OSError as e:
        fail(f"{md}: {e.strerror}")
        return 1
    n_png = sum(len(p) for p in plots.values())
    failed = sum(1 for r in runs if not r.good)
    print(f"{PROG}: {md}: {len(runs)} runs ({failed} failed), {n_png} plots in {outdir}",
          file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())

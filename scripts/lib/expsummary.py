"""The Markdown summary of an experiment results folder (summary.md): per
workload one table of local-memory fraction × setup/policy, then the runs
that failed with their reason. Built from expdata's groups."""
import os

import expdata as ed


def _swap_text(g):
    if g.swap in ("", None):
        return "-"
    if g.latency is not None:
        return f"{g.swap} +{ed.fmt_num(g.latency)} ms"
    return g.swap


def _fraction_text(v):
    return "-" if v is None else f"{ed.fmt_num(v)} %"


def _cell(text):
    """A table cell: pipes and line breaks would break the row."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip() or "-"


def _row(cells):
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def workload_table(groups, workload):
    """The Markdown lines of one workload's table."""
    mine = [g for g in groups if g.workload == workload]
    units = {g.unit for g in mine if g.unit}
    # one unit goes in the header; mixed units (a runner change mid-sweep) in each cell
    unit = units.pop() if len(units) == 1 else ""
    latency = any(g.stat("p99_ms").median is not None for g in mine)
    head = ["local memory", "setup", "policy", "swap", "verified runs", "completion (s)",
            f"throughput ({unit})" if unit else "throughput", "time × direct-swap",
            "time × direct", "major swap-ins", "minor swap-ins", "readahead accuracy",
            "readahead coverage"]
    if latency:
        head[7:7] = ["p50 (ms)", "p99 (ms)"]
    lines = [_row(head), "|" + "|".join("---" for _ in head) + "|"]
    for g in mine:
        ds = ed.baseline_direct_swap(groups, g) if g.setup == ed.SETUP_PV else None
        d = ed.baseline_direct(groups, g) if g.setup != ed.SETUP_DIRECT else None
        pv = g.setup == ed.SETUP_PV
        cells = [_fraction_text(g.fraction), g.setup, g.policy if pv else "-", _swap_text(g),
                 f"{len(g.good)}/{len(g.runs)}",
                 g.stat("completion_s").text(ed.fmt_dec),
                 g.stat("throughput").text(ed.fmt_dec) + ("" if unit or not g.unit
                                                          else f" {g.unit}"),
                 ed.fmt_ratio(ed.ratio(g, ds)) if pv else "-",
                 ed.fmt_ratio(ed.ratio(g, d)),
                 g.stat("swapins_major").text(ed.fmt_num),
                 g.stat("swapins_minor").text(ed.fmt_num),
                 g.stat_of(ed.Run.ra_accuracy_value).text(ed.fmt_pct, 100) if pv else "-",
                 g.stat_of(ed.Run.ra_coverage_value).text(ed.fmt_pct, 100) if pv else "-"]
        if latency:
            cells[7:7] = [g.stat("p50_ms").text(ed.fmt_dec), g.stat("p99_ms").text(ed.fmt_dec)]
        lines.append(_row(cells))
    return lines


def failure_table(results, runs):
    failed = [r for r in runs if not r.good]
    if not failed:
        return ["No run failed."]
    lines = [_row(["run", "setup", "workload", "local memory", "policy", "swap", "reason",
                   "log"]), "|---|---|---|---|---|---|---|---|"]
    for r in failed:
        log = os.path.join("runs", f"{r.run}.log")
        log_text = log if os.path.exists(os.path.join(results, log)) else "(none)"
        lines.append(_row([r.run, r.setup, r.workload, _fraction_text(r.fraction),
                           r.policy if r.setup == ed.SETUP_PV else "-", r.swap or "-",
                           r.failure, log_text]))
    return lines


def render(results, runs, groups, plots, outdir):
    """summary.md's text. plots: workload -> [PNG paths written]."""
    good = sum(1 for r in runs if r.good)
    out = ["# Experiment results", "",
           f"From `{os.path.join(results, 'summary.csv')}`: {len(runs)} runs, {good} verified, "
           f"{len(runs) - good} failed.", "",
           "Each cell is the median over a configuration's verified repeats, with "
           "(min–max) when there is more than one. Completion is the guest's own time "
           "summed over the workload's measured phases. `time × direct-swap` and "
           "`time × direct` divide the median completion time by the baseline's: the "
           "guest swapping by itself with the same local memory (and the same swap "
           "kind), and the guest with all its memory; 1.00 is as fast, 2.00 twice as "
           "long. Readahead accuracy is readahead pages later used / pages read ahead; "
           "coverage is swap-ins served by readahead / all swap-ins.", ""]
    for w in ed.workloads_of(groups):
        out += [f"## Workload `{w}`", ""]
        out += workload_table(groups, w)
        out.append("")
        for p in plots.get(w, []):
            rel = os.path.relpath(p, outdir)
            out += [f"![{os.path.basename(p)}]({rel})", ""]
    out += ["## Failed runs", ""]
    out += failure_table(results, runs)
    out.append("")
    return "\n".join(out)

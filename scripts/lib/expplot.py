"""The PNG plots of an experiment results folder (matplotlib, Agg backend: no
display needed). Every plot has a title, labelled axes with units and a
legend. Which plots and how to read them: scripts/exp-report.py's docstring.

import_matplotlib() raises expdata.ReportError when Debian's
python3-matplotlib is missing; plot functions call warn(msg) for input they
skip (a missing or broken telemetry CSV) and return the paths they wrote."""
import os
import re

import expdata as ed

DPI = 100
SIZE = (7.5, 4.8)
TALL = (7.5, 6.4)
# direct-swap lines (one per swap kind): black, told apart by their dashes
BASELINE_STYLES = ("--", "-.", (0, (5, 1)), (0, (1, 3)))


def import_matplotlib():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ed.ReportError(f"cannot draw plots: matplotlib is not available ({e}); "
                             "install Debian's python3-matplotlib (scripts/deps.sh does)")
    return plt


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(name))


def _frac_name(v):
    return ed.fmt_num(v).replace(".", "_")


def _save(plt, fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


NO_POLICY = "-"   # a pv run with nothing to swap (the runner's 100 % run)


def _configs(groups, setup):
    """The distinct configuration labels of a setup, in group order."""
    out = []
    for g in groups:
        if g.setup == setup and g.config not in out:
            out.append(g.config)
    return out


def _line(ax, groups, col, label, style):
    """One line over fractions: medians with min-max error bars. False when
    no group had the figure."""
    pts = [(g.fraction, g.stat(col)) for g in groups if g.fraction is not None]
    pts = sorted((f, s) for f, s in pts if s.median is not None)
    if not pts:
        return False
    xs = [f for f, _ in pts]
    ys = [s.median for _, s in pts]
    err = [[s.median - s.lo for _, s in pts], [s.hi - s.median for _, s in pts]]
    ax.errorbar(xs, ys, yerr=err if any(any(e) for e in err) else None, label=label,
                capsize=3, **style)
    return True


def _against_fraction(plt, groups, workload, col, ylabel, title, path):
    """Plot (a)/(d): col against local memory, one line per pv policy, direct-swap
    as a line, direct as a horizontal line. None when nothing to draw."""
    mine = [g for g in groups if g.workload == workload and g.good]
    fig, ax = plt.subplots(figsize=SIZE)
    drawn = False
    # pv with nothing to swap (policy '-', all memory local) is where every
    # policy's line starts: readahead has no say there
    shared = [g for g in mine if g.setup == ed.SETUP_PV and g.policy == NO_POLICY]
    policies = [c for c in _configs(mine, ed.SETUP_PV)
                if c not in {g.config for g in shared}]
    for cfg in policies or _configs(shared, ed.SETUP_PV):
        own = [g for g in mine if g.config == cfg]
        drawn |= _line(ax, own + [g for g in shared if g.fraction not in
                                  {o.fraction for o in own}], col, cfg, {"marker": "o"})
    for i, cfg in enumerate(_configs(mine, ed.SETUP_DIRECT_SWAP)):
        drawn |= _line(ax, [g for g in mine if g.config == cfg], col,
                       f"{cfg} (Linux swaps by itself)",
                       {"marker": "s", "color": "black",
                        "linestyle": BASELINE_STYLES[i % len(BASELINE_STYLES)]})
    for cfg in _configs(mine, ed.SETUP_DIRECT):
        s = ed.Stat(v for g in mine if g.config == cfg for v in
                    (getattr(r, col) for r in g.good))
        if s.median is not None:
            ax.axhline(s.median, color="grey", linestyle=":", linewidth=2,
                       label=f"{cfg} (all memory local)")
            drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set_title(title)
    ax.set_xticks(sorted({g.fraction for g in mine if g.fraction is not None}))
    ax.set_xlabel("local memory (% of guest memory)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return _save(plt, fig, path)


def plot_completion(plt, groups, workload, outdir):
    return _against_fraction(
        plt, groups, workload, "completion_s", "completion time (s, guest clock)",
        f"{workload}: completion time against local memory",
        os.path.join(outdir, f"completion-{_safe(workload)}.png"))


def plot_p99(plt, groups, workload, outdir):
    """Plot (d), for workloads whose runs report p99_ms (the key-value store)."""
    if not any(g.stat("p99_ms").median is not None for g in groups
               if g.workload == workload):
        return None
    return _against_fraction(
        plt, groups, workload, "p99_ms", "p99 request latency (ms)",
        f"{workload}: p99 latency against local memory",
        os.path.join(outdir, f"p99-{_safe(workload)}.png"))


def _first_good(g):
    """The run whose timeline represents g: its lowest verified repeat."""
    return min(g.good, key=lambda r: (r.repeat if r.repeat is not None else 0, r.line))


def plot_timelines(plt, groups, workload, results, outdir, warn):
    """Plot (b): per fraction, resident memory and swap-in rate over guest time,
    one line per pv configuration. Returns the paths written."""
    pv = [g for g in groups if g.workload == workload and g.setup == ed.SETUP_PV and g.good]
    fractions = sorted({g.fraction for g in pv if g.fraction is not None}, reverse=True)
    paths = []
    for frac in fractions:
        lines = []
        for g in (g for g in pv if g.fraction == frac):
            run = _first_good(g)
            try:
                lines.append((g, run, ed.load_timeline(run.telemetry_path(results))))
            except ed.ReportError as e:
                warn(f"{e} (run {run.run}: left out of its timeline plot)")
        if not lines:
            continue
        fig, (top, bottom) = plt.subplots(2, 1, figsize=TALL, sharex=True)
        limit = next((r.local_mib for _, r, _ in lines if r.local_mib), None)
        for g, run, tl in lines:
            label = f"{g.config} (repeat {ed.fmt_num(run.repeat)})" \
                if run.repeat is not None and len(g.good) > 1 else g.config
            (ln,) = top.plot(tl.t, tl.resident_mib, label=label)
            bottom.plot(tl.t, tl.major_rate, color=ln.get_color(), label=f"{label}: major")
            if tl.minor_rate is not None and any(tl.minor_rate):
                bottom.plot(tl.t, tl.minor_rate, color=ln.get_color(), linestyle=":",
                            label=f"{label}: minor")
        if limit:
            top.axhline(limit, color="grey", linestyle="--",
                        label=f"local memory ({ed.fmt_num(limit)} MiB)")
        top.set_title(f"{workload} at {ed.fmt_num(frac)} % local memory: "
                      "resident frames and swap-ins over time")
        top.set_ylabel("frames in use (MiB)")
        top.set_ylim(bottom=0)
        bottom.set_ylabel("swap-ins per second")
        bottom.set_xlabel("guest time (s)")
        for ax in (top, bottom):
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize="small")
        paths.append(_save(plt, fig, os.path.join(
            outdir, f"timeline-{_safe(workload)}-f{_frac_name(frac)}.png")))
    return paths


def plot_readahead(plt, groups, workload, outdir):
    """Plot (c): readahead accuracy and coverage, bars per pv configuration grouped
    by local-memory fraction. None when no pv run has either figure."""
    pv = [g for g in groups if g.workload == workload and g.setup == ed.SETUP_PV and g.good]
    cfgs = _configs(pv, ed.SETUP_PV)
    fractions = sorted({g.fraction for g in pv if g.fraction is not None}, reverse=True)
    figures = (("accuracy", ed.Run.ra_accuracy_value, "accuracy (%)",
                "accuracy: pages read ahead that the guest then used"),
               ("coverage", ed.Run.ra_coverage_value, "coverage (%)",
                "coverage: swap-ins served by readahead"))
    values = {}
    for g in pv:
        for name, fn, _, _ in figures:
            values[(g.config, g.fraction, name)] = g.stat_of(fn).median
    if not any(v is not None for v in values.values()):
        return None
    fig, axes = plt.subplots(2, 1, figsize=TALL, sharex=True)
    width = 0.8 / max(1, len(cfgs))
    for ax, (name, _, ylabel, what) in zip(axes, figures):
        for i, cfg in enumerate(cfgs):
            xs, hs, missing = [], [], []
            for j, frac in enumerate(fractions):
                v = values.get((cfg, frac, name))
                x = j - 0.4 + width * (i + 0.5)
                if v is None:
                    missing.append(x)
                else:
                    xs.append(x)
                    hs.append(v * 100)
            color = f"C{i}"
            bars = ax.bar(xs, hs, width=width, label=cfg, color=color)
            ax.bar_label(bars, fmt="%.1f", fontsize="x-small")
            for x in missing:
                ax.text(x, 1, "n/a", ha="center", va="bottom", fontsize="x-small",
                        color=color)
        ax.set_title(what, fontsize="medium")
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 105)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"{workload}: readahead accuracy and coverage per policy")
    axes[-1].set_xticks(range(len(fractions)))
    axes[-1].set_xticklabels([f"{ed.fmt_num(f)} %" for f in fractions])
    axes[-1].set_xlabel("local memory (% of guest memory)")
    return _save(plt, fig, os.path.join(outdir, f"readahead-{_safe(workload)}.png"))


def plot_all(groups, results, outdir, warn):
    """Every plot; returns workload -> [paths written]."""
    plt = import_matplotlib()
    out = {}
    runs_dir = os.path.join(results, "runs")
    timelines = os.path.isdir(runs_dir)
    if not timelines:
        warn(f"{runs_dir}: missing: no telemetry, no timeline plots")
    for w in ed.workloads_of(groups):
        paths = [plot_completion(plt, groups, w, outdir), plot_p99(plt, groups, w, outdir)]
        if timelines:
            paths += plot_timelines(plt, groups, w, results, outdir, warn)
        paths.append(plot_readahead(plt, groups, w, outdir))
        out[w] = [p for p in paths if p]
        if not out[w]:
            warn(f"workload {w}: no verified run, no plot")
    return out

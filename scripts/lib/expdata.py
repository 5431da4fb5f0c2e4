"""Reading and summarising an experiment results folder (issue 14, contract B
in the runner's docs): RESULTS/summary.csv, one row per finished run, and
RESULTS/runs/RUN.telemetry.csv, the '[pvt] sample' records of a pv run.

Used by scripts/exp-report.py (tables and plots), the sweep runner and the
tests. Nothing here imports matplotlib.

Bad input raises ReportError with one line that names the file (and the
column or line) at fault; ReportError.status is the exit status a command
line tool should return (2: RESULTS is not a results folder, 1: its
summary cannot be used).
"""
import csv
import math
import os
import re
import statistics

# summary.csv's columns, in the order the runner writes them (contract B)
SUMMARY_COLUMNS = (
    "run", "setup", "workload", "fraction", "policy", "swap", "latency_ms", "repeat",
    "memory_mib", "local_mib", "status", "reason", "verified", "completion_s", "throughput",
    "throughput_unit", "p50_ms", "p99_ms", "boot_s", "swapins_major", "swapins_minor",
    "swapouts", "ra_pages", "ra_hits", "ra_misses", "ra_accuracy", "ra_coverage", "exits",
    "wall_s",
)
# columns holding numbers (empty allowed: not applicable, or a failed run)
NUMERIC_COLUMNS = (
    "fraction", "latency_ms", "repeat", "memory_mib", "local_mib", "completion_s",
    "throughput", "p50_ms", "p99_ms", "boot_s", "swapins_major", "swapins_minor", "swapouts",
    "ra_pages", "ra_hits", "ra_misses", "ra_accuracy", "ra_coverage", "exits", "wall_s",
)
# the columns a report cannot do without; the rest may be absent (with a warning)
REQUIRED_COLUMNS = ("run", "setup", "workload", "fraction", "policy", "status")

SETUP_PV = "pv"
SETUP_DIRECT = "direct"
SETUP_DIRECT_SWAP = "direct-swap"
SETUPS = (SETUP_DIRECT, SETUP_DIRECT_SWAP, SETUP_PV)

# telemetry sample columns (vmm/monitor/telemetry.c): ms is guest time, frames_used a
# gauge, swapins_major/minor counters for the interval since the previous sample
T_TIME = "ms"
T_FRAMES = "frames_used"
T_MAJOR = "swapins_major"
T_MINOR = "swapins_minor"
TELEMETRY_COLUMNS = (T_TIME, T_FRAMES, T_MAJOR)
FRAME_BYTES = 4096


def run_name(setup, workload, fraction, policy, swap, repeat):
    """RUN of contract B: <setup>-<workload>-f<fraction>-<policy>-<swap>-r<repeat>,
    characters outside [A-Za-z0-9_.-] replaced by '_'."""
    name = f"{setup}-{workload}-f{fraction}-{policy}-{swap}-r{repeat}"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def ra_accuracy(hits, pages):
    """Readahead accuracy: pages read ahead later used / pages read ahead (0..1),
    None when nothing was read ahead."""
    return hits / pages if pages else None


def ra_coverage(hits, major):
    """Readahead coverage: swap-ins served by readahead / all swap-ins, i.e.
    hits / (hits + major swap-ins) (0..1), None when there was no swap-in."""
    return hits / (hits + major) if hits + major > 0 else None


class ReportError(Exception):
    """Input a report cannot be made from; str() is the whole message."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


class Run:
    """One row of summary.csv. Numeric columns are floats or None (empty)."""

    def __init__(self, row, line):
        self.line = line                      # line number in summary.csv (header = 1)
        self.row = row
        for col in SUMMARY_COLUMNS:
            setattr(self, col, row.get(col))

    @property
    def good(self):
        """Finished and its data verified: the runs tables and plots use."""
        return self.status == "ok" and self.verified != "no"

    @property
    def failure(self):
        """Why this run is not used ('' when it is)."""
        if self.good:
            return ""
        if self.status == "ok":
            return "data not verified"
        return self.reason or f"status {self.status or '(empty)'}, no reason given"

    @property
    def swap_label(self):
        """'' for local swap (the default axis value), else e.g. 'nbd+1ms'."""
        swap = self.swap or ""
        if swap in ("", "none", "local"):
            return ""
        if self.latency_ms is not None:
            return f"{swap}+{fmt_num(self.latency_ms)}ms"
        return swap

    @property
    def config(self):
        """The line/row label: setup, policy for pv, swap when not local."""
        name = f"pv {self.policy}" if self.setup == SETUP_PV else self.setup
        return f"{name} {self.swap_label}" if self.swap_label else name

    def ra_accuracy_value(self):
        """ra_hits / ra_pages as a fraction, or None when nothing was read ahead."""
        if self.ra_accuracy is not None:
            return self.ra_accuracy
        if self.ra_pages is not None and self.ra_hits is not None:
            return ra_accuracy(self.ra_hits, self.ra_pages)
        return None

    def ra_coverage_value(self):
        """ra_hits / (ra_hits + swapins_major), or None when there were no swap-ins."""
        if self.ra_coverage is not None:
            return self.ra_coverage
        if self.ra_hits is not None and self.swapins_major is not None:
            return ra_coverage(self.ra_hits, self.swapins_major)
        return None

    def telemetry_path(self, results):
        return os.path.join(results, "runs", f"{self.run}.telemetry.csv")


def _number(text, path, line, col):
    text = (text or "").strip()
    if text in ("", "-"):
        return None
    try:
        v = float(text)
    except ValueError:
        raise ReportError(f"{path}: line {line}: column {col}: '{text}' is not a number")
    if math.isnan(v) or math.isinf(v):
        raise ReportError(f"{path}: line {line}: column {col}: '{text}' is not a finite number")
    return v


def load_summary(results, warn=None):
    """The runs of RESULTS/summary.csv, in file order. warn(msg) is called for
    optional columns that are absent (they read as empty)."""
    if not os.path.exists(results):
        raise ReportError(f"{results}: no such folder", status=2)
    if not os.path.isdir(results):
        raise ReportError(f"{results}: not a folder (expected a results folder)", status=2)
    path = os.path.join(results, "summary.csv")
    if not os.path.exists(path):
        raise ReportError(f"{path}: missing: {results} is not a results folder "
                          "(or no run has finished yet)", status=2)
    try:
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        raise ReportError(f"{path}: {e.strerror}", status=2)
    except csv.Error as e:
        raise ReportError(f"{path}: not CSV: {e}")
    if not rows or not any(c.strip() for c in rows[0]):
        raise ReportError(f"{path}: empty (no header row)")
    header = [c.strip() for c in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ReportError(f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(missing)}")
    absent = [c for c in SUMMARY_COLUMNS if c not in header]
    if absent and warn:
        warn(f"{path}: no column{'s' if len(absent) > 1 else ''} {', '.join(absent)} "
             "(read as empty)")
    runs = []
    for i, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise ReportError(f"{path}: line {i}: {len(cells)} fields, the header has "
                              f"{len(header)}")
        raw = dict(zip(header, (c.strip() for c in cells)))
        row = {c: raw.get(c, "") for c in SUMMARY_COLUMNS}
        for col in NUMERIC_COLUMNS:
            row[col] = _number(row[col], path, i, col)
        if not row["run"]:
            raise ReportError(f"{path}: line {i}: column run is empty")
        if row["setup"] not in SETUPS:
            raise ReportError(f"{path}: line {i}: column setup: '{row['setup']}' is none "
                              f"of {', '.join(SETUPS)}")
        if row["fraction"] is None and row["status"] == "ok":
            raise ReportError(f"{path}: line {i}: column fraction is empty")
        runs.append(Run(row, i))
    if not runs:
        raise ReportError(f"{path}: no runs (only the header)")
    return runs


# ---- aggregation -------------------------------------------------------------

class Stat:
    """Median and range of one figure over the repeats that have it."""

    def __init__(self, values):
        vals = sorted(v for v in values if v is not None)
        self.n = len(vals)
        self.median = statistics.median(vals) if vals else None
        self.lo = vals[0] if vals else None
        self.hi = vals[-1] if vals else None

    def text(self, fmt, scale=1.0):
        """'median (min–max)'; the range only when repeats differ."""
        if self.median is None:
            return "-"
        s = fmt(self.median * scale)
        if self.n > 1 and self.lo != self.hi:
            s += f" ({fmt(self.lo * scale)}–{fmt(self.hi * scale)})"
        return s


class Group:
    """The repeats of one configuration: workload × setup × fraction × policy × swap."""

    def __init__(self, key, runs):
        self.key = key
        self.workload, self.setup, self.fraction, self.policy, self.swap, self.latency = key
        self.runs = runs
        self.good = [r for r in runs if r.good]
        self.config = runs[0].config
        self.unit = next((r.throughput_unit for r in self.good if r.throughput_unit), "")

    def stat(self, col):
        return Stat(getattr(r, col) for r in self.good)

    def stat_of(self, fn):
        return Stat(fn(r) for r in self.good)


def group_key(run):
    return (run.workload, run.setup, run.fraction, run.policy if run.setup == SETUP_PV else "-",
            run.swap or "", run.latency_ms)


def group_runs(runs):
    """Groups in a stable order: by workload, then fraction (high first), then
    direct, direct-swap, pv policies in order of first appearance."""
    groups, order = {}, []
    for r in runs:
        k = group_key(r)
        if k not in groups:
            groups[k] = []
            order.append(k)
        groups[k].append(r)
    first = {k: i for i, k in enumerate(order)}
    setup_rank = {s: i for i, s in enumerate(SETUPS)}
    workloads = []
    for k in order:
        if k[0] not in workloads:
            workloads.append(k[0])

    def sort_key(k):
        frac = -(k[2] if k[2] is not None else -1)
        return (workloads.index(k[0]), frac, setup_rank[k[1]], first[k])
    return [Group(k, groups[k]) for k in sorted(order, key=sort_key)]


def workloads_of(groups):
    out = []
    for g in groups:
        if g.workload not in out:
            out.append(g.workload)
    return out


def baseline_direct(groups, g):
    """The direct (100 %) baseline of g's workload with verified runs, or None."""
    cands = [b for b in groups if b.workload == g.workload and b.setup == SETUP_DIRECT
             and b.good]
    return cands[0] if cands else None


def baseline_direct_swap(groups, g):
    """The direct-swap baseline at g's fraction: the same swap kind and latency if
    the sweep has it, else local swap. None when there is none with verified runs."""
    cands = [b for b in groups if b.workload == g.workload and b.setup == SETUP_DIRECT_SWAP
             and b.fraction == g.fraction and b.good]
    for b in cands:
        if (b.swap, b.latency) == (g.swap, g.latency):
            return b
    for b in cands:
        if b.swap in ("", "local"):
            return b
    return None


def ratio(g, base):
    """Median completion time of g over that of base (2.0: twice as long), or None."""
    if base is None or base is g:
        return None
    a, b = g.stat("completion_s").median, base.stat("completion_s").median
    if a is None or not b:
        return None
    return a / b


# ---- telemetry -----------------------------------------------------------------

class Timeline:
    """One pv run's samples: guest seconds, resident MiB, swap-ins per second."""

    def __init__(self, t, resident_mib, major_rate, minor_rate):
        self.t = t
        self.resident_mib = resident_mib
        self.major_rate = major_rate
        self.minor_rate = minor_rate      # None when the CSV has no swapins_minor


def load_timeline(path):
    """Reads a telemetry CSV (pvsplit's sample.csv). Rates: the interval counter
    over the time since the previous sample (the first sample's interval starts
    at guest time 0); a sample with no time elapsed since the previous one adds
    its counts to the previous interval instead of making a point."""
    if not os.path.exists(path):
        raise ReportError(f"{path}: missing")
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        raise ReportError(f"{path}: {e.strerror}")
    except csv.Error as e:
        raise ReportError(f"{path}: not CSV: {e}")
    if not rows:
        raise ReportError(f"{path}: empty (no header row)")
    header = [c.strip() for c in rows[0]]
    missing = [c for c in TELEMETRY_COLUMNS if c not in header]
    if missing:
        raise ReportError(f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(missing)}")
    idx = {c: header.index(c) for c in header}
    t, res, major, minor = [], [], [], []
    has_minor = T_MINOR in idx
    prev_ms, prev_dt = 0.0, 0.0
    carry_major = carry_minor = 0.0      # counts of samples before any time elapsed
    for i, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            raise ReportError(f"{path}: line {i}: {len(cells)} fields, the header has "
                              f"{len(header)}")
        vals = {}
        for c in (T_TIME, T_FRAMES, T_MAJOR) + ((T_MINOR,) if has_minor else ()):
            vals[c] = _number(cells[idx[c]], path, i, c)
            if vals[c] is None:
                raise ReportError(f"{path}: line {i}: column {c} is empty")
        ms = vals[T_TIME]
        n_major = vals[T_MAJOR]
        n_minor = vals[T_MINOR] if has_minor else 0.0
        dt = (ms - prev_ms) / 1000.0
        if dt <= 0:
            # no time since the previous sample (e.g. the last one, sent when the
            # guest stops): its counts belong to the previous interval
            if t:
                major[-1] += n_major / prev_dt
                if has_minor:
                    minor[-1] += n_minor / prev_dt
                res[-1] = vals[T_FRAMES] * FRAME_BYTES / (1 << 20)
            else:
                carry_major += n_major
                carry_minor += n_minor
            continue
        prev_ms, prev_dt = ms, dt
        t.append(ms / 1000.0)
        res.append(vals[T_FRAMES] * FRAME_BYTES / (1 << 20))
        major.append((n_major + carry_major) / dt)
        if has_minor:
            minor.append((n_minor + carry_minor) / dt)
        carry_major = carry_minor = 0.0
    if not t:
        raise ReportError(f"{path}: no samples")
    return Timeline(t, res, major, minor if has_minor else None)


# ---- formatting -------------------------------------------------------------------

def fmt_num(v):
    """Integers as integers, else 2 decimals under 100, 1 under 1000, none above."""
    if v is None:
        return "-"
    if float(v).is_integer():
        return str(int(v))
    a = abs(v)
    if a < 100:
        return f"{v:.2f}"
    if a < 1000:
        return f"{v:.1f}"
    return f"{v:.0f}"


def fmt_dec(v):
    """A measured figure: 2 decimals under 1000, none above."""
    if v is None:
        return "-"
    return f"{v:.2f}" if abs(v) < 1000 else f"{v:.0f}"


def fmt_pct(v):
    return "-" if v is None else f"{v:.1f} %"


def fmt_ratio(v):
    return "-" if v is None else f"{v:.2f}"

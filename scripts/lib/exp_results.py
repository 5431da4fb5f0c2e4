"""What the experiment runner (scripts/experiment.py) reads from one run's
console log and the files it writes into a results folder (the layout is
issue 14's contract B):

    runs/RUN.results.csv    workload,phase_or_test,key,value  (pv-result lines)
    runs/RUN.stats.csv      group,name,value  (the final '[pv] stats' block)
    runs/RUN.telemetry.csv  scripts/pvsplit.py's sample.csv of the log
    summary.csv             SUMMARY_COLUMNS, one row per finished run

A run's figures come from `pv-result: workload=NAME key=value ...` lines;
a guest kit without them (workload.c before issue 14) still yields figures:
each `workload: phase NAME bytes=N secs=S mib_s=R` line then stands for
`pv-result: workload=NAME phase=NAME secs=S mib_s=R`.
"""
import csv
import dataclasses
import importlib.util
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)


def load_script(name, filename):
    """A script of scripts/ (hyphenated names included) as a module."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(SCRIPTS, filename))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


pvsplit = load_script("pvsplit", "pvsplit.py")
sys.path.insert(0, HERE)
import expdata  # noqa: E402

# contract B's columns and readahead formulas: one definition, shared with
# the report (scripts/exp-report.py)
SUMMARY_COLUMNS = list(expdata.SUMMARY_COLUMNS)

# a line with both (redis fill: keys/s and MiB/s) counts as operations
THROUGHPUT_KEYS = (("ops_s", "ops/s"), ("mib_s", "MiB/s"))
LEADING_ESCAPES = re.compile(r"^(?:\x1b\[[0-9;?]*[A-Za-z])*")
RESULT = re.compile(r"pv-result: (.*)$")
PHASE = re.compile(r"workload: phase (\w+) bytes=\d+ secs=([\d.]+) mib_s=([\d.]+)")
CHECK = re.compile(r"pv-guest: check (\S+): (PASS|FAIL)(?: (.*))?$")
SWAPON_FAIL = re.compile(r"pv-guest: swapon \S+: FAIL (.*)$")
READY = re.compile(r"pv-guest: ready uptime=(\d+(?:\.\d+)?)")
INT = re.compile(r"^-?\d+$")


def console_lines(text):
    """The log's lines without CR and leading terminal escapes."""
    for raw in text.splitlines():
        yield LEADING_ESCAPES.sub("", raw.rstrip("\r"))


def _number(v):
    try:
        return float(v)
    except ValueError:
        return None


def parse_results(text):
    """[{key: value}] of the pv-result lines (values as strings), or of the
    workload phase lines when the log has no pv-result line."""
    found, phases = [], []
    for line in console_lines(text):
        m = RESULT.search(line)
        if m:
            kv = dict(t.split("=", 1) for t in m.group(1).split() if "=" in t)
            if kv:
                found.append(kv)
            continue
        m = PHASE.search(line)
        if m:
            phases.append({"workload": "workload", "phase": m.group(1),
                           "secs": m.group(2), "mib_s": m.group(3)})
    return found or phases


def result_rows(results):
    """RUN.results.csv rows: workload,phase_or_test,key,value."""
    rows = []
    for kv in results:
        name = kv.get("workload", "")
        what = kv.get("phase", kv.get("test", ""))
        for k, v in kv.items():
            if k not in ("workload", "phase", "test"):
                rows.append((name, what, k, v))
    return rows


def stats_rows(text):
    """RUN.stats.csv rows (group, name, value) of the last '[pv] stats'
    block. `stats G N V` gives (G, N, V); a line of several counters
    (`stats swap lru active 3 inactive 4`) gives one row per counter, named
    by the words before it (lru-active, lru-inactive). Lines without a
    number (the readahead policy's name) are left out."""
    block, inside = [], False
    for line in console_lines(text):
        if line.startswith("[pv] stats begin"):
            block, inside = [], True
            continue
        if line.startswith("[pv] stats end"):
            inside = False
            continue
        if inside and line.startswith("[pv] stats "):
            block.append(line[len("[pv] stats "):].split())
    rows = []
    for t in block:
        if len(t) == 3 and INT.match(t[2]):
            rows.append((t[0], t[1], int(t[2])))
            continue
        prefix = []
        i = 1
        while i < len(t):
            if i + 1 < len(t) and not INT.match(t[i]) and INT.match(t[i + 1]):
                rows.append((t[0], "-".join(prefix[:1] + [t[i]]), int(t[i + 1])))
                i += 2
            else:
                prefix.append(t[i])
                i += 1
    return rows


@dataclasses.dataclass
class Outcome:
    """What one run's console says."""
    verified: bool = False
    reason: str = ""
    boot_s: float = None
    results: list = dataclasses.field(default_factory=list)
    stats: dict = dataclasses.field(default_factory=dict)   # (group, name) -> int


def parse_run(text, check):
    """The verdict of check NAME (`pv-guest: check NAME: PASS|FAIL reason`),
    the boot time, the figures and the final statistics of one log."""
    o = Outcome()
    for line in console_lines(text):
        m = CHECK.search(line)
        if m and m.group(1) == check:
            o.verified = m.group(2) == "PASS"
            if not o.verified and not o.reason:
                o.reason = f"check {check}: {m.group(3) or 'FAIL'}"
            continue
        m = SWAPON_FAIL.search(line)
        if m and not o.reason:
            o.reason = "swapon: " + m.group(1)
            continue
        m = READY.search(line)
        if m:
            o.boot_s = float(m.group(1))
    o.results = parse_results(text)
    o.stats = {(g, n): v for g, n, v in stats_rows(text)}
    return o


def main_figures(results):
    """(completion_s, throughput, unit, p50_ms, p99_ms): completion is the
    sum of secs over the result lines; throughput, its unit and the
    latencies come from the last line that carries ops_s or mib_s (ops_s
    when it has both): a memory workload's last measured phase (`read`
    after `write` for seq), an application's last benchmark (redis: GET)."""
    secs = [_number(kv.get("secs", "")) for kv in results]
    completion = sum(s for s in secs if s is not None) if any(
        s is not None for s in secs) else None
    tp = unit = p50 = p99 = None
    for kv in results:
        for key, u in THROUGHPUT_KEYS:
            if key in kv and _number(kv[key]) is not None:
                tp, unit = _number(kv[key]), u
                p50, p99 = _number(kv.get("p50_ms", "")), _number(kv.get("p99_ms", ""))
                break
    return completion, tp, unit, p50, p99


def _fmt(v, digits=3):
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def summary_row(run, outcome, status, reason, wall_s):
    """One summary.csv row (a dict over SUMMARY_COLUMNS) for a finished run;
    run is a dict of the run's axes (experiment.Run.axes())."""
    row = {c: "" for c in SUMMARY_COLUMNS}
    row.update({k: _fmt(v) for k, v in run.items() if k in row})
    completion, tp, unit, p50, p99 = main_figures(outcome.results)
    row.update(status=status, reason=reason, verified="yes" if outcome.verified else "no",
               completion_s=_fmt(completion), throughput=_fmt(tp, 1),
               throughput_unit=unit or "", p50_ms=_fmt(p50), p99_ms=_fmt(p99),
               boot_s=_fmt(outcome.boot_s, 2), wall_s=_fmt(wall_s, 1))
    st = outcome.stats
    if run.get("setup") == "pv" and st:
        major = st.get(("swap", "ins"))
        hits, pages = st.get(("swap", "readahead-hits")), st.get(("swap", "readahead-pages"))
        row.update(swapins_major=_fmt(major), swapins_minor=_fmt(st.get(("swap", "ins-minor"))),
                   swapouts=_fmt(st.get(("swap", "outs"))), ra_pages=_fmt(pages),
                   ra_hits=_fmt(hits), ra_misses=_fmt(st.get(("swap", "readahead-misses"))),
                   exits=_fmt(sum(v for (g, _), v in st.items() if g == "exit")))
        if hits is not None:
            row["ra_accuracy"] = _fmt(expdata.ra_accuracy(hits, pages), 4)
            if major is not None:
                row["ra_coverage"] = _fmt(expdata.ra_coverage(hits, major), 4)
    return row


def write_csv(path, header, rows, dict_rows=False):
    """Write a CSV atomically (a temporary file renamed over path), so an
    interrupted runner never leaves half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([r.get(c, "") for c in header] if dict_rows else r)
    os.replace(tmp, path)


def read_summary(path):
    """{run name: row dict} of an existing summary.csv ({} when absent)."""
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        return {r["run"]: r for r in csv.DictReader(f) if r.get("run")}


def write_telemetry(log_text, path, workdir):
    """path gets the log's '[pvt] sample' records as pvsplit.py writes them
    (sample.csv, header from the columns record); False when there are none."""
    os.makedirs(workdir, exist_ok=True)
    s = pvsplit.Splitter(workdir)
    try:
        for line in log_text.splitlines():
            s.line(line)
    finally:
        s.close()
    sample = os.path.join(workdir, "sample.csv")
    ok = os.path.exists(sample)
    if ok:
        os.replace(sample, path)
    for name in os.listdir(workdir):
        os.unlink(os.path.join(workdir, name))
    os.rmdir(workdir)
    return ok

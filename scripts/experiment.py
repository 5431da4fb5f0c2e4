#!/usr/bin/env python3
"""Memory-overcommit experiment runner: sweeps local-memory fraction x
readahead policy x workload x swap x repeat under pagevisor, with two
baselines booted directly by QEMU, into one results folder.

usage: scripts/experiment.py [--out DIR | --resume DIR] [options]
       make experiment [EXPERIMENT_ARGS='...']   (into build/experiment,
                                                  then the report)

  --memory MIB        guest memory (default 384)
  --mib MIB           workload size (default 256); at most memory - 88
  --fractions LIST    local memory as % of --memory, 1..100 (default 100,75,50,25)
  --policies LIST     readahead: off, auto, cluster, cluster:N (N a power of
                      two up to 256) (default off,cluster:8,auto)
  --workloads LIST    seq,rand,stride,hotcold,zipf (tests/guest/workload.c) and
                      redis,sqlite (need build/guest/apps.img, the apps kit;
                      skipped with a message without it) (default seq,rand)
  --repeats N         every run N times (default 1)
  --swap LIST         local (a virtio disk file) and/or nbd (the same disk
                      served by scripts/nbd-swap.py over loopback) (default local)
  --latency-ms LIST   nbd only: added one-way latencies (default 0)
  --baselines LIST    direct,direct-swap (default), one of them, or none
  --accel MODE        auto (default), tcg or kvm
  --out DIR           results folder (default build/experiment); an existing
                      one with a sweep.json is resumed
  --resume DIR        resume the sweep in DIR with its own parameters
  --retry-failed      on resume, run the runs whose status is fail again
  --dry-run           print the runs and exit
  --no-report         do not call scripts/exp-report.py at the end

Runs, per repeat and workload (M = --memory, L = F % of M):
  direct       QEMU -kernel, M of RAM, no swap: fraction 100, policy -,
               swap none (once per workload and repeat)
  pv, F=100    pagevisor, memory M, frames M, no swap (policy -, swap none)
  direct-swap  F<100: QEMU -kernel, L of RAM, the guest swapping by itself to
               its own virtio disk (pv.swapon), per swap kind (policy -)
  pv, F<100    pagevisor, memory M, frames L, swapping to its virtio disk
               with each readahead policy, per swap kind
Run names: SETUP-WORKLOAD-fF-POLICY-SWAP-rR ([A-Za-z0-9_.-] kept, the rest
'_'); an nbd run's SWAP is nbdLms (nbd0ms, nbd5ms) so latencies stay apart.

Results folder (DIR):
  sweep.json                parameters (what a resume must match) and runs
  summary.csv               one row per finished run (columns below),
                            rewritten atomically after each run
  runs/RUN.log              console log
  runs/RUN.results.csv      workload,phase_or_test,key,value: the guest's
                            pv-result lines (or, from a kit without them,
                            its `workload: phase` lines)
  runs/RUN.telemetry.csv    '[pvt] sample' records (pv runs)
  runs/RUN.stats.csv        group,name,value: the final '[pv] stats' block
  report/                   scripts/exp-report.py's summary.md and PNGs
summary.csv: run,setup,workload,fraction,policy,swap,latency_ms,repeat,
  memory_mib,local_mib,status,reason,verified,completion_s,throughput,
  throughput_unit,p50_ms,p99_ms,boot_s,swapins_major,swapins_minor,swapouts,
  ra_pages,ra_hits,ra_misses,ra_accuracy,ra_coverage,exits,wall_s
  status ok = the guest's check PASSed (verified yes) and QEMU ended cleanly.
  completion_s = sum of the result lines' secs (memory workloads: write and
  the measured phase); throughput = the last result line with mib_s or
  ops_s (memory workloads: the phase after write, e.g. read for seq);
  p50/p99 from that line. swap/readahead columns from pagevisor's stats
  (baselines leave them empty): ra_accuracy = ra_hits / ra_pages,
  ra_coverage = ra_hits / (ra_hits + swapins_major); exits = all VM exits.

Progress goes to stderr: one line per run start and end with
"[k/N] RUN ... elapsed hh:mm:ss, ETA hh:mm:ss" (ETA = mean wall time of the
runs finished in this invocation x runs left), and the run's phase as its
console shows it. Ctrl-C stops the running boot and leaves the folder
consistent (the interrupted run has no row and runs again on resume).
Rerunning with the same --out (or --resume) skips runs whose row says ok;
parameters given on the command line that differ from sweep.json are
refused. Exit status: 0 all ok, 1 a run or the report failed, 2 bad
arguments, 130 interrupted.
"""
import argparse
import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "lib"))
import exp_results as xr  # noqa: E402
from exp_nbd import NBD_SCRIPT, nbd_swap, stop  # noqa: E402

bg = xr.load_script("bench_guest", "bench-guest.py")

MEMORY_WORKLOADS = {"seq": "read", "rand": "rand", "stride": "stride", "hotcold": "hotcold",
                    "zipf": "zipf"}
APP_WORKLOADS = ("redis", "sqlite")   # the apps kit (scripts/guest-apps.sh)
SWAP_KINDS = ("local", "nbd")
BASELINES = ("direct", "direct-swap")
# Measured with the default guest kit (Debian kernel, busybox initramfs):
# with 80 MiB of RAM the kernel cannot unpack its initramfs; MemTotal is
# ~50 MiB below the RAM given, and the workload needs its MiB plus room.
MIN_RAM_MIB = 96
# the apps kit's initramfs (initrd.img + apps.img) needs more to unpack:
# measured under TCG, 112 MiB panics ("System is deadlocked on memory"), 128 boots
APP_MIN_RAM_MIB = 128
GUEST_OVERHEAD_MIB = 88
MIN_FRAMES_MIB = 32
DEFAULTS = dict(memory=384, mib=256, fractions="100,75,50,25", policies="off,cluster:8,auto",
                workloads="seq,rand", repeats=1, swap="local", latency_ms="0",
                baselines="direct,direct-swap", accel="auto", kernel_log=False)
SWEEP_KEYS = tuple(DEFAULTS)


@dataclasses.dataclass
class Run:
    setup: str            # pv | direct | direct-swap
    workload: str
    fraction: int
    policy: str           # readahead policy, '-' when nothing swaps through pagevisor
    swap: str             # none | local | nbd
    latency_ms: str       # nbd: added one-way latency; '' otherwise
    repeat: int
    memory_mib: int
    local_mib: int

    @property
    def name(self):
        # contract B's name; nbd runs carry their latency (nbd0ms, nbd5ms)
        # so that runs differing only in it do not share files
        swap = f"nbd{self.latency_ms}ms" if self.swap == "nbd" else self.swap
        return xr.expdata.run_name(self.setup, self.workload, self.fraction, self.policy,
                                   swap, self.repeat)

    def axes(self):
        d = dataclasses.asdict(self)
        d["run"] = self.name
        return d


def plan(p):
    """Every run of a sweep with parameters p (lists, see parse_args), in
    the order they boot: repeat, then workload, then fraction (high first)."""
    runs = []
    swaps = [(s, lat) for s in p["swap"] for lat in (p["latency_ms"] if s == "nbd" else [""])]
    for rep in range(1, p["repeats"] + 1):
        for w in p["workloads"]:
            mem = p["memory"]
            if "direct" in p["baselines"]:
                runs.append(Run("direct", w, 100, "-", "none", "", rep, mem, mem))
            for f in sorted(p["fractions"], reverse=True):
                local = mem * f // 100
                if f == 100:
                    runs.append(Run("pv", w, 100, "-", "none", "", rep, mem, mem))
                    continue
                for s, lat in swaps:
                    if "direct-swap" in p["baselines"]:
                        runs.append(Run("direct-swap", w, f, "-", s, lat, rep, mem, local))
                    for pol in p["policies"]:
                        runs.append(Run("pv", w, f, pol, s, lat, rep, mem, local))
    return runs


def guest_args(workload, mib):
    if workload in MEMORY_WORKLOADS:
        return f"pv.check=workload pv.workload={mib}:write+{MEMORY_WORKLOADS[workload]}"
    return f"pv.check=app pv.app={workload} pv.appmib={mib}"


def check_name(workload):
    return "workload" if workload in MEMORY_WORKLOADS else "app"


def case_of(run, mib):
    """bench-guest's Case for a run."""
    args = guest_args(run.workload, mib)
    if run.setup == "pv":
        return bg.Case(run.name, "pv", run.memory_mib, frames_mib=run.local_mib,
                       readahead=run.policy if run.swap != "none" else "",
                       swap=run.swap != "none", args=args)
    return bg.Case(run.name, "direct", run.local_mib, swap=run.setup == "direct-swap",
                   args=args)


# ---- arguments --------------------------------------------------------------

def _list(ap, opt, text, allowed=None):
    items = [x.strip() for x in str(text).split(",") if x.strip()]
    if not items:
        ap.error(f"{opt} '{text}': empty list")
    bad = [x for x in items if allowed is not None and x not in allowed]
    if bad:
        ap.error(f"{opt}: unknown {', '.join(bad)} (known: {', '.join(allowed)})")
    if len(set(items)) != len(items):
        ap.error(f"{opt} '{text}': an item is repeated")
    return items


def _policy_ok(p):
    if p in ("off", "auto", "cluster"):
        return True
    m = re.fullmatch(r"cluster:(\d+)", p)
    return bool(m) and 0 < int(m.group(1)) <= 256 and int(m.group(1)) & (int(m.group(1)) - 1) == 0


def sweep_params(ap, a):
    """The sweep's parameters as checked lists and numbers (exit 2 naming
    the argument when one is wrong)."""
    p = {}
    try:
        p["fractions"] = [int(x) for x in _list(ap, "--fractions", a.fractions)]
    except ValueError:
        ap.error(f"--fractions '{a.fractions}': expected percentages like 100,50")
    bad = [f for f in p["fractions"] if not 1 <= f <= 100]
    if bad:
        ap.error(f"--fractions: {bad[0]} is outside 1..100")
    p["policies"] = _list(ap, "--policies", a.policies)
    bad = [x for x in p["policies"] if not _policy_ok(x)]
    if bad:
        ap.error(f"--policies: unknown policy '{bad[0]}' (off, auto, cluster, cluster:N "
                 "with N a power of two from 1 to 256)")
    p["workloads"] = _list(ap, "--workloads", a.workloads,
                           list(MEMORY_WORKLOADS) + list(APP_WORKLOADS))
    p["swap"] = _list(ap, "--swap", a.swap, SWAP_KINDS)
    try:
        p["latency_ms"] = [str(int(x)) for x in _list(ap, "--latency-ms", a.latency_ms)]
    except ValueError:
        ap.error(f"--latency-ms '{a.latency_ms}': expected whole milliseconds like 0,1,5")
    if any(int(x) < 0 for x in p["latency_ms"]):
        ap.error("--latency-ms: a latency cannot be negative")
    p["baselines"] = [] if a.baselines == "none" else \
        _list(ap, "--baselines", a.baselines, BASELINES)
    for k in ("memory", "mib", "repeats"):
        try:
            p[k] = int(getattr(a, k))
        except ValueError:
            ap.error(f"--{k} '{getattr(a, k)}': expected a whole number")
    if p["repeats"] < 1:
        ap.error(f"--repeats {p['repeats']}: at least 1")
    if p["mib"] < 1:
        ap.error(f"--mib {p['mib']}: at least 1")
    if p["mib"] > p["memory"] - GUEST_OVERHEAD_MIB:
        ap.error(f"--memory {p['memory']} too small for --mib {p['mib']}: the guest kit's "
                 f"kernel and /init need {GUEST_OVERHEAD_MIB} MiB besides the workload")
    low = p["memory"] * min(p["fractions"]) // 100
    need = APP_MIN_RAM_MIB if any(w in APP_WORKLOADS for w in p["workloads"]) else MIN_RAM_MIB
    if "direct-swap" in p["baselines"] and min(p["fractions"]) < 100 and low < need:
        ap.error(f"--memory {p['memory']} too small: {min(p['fractions'])} % is {low} MiB of "
                 f"RAM for the direct-swap baseline, which needs {need} MiB to boot"
                 + (" with the apps kit" if need == APP_MIN_RAM_MIB else ""))
    if low < MIN_FRAMES_MIB:
        ap.error(f"--memory {p['memory']} too small: {min(p['fractions'])} % is {low} MiB "
                 f"of frames; pagevisor's runs need at least {MIN_FRAMES_MIB}")
    if a.accel not in ("auto", "tcg", "kvm"):
        ap.error(f"--accel '{a.accel}': expected auto, tcg or kvm")
    p["accel"] = bg.accel_mode(a.accel)
    p["kernel_log"] = bool(a.kernel_log)
    return p


def build_parser():
    ap = argparse.ArgumentParser(
        prog="experiment.py", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[3:]))
    # sweep parameters default to None: the value saved in sweep.json on a
    # resume, else DEFAULTS (so only what the user typed is compared)
    ap.add_argument("--memory", help="guest memory, MiB (default 384)")
    ap.add_argument("--mib", help="workload size, MiB (default 256)")
    ap.add_argument("--fractions", help="local memory as %% of --memory (default 100,75,50,25)")
    ap.add_argument("--policies", help="readahead policies (default off,cluster:8,auto)")
    ap.add_argument("--workloads", help="workloads (default seq,rand)")
    ap.add_argument("--repeats", help="runs of each point (default 1)")
    ap.add_argument("--swap", help="swap kinds: local,nbd (default local)")
    ap.add_argument("--latency-ms", dest="latency_ms", help="nbd latencies (default 0)")
    ap.add_argument("--baselines", help="direct,direct-swap (default) or none")
    ap.add_argument("--accel", help="auto (default), tcg or kvm")
    ap.add_argument("--kernel-log", dest="kernel_log", action="store_const", const=True,
                    help="the guest kernel's log on the console (default: quiet)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build/experiment"),
                    help="results folder (default build/experiment)")
    ap.add_argument("--resume", metavar="DIR", help="resume the sweep in DIR")
    ap.add_argument("--retry-failed", action="store_true", help="rerun failed runs on resume")
    ap.add_argument("--dry-run", action="store_true", help="print the runs and exit")
    ap.add_argument("--no-report", dest="report", action="store_false",
                    help="skip scripts/exp-report.py")
    ap.add_argument("--timeout", type=int, default=1200, help="per boot, seconds (default 1200)")
    ap.add_argument("--swap-mib", type=int, default=1024, help="swap disk size (default 1024)")
    ap.add_argument("--efi", default=os.path.join(ROOT, "build/pagevisor.efi"))
    ap.add_argument("--kit", default=os.path.join(ROOT, "build/guest"),
                    help="guest kit folder (scripts/guest-kit.sh)")
    return ap


def parse_args(argv):
    """(args, params, out): the options, the sweep's checked parameters
    (merged with the folder's sweep.json) and the results folder."""
    ap = build_parser()
    a = ap.parse_args(argv)
    out = os.path.abspath(a.resume or a.out)
    saved = load_sweep(out)
    if a.resume and saved is None:
        ap.error(f"--resume {a.resume}: no sweep.json there (not a results folder)")
    given = {k for k in SWEEP_KEYS if getattr(a, k) is not None}
    base = dict(DEFAULTS)
    for k in SWEEP_KEYS:
        if getattr(a, k) is None:
            setattr(a, k, base[k])
    if saved is not None:
        # what was not typed comes from sweep.json; what was typed must match it
        old = saved["params"]
        for k in SWEEP_KEYS:
            if k not in given and k in old:
                v = old[k]
                setattr(a, k, ",".join(map(str, v)) if isinstance(v, list) else v)
        p = sweep_params(ap, a)
        diff = [k for k in sorted(given) if p[k] != old.get(k)]
        if diff:
            what = "; ".join(f"--{k.replace('_', '-')} {fmt_param(p[k])} "
                             f"(sweep.json: {fmt_param(old.get(k))})" for k in diff)
            print(f"experiment: {out} holds a sweep with other parameters: {what}. "
                  "Use another --out, or resume without them.", file=sys.stderr)
            sys.exit(2)
    else:
        p = sweep_params(ap, a)
    return a, p, out


def fmt_param(v):
    return ",".join(map(str, v)) if isinstance(v, list) else str(v)


# ---- the results folder -----------------------------------------------------

def load_sweep(out):
    path = os.path.join(out, "sweep.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def save_sweep(out, params, runs, skipped):
    path = os.path.join(out, "sweep.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"format": 1, "params": params, "skipped": skipped,
                   "runs": [r.axes() for r in runs]}, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def todo(runs, summary, retry_failed):
    """The runs still to boot: those without a row, and failed ones when
    retry_failed."""
    left = []
    for r in runs:
        row = summary.get(r.name)
        if row is None or (row.get("status") != "ok" and retry_failed):
            left.append(r)
    return left


def available(p, kit):
    """(runs to plan with, messages on what is skipped): app workloads need
    the apps initramfs; nbd needs scripts/nbd-swap.py."""
    skipped = []
    apps = [w for w in p["workloads"] if w in APP_WORKLOADS]
    if apps and not os.path.exists(os.path.join(kit, "apps.img")):
        skipped.append(f"workloads {','.join(apps)} skipped: {kit}/apps.img missing "
                       "(scripts/guest-apps.sh builds it)")
        p = dict(p, workloads=[w for w in p["workloads"] if w not in APP_WORKLOADS])
    return plan(p), skipped


def combined_initrd(kit, work):
    """initrd.img + apps.img in one file (Linux reads concatenated cpio
    archives), rebuilt when either is newer."""
    parts = [os.path.join(kit, "initrd.img"), os.path.join(kit, "apps.img")]
    dest = os.path.join(work, "initrd+apps.img")
    if not os.path.exists(dest) or any(os.path.getmtime(x) > os.path.getmtime(dest)
                                       for x in parts):
        with open(dest + ".tmp", "wb") as out:
            for x in parts:
                with open(x, "rb") as f:
                    shutil.copyfileobj(f, out)
        os.replace(dest + ".tmp", dest)
    return dest


# ---- one run ----------------------------------------------------------------

LIVE = (("pv-guest: ready", "guest /init"), ("workload: begin ", None),
        ("pv-result: ", None), ("pv-guest: check ", None), ("[pv] stats begin", "final stats"))


def live_phase(chunk, current):
    """The phase the console's newest lines show (None: unchanged)."""
    phase = None
    for line in xr.console_lines(chunk):
        for prefix, label in LIVE:
            i = line.find(prefix)
            if i >= 0:
                phase = label or line[i:][:70]
    return phase if phase != current else None


def boot(cmd, log, errlog, tag, say):
    """Run the boot command (its stderr to errlog), reporting the console's
    phase as it changes; returns (exit status, last stderr line)."""
    with open(errlog, "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
        t0, pos, phase = time.monotonic(), 0, ""
        try:
            while proc.poll() is None:
                time.sleep(1)
                if os.path.exists(log):
                    with open(log, "rb") as f:
                        f.seek(pos)
                        data = f.read()
                    cut = data.rfind(b"\n") + 1
                    pos += cut
                    new = live_phase(data[:cut].decode(errors="replace"), phase)
                    if new:
                        phase = new
                        say(f"      {tag} {phase} ({time.monotonic() - t0:.0f}s)")
        finally:
            stop(proc)
    with open(errlog, errors="replace") as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    return proc.returncode, lines[-1] if lines else ""


def execute(run, a, p, out, say, tag):
    """Boot one run; write its files; return its summary row."""
    runs_dir, work = os.path.join(out, "runs"), os.path.join(out, "work")
    os.makedirs(runs_dir, exist_ok=True)
    os.makedirs(work, exist_ok=True)
    base_out, base_work = os.path.join(runs_dir, run.name), os.path.join(work, run.name)
    log = base_out + ".log"
    for ext in (".log", ".results.csv", ".stats.csv", ".telemetry.csv"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(base_out + ext)
    initrd = os.path.join(a.kit, "initrd.img")
    if run.workload in APP_WORKLOADS:
        initrd = combined_initrd(a.kit, work)
    cfg = types.SimpleNamespace(efi=a.efi, kernel=os.path.join(a.kit, "vmlinuz"), initrd=initrd,
                                accel=p["accel"], mib=p["mib"], phases=[], quiet=not p["kernel_log"],
                                timeout=a.timeout, swap_mib=a.swap_mib)
    case = case_of(run, p["mib"])
    swap_img = base_work + ".swap.img"
    t0 = time.monotonic()
    try:
        if case.swap:
            bg.mkswap(swap_img, a.swap_mib)
        with contextlib.ExitStack() as stack:
            drive = None
            if run.swap == "nbd":
                drive = stack.enter_context(nbd_swap(swap_img, run.latency_ms,
                                                     base_work + ".nbd.log"))
            cmd = bg.boot_command(case, cfg, base_work, log, swap_drive=drive)
            rc, err = boot(cmd, log, base_work + ".stderr", tag, say)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        rc, err = None, str(e)
    finally:
        for ext in (".swap.img", ".esp.img", ".conf", ".stderr"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(base_work + ext)
    wall = time.monotonic() - t0
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    o = xr.parse_run(text, check_name(run.workload))
    xr.write_csv(base_out + ".results.csv", ("workload", "phase_or_test", "key", "value"),
                 xr.result_rows(o.results))
    if run.setup == "pv":
        xr.write_csv(base_out + ".stats.csv", ("group", "name", "value"), xr.stats_rows(text))
        xr.write_telemetry(text, base_out + ".telemetry.csv", base_work + ".split")
    status = "ok" if o.verified and rc == 0 else "fail"
    reason = o.reason
    if rc is None:
        reason = f"not booted: {err}"
    elif status == "fail" and not reason:
        last = next((ln for ln in reversed(list(xr.console_lines(text))) if ln.strip()), "")
        panic = re.search(r"Kernel panic - not syncing: ([^\r\n]*)", text)
        reason = (f"QEMU exited with status {rc}" if o.verified
                  else f"guest kernel panic: {panic.group(1)[:100]}" if panic
                  else f"timed out after {a.timeout} s; last line: {last[:100]}" if rc == 124
                  else f"no verdict (exit status {rc}); last line: {last[:100]}")
        if err and rc not in (0, 124):
            reason += f"; {err[:100]}"
    return xr.summary_row(run.axes(), o, status, reason, wall)


# ---- the sweep --------------------------------------------------------------

def write_summary(path, runs, summary):
    """summary.csv in plan order; rows of runs outside this plan (an app
    workload whose initramfs has gone) are kept after them."""
    planned = {r.name for r in runs}
    rows = [summary[r.name] for r in runs if r.name in summary]
    rows += [row for name, row in summary.items() if name not in planned]
    xr.write_csv(path, xr.SUMMARY_COLUMNS, rows, dict_rows=True)


def hms(secs):
    secs = int(round(secs))
    return f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def report(out):
    script = os.path.join(HERE, "exp-report.py")
    if not os.path.exists(script):
        say(f"experiment: {script} missing: no tables or plots (issue 14 item 3)")
        return 0
    say(f"experiment: report: {script} {out}")
    rc = subprocess.run([sys.executable, script, out]).returncode
    if rc:
        say(f"experiment: the report failed (exit status {rc})")
    return rc


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    a, p, out = parse_args(sys.argv[1:] if argv is None else argv)
    runs, skipped = available(p, a.kit)
    if "nbd" in p["swap"] and not os.path.exists(NBD_SCRIPT):
        say(f"experiment: --swap nbd: {NBD_SCRIPT} missing (issue 14 item 5 builds it)")
        return 2
    for m in skipped:
        say(f"experiment: {m}")
    if a.dry_run:
        for r in runs:
            print(r.name)
        return 0
    for path in (a.efi, os.path.join(a.kit, "vmlinuz"), os.path.join(a.kit, "initrd.img")):
        if not os.path.exists(path):
            say(f"experiment: {path} missing (make all; scripts/guest-kit.sh)")
            return 2
    os.makedirs(os.path.join(out, "runs"), exist_ok=True)
    save_sweep(out, p, runs, skipped)
    summary_path = os.path.join(out, "summary.csv")
    summary = xr.read_summary(summary_path)
    left = todo(runs, summary, a.retry_failed)
    names = {r.name for r in left}
    say(f"experiment: {len(runs)} runs ({len(runs) - len(left)} done before), accel "
        f"{p['accel']}, memory {p['memory']} MiB, workload {p['mib']} MiB; results in {out}")
    signal.signal(signal.SIGTERM, _interrupt)
    t_start, walls, failed = time.monotonic(), [], 0
    try:
        for k, run in enumerate(runs, 1):
            if run.name not in names:
                continue
            tag = f"[{k}/{len(runs)}]"
            left_n = len(left) - len(walls)
            eta = hms(sum(walls) / len(walls) * left_n) if walls else "?"
            say(f"{tag} {run.name} start (elapsed {hms(time.monotonic() - t_start)}, "
                f"ETA {eta})")
            row = execute(run, a, p, out, say, tag)
            walls.append(float(row["wall_s"] or 0))
            summary[run.name] = row
            write_summary(summary_path, runs, summary)
            failed += row["status"] != "ok"
            left_n = len(left) - len(walls)
            eta = hms(sum(walls) / len(walls) * left_n)
            state = "ok" if row["status"] == "ok" else f"FAIL: {row['reason']}"
            say(f"{tag} {run.name} {state} {row['wall_s']}s "
                f"{row['throughput']} {row['throughput_unit']} (elapsed "
                f"{hms(time.monotonic() - t_start)}, ETA {eta})")
    except KeyboardInterrupt:
        done = sum(1 for r in runs if summary.get(r.name, {}).get("status") == "ok")
        say(f"experiment: interrupted; {done} of {len(runs)} runs ok in {summary_path}; "
            f"resume with: scripts/experiment.py --resume {out}")
        return 130
    shutil.rmtree(os.path.join(out, "work"), ignore_errors=True)
    bad = sum(1 for r in runs if summary.get(r.name, {}).get("status") != "ok")
    say(f"experiment: {len(runs) - bad} of {len(runs)} runs ok ({failed} failed now); "
        f"{summary_path}")
    rc = report(out) if a.report else 0
    return 1 if bad or rc else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Guest-level benchmark: the default guest kit (Debian kernel + busybox
initramfs, scripts/guest-kit.sh) under pagevisor against the same kernel and
initramfs booted directly by QEMU, as ratios from one run.

Setups (memory M = --memory, frames as a share of it):
  direct         QEMU -kernel/-initrd, M of RAM               (baseline of pv@100%)
  pv@100%        pagevisor, memory M, frames M
  direct@F%      QEMU -kernel/-initrd, F% of M as RAM, swapping to its own
                 virtio disk (pv.swapon)                        (baseline of pv@F%)
  direct@F%/ra-off  the same with vm.page-cluster=0: one page per swap-in,
                 no swap or VMA readahead     (second baseline of pv@F%/off)
  pv@F%/POLICY   pagevisor, memory M, frames F% of M, virtio swap, readahead POLICY

Each boots once and runs tests/guest/workload.c (write, read, rand,
hotcold over --mib MiB, every word verified; its own times, measured in the
guest). Boot is the guest's uptime when /init starts (`pv-guest: ready
uptime=`), i.e. from the kernel's first timestamp to /init. The headline
figures are QEMU's CPU seconds (its vCPU thread) over the same spans, read
while the console log grows: kernel start (its first line, written from
the start with `earlycon`) to /init, and each phase between its `begin`
and `phase` lines; they do not stretch with the host's load as the guest's
clock and the wall clock do (QemuCpu, follow_cpu, cpu_spans). Under pagevisor,
telemetry samples (`[pvt] sample`, docs/monitor.md) between the workload's
`begin PHASE` and `phase PHASE` lines give exits per second by kind and
major/minor swap-ins per phase.

Output: one table of ratios (each line with its baseline; CPU-time ratio
first, then the guest-clock one), exit rates per phase, the guest kernel's
own counts per phase (page faults, huge pages; flagged where the 100 %
pair's two guests disagree), and with --csv a machine-readable file of
every figure (kind=ratio|boot|phase|io-port|cpu|cpu-ratio|exits|guest
rows). Exit status 0, 1 when a run failed or its data did not verify, 2
for bad arguments.

The functions (plan, boot_command, run_case, parse_console, and the
figures of scripts/lib/bench_report.py: ratio_rows, cpu_ratio_rows, ...)
are reused by the experiment runner (scripts/experiment.py), which imports
this file as a module.
"""
import argparse
import dataclasses
import os
import re
import resource
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import qemu_cpu  # noqa: E402
from machine_env import qemu_cpu_args  # noqa: E402
# the figures and tables; re-exported: the experiment runner and the tests
# use them through this module
from bench_report import (PHASES, cpu_ratio_rows, exit_rows, guest_rows,  # noqa: E402
                          headline_rows, median_rows, print_exits, print_guest,
                          print_headline, print_medians, ratio_rows, write_csv)
from qemu_cpu import cpu_spans, follow_cpu  # noqa: E402
from disk_aio import DiskAioError, aio_decision  # noqa: E402
POLICIES = ("off", "cluster:8", "auto")
RA_OFF = "/ra-off"                       # the direct baseline without swap readahead
RA_OFF_ARGS = "sysctl.vm.page-cluster=0"
TELEMETRY_MS = 200
EARLYCON = "earlycon=uart8250,io,0x3f8,115200"
# QEMU names its threads (the vCPU one `CPU 0/TCG`) only when asked; the
# CPU-time figures read that thread (scripts/lib/qemu_cpu.py)
NAMED_THREADS = ("-name", "debug-threads=on")


@dataclasses.dataclass
class Case:
    """One boot. mode 'pv' (pagevisor) or 'direct' (QEMU -kernel)."""
    name: str
    mode: str
    ram_mib: int                 # direct: RAM given; pv: `memory`
    frames_mib: int = 0          # pv only
    readahead: str = ""          # pv only, when overcommitted
    swap: bool = False           # a swap disk (pv: pagevisor's; direct: the guest's)
    baseline: str = ""           # name of the case this one is compared with
    also: str = ""               # a second baseline (like for like), or ""
    args: str = ""               # the guest's check arguments (default: the workload's)
    kernel_args: str = ""        # more kernel parameters (direct: its swap's tuning)
    repeat: int = 1              # passes of each phase after write, in one timed span

    def baselines(self):
        return [b for b in (self.baseline, self.also) if b]


@dataclasses.dataclass
class Result:
    case: Case
    ok: bool = False
    reason: str = ""
    uptime: float = 0.0                          # kernel start -> /init, guest seconds
    wall_s: float = 0.0                          # host seconds of the whole boot
    load: float = 0.0                            # host load average (1 min) at the end
    cpu_s: float = 0.0                           # host CPU seconds QEMU used (load-independent)
    phases: dict = dataclasses.field(default_factory=dict)   # name -> (mib_s, secs)
    stats: dict = dataclasses.field(default_factory=dict)    # (group, name) -> int
    io_ports: dict = dataclasses.field(default_factory=dict) # port -> exits (final block)
    samples: dict = dataclasses.field(default_factory=dict)  # phase -> {column: sum}
    cpu: dict = dataclasses.field(default_factory=dict)      # span -> (vcpu_s, process_s)
    guest: dict = dataclasses.field(default_factory=dict)    # phase -> {vmstat key: count}
    log: str = ""


def plan(memory_mib, fractions=(50, 25), policies=POLICIES, repeat_100=1):
    """The cases of one benchmark run, baselines before the cases using them.
    repeat_100: passes of each phase after write in the 100 % pair, whose
    phases are otherwise a tenth of a second or two."""
    cases = [Case("direct", "direct", memory_mib, repeat=repeat_100),
             Case("pv@100%", "pv", memory_mib, frames_mib=memory_mib, baseline="direct",
                  repeat=repeat_100)]
    for f in fractions:
        ram = memory_mib * f // 100
        base = f"direct@{f}%"
        cases.append(Case(base, "direct", ram, swap=True))
        if "off" in policies:
            # `off` reads one page per fault; Linux with page-cluster 0 does
            # too (swap and VMA readahead both), the like-for-like baseline
            cases.append(Case(base + RA_OFF, "direct", ram, swap=True,
                              kernel_args=RA_OFF_ARGS))
        for p in policies:
            cases.append(Case(f"pv@{f}%/{p}", "pv", memory_mib, frames_mib=ram,
                              readahead=p, swap=True, baseline=base,
                              also=base + RA_OFF if p == "off" else ""))
    return cases


def cmdline(case, mib, phases, quiet, earlycon=False):
    args = ["console=ttyS0", "panic=-1"]
    if earlycon:
        # the kernel log on the UART from parse_early_param on, so that its
        # first line (`Linux version`) is written when its clock starts,
        # before the early PCI scans, not when the console registers later
        args.append(EARLYCON)
    if case.repeat > 1:
        # workload.c's PHASE:N; write is the first touch and runs once
        phases = [p if p == "write" else f"{p}:{case.repeat}" for p in phases]
    args += case.args.split() if case.args else \
        ["pv.check=workload", f"pv.workload={mib}:{'+'.join(phases)}"]
    if quiet:
        args.append("quiet")
    if case.mode == "direct" and case.swap:
        args.append("pv.swapon=vda")
    args += case.kernel_args.split()
    return " ".join(args)


def pv_conf(case, cmd):
    lines = ["linux /vmlinuz", "initrd /initrd.img", f"memory {case.ram_mib}M",
             f"frames {case.frames_mib}M", f"telemetry {TELEMETRY_MS}", "log info",
             f"options {cmd}"]
    if case.swap:
        lines += ["swap virtio", f"readahead {case.readahead or 'cluster:8'}"]
    return "\n".join(lines) + "\n"


def mkswap(path, size_mib):
    if os.path.exists(path):
        os.unlink(path)
    subprocess.run(["truncate", "-s", f"{size_mib}M", path], check=True)
    mk = "/sbin/mkswap" if os.path.exists("/sbin/mkswap") else "mkswap"
    subprocess.run([mk, "-q", path], check=True, stdout=subprocess.DEVNULL)


def accel_mode(requested):
    if requested != "auto":
        return requested
    out = subprocess.run([os.path.join(ROOT, "scripts/detect-accel.sh")],
                         capture_output=True, text=True).stdout.strip()
    return out.split(" ", 1)[0] if out else "tcg"


def safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def base_of(case, cfg):
    return os.path.join(cfg.workdir, safe(case.name))


def reparse_case(case, cfg):
    """The Result of an earlier run of case, from its log (and its CPU
    samples) under cfg.workdir."""
    log = base_of(case, cfg) + ".log"
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    r = parse_console(text, case)
    r.log = log
    if text:
        samples = qemu_cpu.read_samples(base_of(case, cfg) + ".cpu.csv")
        r.cpu = cpu_spans(open(log, "rb").read(), samples)
    if not r.ok and not r.reason:
        r.reason = f"no verdict in {log}"
    return r


def qemu_extra():
    """PV_QEMU_EXTRA's arguments, added to every QEMU command (e.g. a QMP
    socket for profiling)."""
    return os.environ.get("PV_QEMU_EXTRA", "").split()


_AIO = []


def disk_aio():
    """(mode, reason) of scripts/lib/disk_aio.py, decided once per run: how
    QEMU does the I/O of every swap image the plan attaches, pagevisor's
    (run-qemu.sh asks the same) and the baseline's alike."""
    if not _AIO:
        _AIO.append(aio_decision())
    return _AIO[0]


def boot_command(case, cfg, base, log, swap_drive=None):
    """The command that boots case with its console to log, after writing
    what it needs next to base (pv: BASE.conf, BASE.esp.img). The swap disk
    is BASE.swap.img unless swap_drive, a QEMU -drive file= value (e.g. an
    nbd:// address), names another one."""
    cmd_line = cmdline(case, cfg.mib, cfg.phases, cfg.quiet, getattr(cfg, "earlycon", False))
    swap_file = swap_drive or base + ".swap.img"
    # the baseline's swap image is opened as run-qemu.sh opens pagevisor's
    # (scripts/lib/disk_aio.py); an NBD address takes no aio mode
    aio = "" if swap_drive else f",aio={disk_aio()[0]}"
    drive = ["-drive", f"if=none,id=swap,format=raw,file={swap_file}{aio}"]
    if case.mode == "pv":
        conf = base + ".conf"
        with open(conf, "w") as f:
            f.write(pv_conf(case, cmd_line))
        esp = base + ".esp.img"
        subprocess.run([os.path.join(ROOT, "scripts/mkesp.sh"), esp, "--efi", cfg.efi,
                        "--conf", conf, "--add", f"{cfg.kernel}:vmlinuz",
                        "--add", f"{cfg.initrd}:initrd.img"], check=True,
                       stdout=subprocess.DEVNULL)
        machine_mib = max(1024, case.frames_mib + 512)
        local = case.swap and not swap_drive
        cmd = [os.path.join(ROOT, "scripts/run-qemu.sh"), "--esp", esp,
               "--serial", f"file:{log}", "--accel", cfg.accel, "--mem", f"{machine_mib}M",
               "--swap", swap_file if local else "none", "--timeout", str(cfg.timeout),
               "--", *NAMED_THREADS, *qemu_extra()]
        if case.swap and swap_drive:
            # as run-qemu.sh attaches its own: modern-only (pagevisor's
            # driver speaks virtio 1.0), named by the swap serial
            cmd += [*drive, "-device", "virtio-blk-pci,drive=swap,disable-legacy=on,"
                                       "serial=pagevisor-swap"]
        return cmd
    # the CPU run-qemu.sh gives pagevisor (scripts/machine.env), so both
    # boots see the same processor
    cmd = ["timeout", str(cfg.timeout), "qemu-system-x86_64", "-machine", "q35",
           *qemu_cpu_args(cfg.accel),
           "-m", f"{case.ram_mib}M", "-smp", "1", "-display", "none", "-no-reboot",
           "-nic", "none", "-serial", f"file:{log}", "-monitor", "none",
           "-kernel", cfg.kernel, "-initrd", cfg.initrd, "-append", cmd_line, *NAMED_THREADS, *qemu_extra()]
    if case.swap:
        cmd += [*drive, "-device", "virtio-blk-pci,drive=swap"]
    return cmd


def run_case(case, cfg):
    """Boot one case to completion; returns its Result (parsed console, and
    QEMU's CPU seconds per span: BASE.cpu.csv keeps the samples)."""
    os.makedirs(cfg.workdir, exist_ok=True)
    base = base_of(case, cfg)
    log = base + ".log"
    for old in (log, base + ".cpu.csv"):
        if os.path.exists(old):
            os.unlink(old)
    swap_img = base + ".swap.img"
    if case.swap:
        mkswap(swap_img, cfg.swap_mib)
    cmd = boot_command(case, cfg, base, log)
    t0 = time.monotonic()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(base + ".stderr", "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        samples = follow_cpu(proc, log)
        proc.wait()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.monotonic() - t0
    qemu_cpu.write_samples(base + ".cpu.csv", samples)
    data = open(log, "rb").read() if os.path.exists(log) else b""
    r = parse_console(data.decode(errors="replace"), case)
    r.cpu = cpu_spans(data, samples)
    r.wall_s, r.log = wall, log
    r.load = os.getloadavg()[0]
    r.cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if proc.returncode not in (0,) and r.ok:
        r.ok, r.reason = False, f"QEMU exited with status {proc.returncode}"
    elif not r.ok and not r.reason:
        r.reason = f"no verdict (QEMU status {proc.returncode}; log {log}, {base}.stderr)"
    if case.swap and os.path.exists(swap_img):
        os.unlink(swap_img)
    return r


SAMPLE = "[pvt] sample,"
COLUMNS = "[pvt] columns,sample,"


def parse_console(text, case):
    """Everything the benchmark reads from one console log."""
    r = Result(case)
    cols = None
    phase = interval_phase = "boot"
    prev_ms = 0
    for raw in text.splitlines():
        line = re.sub(r"^(?:\x1b\[[0-9;?]*[A-Za-z])*", "", raw.rstrip("\r"))
        if line.startswith(COLUMNS):
            cols = line[len(COLUMNS):].split(",")
            continue
        if line.startswith(SAMPLE) and cols:
            vals = line[len(SAMPLE):].split(",")
            # a sample covers the interval since the previous one: it
            # belongs to the phase that was running when that began
            acc = r.samples.setdefault(interval_phase, {})
            interval_phase = phase
            row = dict(zip(cols, vals))
            try:
                ms = int(row.get("ms", "0"))
            except ValueError:
                ms = prev_ms
            acc["_secs"] = acc.get("_secs", 0.0) + (ms - prev_ms) / 1000.0
            prev_ms = ms
            for c, v in row.items():
                if c in ("ms", "frames_used", "frames_free"):
                    continue
                try:
                    acc[c] = acc.get(c, 0) + int(v)
                except ValueError:
                    pass
            continue
        m = re.search(r"pv-guest: ready uptime=(\d+\.\d+)", line)
        if m:
            r.uptime = float(m.group(1))
            phase = "setup"
            continue
        m = re.search(r"workload: begin (\w+)", line)
        if m:
            phase = m.group(1)
            continue
        m = re.search(r"workload: phase (\w+) bytes=\d+ secs=([\d.]+) mib_s=([\d.]+)", line)
        if m:
            r.phases[m.group(1)] = (float(m.group(3)), float(m.group(2)))
            phase = "verify"
            continue
        # The same figures again, for when pagevisor's telemetry broke the
        # phase line in two: a guest line still unfinished half a second
        # after a sample fell due is cut by it (docs/monitor.md)
        m = re.search(r"pv-result: workload=\S+ phase=(\w+) secs=([\d.]+) mib_s=([\d.]+)", line)
        if m:
            if m.group(1) not in r.phases:
                r.phases[m.group(1)] = (float(m.group(3)), float(m.group(2)))
                phase = "verify"
            continue
        m = re.search(r"workload: vmstat (\w+)((?: \w+=\d+)+)", line)
        if m:
            r.guest[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            continue
        if "workload: PASS" in line:
            r.ok = True
            phase = "end"
            continue
        m = re.search(r"(?:workload|pv-guest: check workload): FAIL (.*)", line)
        if m and not r.reason:
            r.reason = m.group(1)
            continue
        m = re.search(r"Kernel panic - not syncing: (.*)", line)
        if m and not r.reason:
            r.reason = "kernel panic: " + m.group(1)   # e.g. too little RAM
            continue
        m = re.search(r"pv-guest: swapon \S+: FAIL (.*)", line)
        if m:
            r.reason = "swapon: " + m.group(1)
            continue
        m = re.match(r"\[pv\] stats io-port (\S+) (\d+)$", line)
        if m:
            r.io_ports[m.group(1)] = int(m.group(2))
            continue
        m = re.match(r"\[pv\] stats (\S+) (\S+) (\d+)$", line)
        if m:
            r.stats[(m.group(1), m.group(2))] = int(m.group(3))
            continue
    return r


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Sizes, time and the table: docs/performance.md. The environment "
                                        "variable PV_QEMU_EXTRA adds QEMU arguments to every boot (e.g. a QMP "
                                        "socket for profiling: docs/performance.md, \"How to look\").")
    ap.add_argument("--memory", type=int, default=384, help="guest memory, MiB (default 384)")
    ap.add_argument("--mib", type=int, default=192, help="workload size, MiB (default 192)")
    ap.add_argument("--phases", default=",".join(PHASES),
                    help="workload phases, write first (default write,read,rand,hotcold)")
    ap.add_argument("--fractions", default="50,25",
                    help="overcommitted frames as %% of memory, comma-separated, or 'none'")
    ap.add_argument("--policies", default=",".join(POLICIES),
                    help="readahead policies for the overcommitted runs")
    ap.add_argument("--only", default="", help="run only these cases (comma-separated names)")
    ap.add_argument("--accel", default="auto", choices=("auto", "tcg", "kvm"))
    ap.add_argument("--quiet-kernel", dest="quiet", action="store_true",
                    help="boot with `quiet` (default: the kernel log on the console, as make run)")
    ap.add_argument("--efi", default=os.path.join(ROOT, "build/pagevisor.efi"))
    ap.add_argument("--kit", default=os.path.join(ROOT, "build/guest"),
                    help="guest kit folder (scripts/guest-kit.sh builds it)")
    ap.add_argument("--workdir", default=os.path.join(ROOT, "build/bench-guest"))
    ap.add_argument("--swap-mib", type=int, default=1024, help="swap disk size (default 1024)")
    ap.add_argument("--timeout", type=int, default=600, help="per boot, seconds (default 600)")
    ap.add_argument("--csv", help="also write every figure to this CSV file")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run the whole plan this many times and add the median of each "
                         "ratio (default 1)")
    ap.add_argument("--repeat-100", type=int, default=8,
                    help="in the 100 %% pair, run each phase after write this many times in "
                         "one timed span (default 8: read, rand and hotcold take 0.1-0.2 s "
                         "once, too short to time well)")
    ap.add_argument("--pairs", type=int, default=5,
                    help="boot the 100 %% pair (direct, pv@100%%) this many times in each round, "
                         "alternating which goes first, and add the median of its ratios "
                         "(default 5; its phases are the shortest and the noisiest)")
    ap.add_argument("--reparse", action="store_true",
                    help="boot nothing: read the logs an earlier run left in --workdir")
    a = ap.parse_args(argv)
    a.phases = [p for p in a.phases.split(",") if p]
    bad = [p for p in a.phases if p not in PHASES]
    if bad or not a.phases or a.phases[0] != "write":
        ap.error(f"--phases {','.join(a.phases)}: from {','.join(PHASES)}, write first")
    try:
        a.fractions = [] if a.fractions == "none" else [int(x) for x in a.fractions.split(",")]
    except ValueError:
        ap.error(f"--fractions {a.fractions}: expected percentages like 50,25")
    if any(not 0 < f < 100 for f in a.fractions):
        ap.error("--fractions: each must be between 1 and 99")
    a.policies = [p for p in a.policies.split(",") if p]
    if a.rounds < 1:
        ap.error(f"--rounds {a.rounds}: at least 1")
    if a.pairs < 1:
        ap.error(f"--pairs {a.pairs}: at least 1")
    if not 1 <= a.repeat_100 <= 1000:
        ap.error(f"--repeat-100 {a.repeat_100}: from 1 to 1000 (the workload's limit)")
    if a.mib >= a.memory:
        ap.error(f"--mib {a.mib} must be below --memory {a.memory}")
    return a


def main(argv=None):
    cfg = parse_args(sys.argv[1:] if argv is None else argv)
    cfg.kernel = os.path.join(cfg.kit, "vmlinuz")
    cfg.initrd = os.path.join(cfg.kit, "initrd.img")
    for p in (cfg.efi, cfg.kernel, cfg.initrd):
        if not os.path.exists(p) and not cfg.reparse:
            print(f"bench-guest: {p} missing (make all; scripts/guest-kit.sh)", file=sys.stderr)
            return 2
    if shutil.which("qemu-system-x86_64") is None and not cfg.reparse:
        print("bench-guest: qemu-system-x86_64 not found (scripts/deps.sh)", file=sys.stderr)
        return 2
    cfg.accel = accel_mode(cfg.accel)
    # quiet: the kernel's first line never reaches the console, so no boot
    # CPU figure (the phases' still come)
    cfg.earlycon = not cfg.quiet
    cases = plan(cfg.memory, cfg.fractions, cfg.policies, cfg.repeat_100)
    if cfg.only:
        want = set(cfg.only.split(","))
        cases = [c for c in cases if c.name in want]
        if not cases:
            print(f"bench-guest: --only {cfg.only}: no such case", file=sys.stderr)
            return 2
    try:
        aio, aio_why = disk_aio()
    except DiskAioError as e:
        print(f"bench-guest: {e}", file=sys.stderr)
        return 2
    pair = hundred_pair(cases)
    boots = (len(cases) + len(pair) * (cfg.pairs - 1)) * cfg.rounds
    print(f"bench-guest: accel {cfg.accel}, memory {cfg.memory} MiB, workload {cfg.mib} MiB "
          f"({','.join(cfg.phases)}; the 100 % pair's phases after write {cfg.repeat_100}x), "
          f"{boots} boots; logs in {cfg.workdir}", flush=True)
    print(f"bench-guest: swap disks' I/O {aio} ({aio_why})", flush=True)
    samples, failed, top = [], 0, cfg.workdir
    for k in range(cfg.rounds):
        if cfg.rounds > 1:
            cfg.workdir = os.path.join(top, f"round{k + 1}")
            print(f"bench-guest: round {k + 1} of {cfg.rounds}", flush=True)
        results, bad = run_round(cases, cfg)
        failed += bad
        samples.append(headline_rows(results))
        csv_path = cfg.csv if k == 0 or not cfg.csv else \
            f"{os.path.splitext(cfg.csv)[0]}.round{k + 1}.csv"
        report(results, csv_path if cfg.csv else None, cfg.rounds > 1 and k > 0)
        round_dir = cfg.workdir
        for j in range(2, cfg.pairs + 1 if pair else 0):
            # the pair again, its own ratios; every other time pv@100%
            # first, so a machine slowing down or speeding up across the
            # round does not favour one side
            cfg.workdir = os.path.join(round_dir, f"pair{j}")
            print(f"bench-guest: the 100 % pair, boot {j} of {cfg.pairs}", flush=True)
            results, bad = run_round(pair if j % 2 else pair[::-1], cfg)
            failed += bad
            samples.append(headline_rows(results))
            csv_path = f"{os.path.splitext(cfg.csv)[0]}.round{k + 1}.pair{j}.csv" \
                if cfg.csv else None
            report(results, csv_path, True)
        cfg.workdir = round_dir
    if len(samples) > 1:
        print()
        print_medians(median_rows(samples))
    return 1 if failed else 0


def hundred_pair(cases):
    """[direct, pv@100%] when the plan boots both (the pair --pairs repeats),
    else []."""
    pv = next((c for c in cases if c.mode == "pv" and c.frames_mib == c.ram_mib), None)
    base = next((c for c in cases if pv and c.name == pv.baseline), None)
    return [base, pv] if base else []


def run_round(cases, cfg):
    """Boot (or reparse) every case once: (results, how many failed)."""
    results, failed = [], 0
    for c in cases:
        r = reparse_case(c, cfg) if cfg.reparse else run_case(c, cfg)
        results.append(r)
        state = "ok" if r.ok else f"FAILED: {r.reason}"
        cpu = " ".join(f"{k} {v[0]:.2f}" for k, v in r.cpu.items())
        print(f"bench-guest: {c.name:<18} boot {r.uptime:5.2f}s  "
              + " ".join(f"{p} {v[0]:.1f}" for p, v in r.phases.items())
              + f"  vCPU s: {cpu or '-'}"
              + f"  ({r.wall_s:.0f}s, cpu {r.cpu_s:.0f}s, load {r.load:.1f}) {state}",
              flush=True)
        failed += not r.ok
    return results, failed


def report(results, csv_path, brief=False):
    """One round's table (and, unless brief, its exit rates), and its CSV."""
    rows = ratio_rows(results)
    xrows = exit_rows(results)
    print()
    print_headline(headline_rows(results))
    if not brief:
        print()
        print_exits(xrows)
        print()
        print_guest(guest_rows(results))
    if csv_path:
        write_csv(csv_path, results, rows, xrows, cpu_ratio_rows(results),
                  cpu_ratio_rows(results, 1))
        print(f"bench-guest: figures in {csv_path}")


if __name__ == "__main__":
    sys.exit(main())

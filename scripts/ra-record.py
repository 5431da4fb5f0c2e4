#!/usr/bin/env python3
"""Record the swap-in trace of a real guest run for the readahead replay
(tests/bench/replay_ra.c; the format and how the kept traces were made:
tests/traces/README.md).

One boot of the guest kit's workload under pagevisor (scripts/bench-guest.py
does the boot), overcommitted, `swap virtio`, `readahead off`, with the
fault events streamed as telemetry (`telemetry MS,trace`, docs/monitor.md).
Readahead is off so that every page the guest touches while it is swapped
out shows up as a fault of its own: the trace is the guest's sequence of
swap-ins, independent of any policy, which the replay then plays against
each policy. The `[pvt] fault` records resolved `swap-in` (major) or
`swap-in-minor` (from the swap cache) become trace lines; everything else
is dropped. `[pvt] lost` records (events the ring overwrote before a sample
sent them) make the recording fail: a trace with holes would be wrong.

    scripts/ra-record.py --workload seq --mib 48 --memory 160 --frames 40 \\
        -o tests/traces/seq.trace

Also usable on a console log saved earlier (--from-log LOG): no boot.
Exit status 0, 1 when the run failed or lost events, 2 for bad arguments.
"""
import argparse
import importlib.util
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# workload name -> the workload.c phases (docs: exp-contract A)
WORKLOADS = {"seq": ["write", "read"], "rand": ["write", "rand"],
             "hotcold": ["write", "hotcold"], "stride": ["write", "stride"]}
FAULT = "[pvt] fault,"
LOST = "[pvt] lost,"
SWAP_RES = {"swap-in": "", "swap-in-minor": " m"}
PAGE_SHIFT = 12


def load_bench():
    spec = importlib.util.spec_from_file_location(
        "bench_guest", os.path.join(ROOT, "scripts/bench-guest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def extract(text):
    """(pages, kinds, lost) from a console log: the swap-in fault events in
    trace order. kinds: '' (major) or ' m' (minor) per page."""
    cols = None
    pages, kinds, lost = [], [], 0
    for raw in text.splitlines():
        line = re.sub(r"^(?:\x1b\[[0-9;?]*[A-Za-z])*", "", raw.rstrip("\r"))
        if line.startswith("[pvt] columns,fault,"):
            cols = line[len("[pvt] columns,fault,"):].split(",")
        elif line.startswith(LOST):
            lost += int(line.rsplit(",", 1)[1])
        elif line.startswith(FAULT):
            if cols is None:
                raise ValueError("a fault record before its columns record")
            row = dict(zip(cols, line[len(FAULT):].split(",")))
            kind = SWAP_RES.get(row.get("resolution", ""))
            if kind is None:
                continue
            pages.append(int(row["gpa"], 16) >> PAGE_SHIFT)
            kinds.append(kind)
    return pages, kinds, lost


def runs(pages, kinds):
    """(first page, extra pages, kind) per ascending run of consecutive pages
    of one kind: the trace's lines."""
    out = []
    for p, k in zip(pages, kinds):
        if out and out[-1][2] == k and p == out[-1][0] + out[-1][1] + 1:
            out[-1][1] += 1
        else:
            out.append([p, 0, k])
    return out


def write_trace(path, pages, kinds, header):
    with open(path, "w") as f:
        f.write("# pagevisor swap-in trace v1: per line a gpa page number (hex), or\n")
        f.write("# PAGE+N for PAGE and the N pages after it in ascending order;\n")
        f.write("# ' m' marks minor swap-ins (served by the swap cache)\n")
        for h in header:
            f.write(f"# {h}\n")
        for p, n, k in runs(pages, kinds):
            f.write(f"{p:x}+{n}{k}\n" if n else f"{p:x}{k}\n")


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", choices=sorted(WORKLOADS), default="seq")
    ap.add_argument("--mib", type=int, default=48, help="workload size, MiB (default 48)")
    ap.add_argument("--memory", type=int, default=160, help="guest memory, MiB (default 160)")
    ap.add_argument("--frames", type=int, default=40, help="host frames, MiB (default 40)")
    ap.add_argument("--telemetry-ms", type=int, default=20,
                    help="sample (and fault-event) interval, ms (default 20)")
    ap.add_argument("--accel", default="tcg", choices=("auto", "tcg", "kvm"))
    ap.add_argument("--timeout", type=int, default=900, help="seconds (default 900)")
    ap.add_argument("--workdir", default=os.path.join(ROOT, "build/ra-record"))
    ap.add_argument("--from-log", help="convert this console log instead of booting")
    ap.add_argument("-o", "--output", required=True, help="trace file to write")
    a = ap.parse_args(argv)
    if not 0 < a.frames < a.memory or not 0 < a.mib < a.memory:
        ap.error("need 0 < --frames < --memory and 0 < --mib < --memory")
    return a


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    phases = WORKLOADS[a.workload]
    if a.from_log:
        log = a.from_log
    else:
        bg = load_bench()
        plain_conf = bg.pv_conf

        def conf_with_trace(case, cmd):
            return plain_conf(case, cmd).replace(
                f"telemetry {bg.TELEMETRY_MS}\n", f"telemetry {a.telemetry_ms},trace\n")

        bg.pv_conf = conf_with_trace
        cfg = argparse.Namespace(
            mib=a.mib, phases=phases, quiet=True, workdir=a.workdir, swap_mib=256,
            efi=os.path.join(ROOT, "build/pagevisor.efi"),
            kernel=os.path.join(ROOT, "build/guest/vmlinuz"),
            initrd=os.path.join(ROOT, "build/guest/initrd.img"),
            accel=bg.accel_mode(a.accel), timeout=a.timeout)
        case = bg.Case(f"ra-record-{a.workload}", "pv", a.memory, frames_mib=a.frames,
                       readahead="off", swap=True)
        r = bg.run_case(case, cfg)
        log = r.log
        if not r.ok:
            print(f"ra-record: the run failed: {r.reason} (log {log})", file=sys.stderr)
            return 1
    text = open(log, errors="replace").read()
    try:
        pages, kinds, lost = extract(text)
    except ValueError as e:
        print(f"ra-record: {log}: {e}", file=sys.stderr)
        return 1
    if lost:
        print(f"ra-record: {log}: {lost} fault events lost (ring overwritten); "
              "use a shorter --telemetry-ms", file=sys.stderr)
        return 1
    if not pages:
        print(f"ra-record: {log}: no swap-in events (not overcommitted?)", file=sys.stderr)
        return 1
    header = [f"workload {a.workload} ({'+'.join(phases)} over {a.mib} MiB), memory "
              f"{a.memory}M, frames {a.frames}M, swap virtio, readahead off",
              f"made by: scripts/ra-record.py --workload {a.workload} --mib {a.mib} "
              f"--memory {a.memory} --frames {a.frames}",
              f"{len(pages)} swap-ins ({kinds.count(' m')} minor)"]
    write_trace(a.output, pages, kinds, header)
    print(f"ra-record: {a.output}: {len(pages)} swap-ins, "
          f"{len(set(pages))} distinct pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The guest-level benchmark's figures from parsed boots (scripts/bench-guest.py):
ratios to each setup's baselines (guest clock and QEMU's CPU time), the
headline table, medians over rounds, exit rates per phase, and the CSV.

A result is bench-guest's Result: .case (name, frames_mib, ram_mib,
baselines()), .ok, .uptime, .phases {phase: (MiB/s, secs)}, .cpu {span:
(vcpu_s, process_s)}, .samples {phase: {column: sum}}, .io_ports, .guest
{phase: {vmstat key: count}} (the workload's `vmstat` lines).
Nothing here boots or times anything."""
import csv
import statistics
import sys

PHASES = ("write", "read", "rand", "hotcold")
BOOT_METRIC = "boot to /init s (lower)"


def _pairs(results):
    """(result, baseline result) for each baseline of each result, both
    verified."""
    by = {r.case.name: r for r in results}
    for r in results:
        for name in r.case.baselines():
            b = by.get(name)
            if b and r.ok and b.ok:
                yield r, b


def ratio_rows(results):
    """[(metric, case, value, baseline, base_value, ratio)] for every figure
    that has a baseline; ratio = value / base_value: higher is better for
    MiB/s, lower for the boot time."""
    rows = []
    for r, b in _pairs(results):
        if r.case.frames_mib == r.case.ram_mib:
            # boot: direct has no readahead or swap difference; one line
            rows.append((BOOT_METRIC, r.case.name, r.uptime, b.case.name,
                         b.uptime, r.uptime / b.uptime if b.uptime else 0.0))
        for p in PHASES:
            if p in r.phases and p in b.phases and b.phases[p][0] > 0:
                rows.append((f"{p} MiB/s", r.case.name, r.phases[p][0], b.case.name,
                             b.phases[p][0], r.phases[p][0] / b.phases[p][0]))
    return rows


def _paired(results):
    """(result, its baseline's result, metric names) for every result with
    a baseline, both verified: the boot where frames = memory (the rest
    boot the same way as their 100 % case), then every phase."""
    for r, b in _pairs(results):
        boot = [BOOT_METRIC] if r.case.frames_mib == r.case.ram_mib else []
        yield r, b, boot + [f"{p} MiB/s" for p in PHASES]


def cpu_ratio_rows(results, which=0):
    """As ratio_rows, from QEMU's CPU seconds (which: 0 the vCPU thread, 1
    the whole process): [(metric, case, cpu_s, baseline, base_cpu_s,
    ratio)], metric named as ratio_rows' so the rows pair. The boot's ratio
    is cpu_s / base_cpu_s (lower is better, as its time); a phase's is
    base_cpu_s / cpu_s: the same work per CPU second, higher is better, as
    its MiB/s."""
    rows = []
    for r, b, metrics in _paired(results):
        for m in metrics:
            span = "boot" if m == BOOT_METRIC else m.split()[0]
            if span not in r.cpu or span not in b.cpu:
                continue
            v, bv = r.cpu[span][which], b.cpu[span][which]
            if m == BOOT_METRIC:
                ratio = v / bv if bv > 0 else 0.0
            else:
                ratio = bv / v if v > 0 else 0.0
            rows.append((m, r.case.name, v, b.case.name, bv, ratio))
    return rows


def headline_rows(results):
    """[(metric, case, baseline, vcpu_row, process_row, guest_row)]: the
    cpu_ratio_rows (vCPU thread, process) and ratio_rows (guest clock) of
    one metric and setup side by side; a row absent from one is None."""
    def keyed(rows):
        return {(row[0], row[1], row[3]): row for row in rows}
    vcpu, proc = keyed(cpu_ratio_rows(results)), keyed(cpu_ratio_rows(results, 1))
    guest = keyed(ratio_rows(results))
    out = []
    for r, b, metrics in _paired(results):
        for m in metrics:
            k = (m, r.case.name, b.case.name)
            if k in vcpu or k in guest:
                out.append((m, r.case.name, b.case.name, vcpu.get(k), proc.get(k),
                            guest.get(k)))
    return out


def print_headline(rows, out=None):
    out = out or sys.stdout   # looked up per call: a caller may redirect it
    print("pagevisor against its baseline. Headline: the CPU ratio, from the CPU seconds of "
          "QEMU's vCPU thread,\nwhich do not depend on the host's load (the guest's clock, "
          "and with it the guest-clock ratio,\nstretches with it). boot: ratio of times, "
          "lower is better; phases: ratio of speeds, higher is better.", file=out)
    head = ("metric", "setup", "baseline", "CPU ratio", "CPU s setup / base",
            "process ratio", "guest-clock ratio", "guest setup / base")
    w = (22, 18, 12, 9, 18, 13, 17, 0)
    print("  ".join(h.ljust(n) for h, n in zip(head, w)).rstrip(), file=out)

    def ratio(row):
        return f"{row[5]:.2f}" if row else "-"

    for m, c, b, v, p, g in rows:
        metric = "boot to /init (lower)" if m == BOOT_METRIC else m.split()[0]
        cpu_s = f"{v[2]:.2f} / {v[4]:.2f}" if v else "-"
        guest = f"{g[2]:.2f} / {g[4]:.2f}" + (" s" if m == BOOT_METRIC else " MiB/s") if g else "-"
        print(f"{metric:<22}  {c:<18}  {b:<12}  {ratio(v):<9}  {cpu_s:<18}  {ratio(p):<13}  "
              f"{ratio(g):<17}  {guest}", file=out)


def median_rows(rounds):
    """[(metric, case, baseline, cpu_median, cpu_min, cpu_max, guest_median, n)]
    over the headline_rows of several samples (each a complete run of the
    plan, or one more boot of a pair: pv and its baseline booted together):
    a ratio is only ever taken within a sample, and the median of those
    ratios is the figure; min and max show the spread. n: samples with a
    CPU ratio."""
    order, cpu, guest = [], {}, {}
    for rows in rounds:
        for m, c, b, v, _p, g in rows:
            k = (m, c, b)
            if k not in cpu:
                order.append(k)
                cpu[k], guest[k] = [], []
            if v:
                cpu[k].append(v[5])
            if g:
                guest[k].append(g[5])
    out = []
    for k in order:
        v, g = cpu[k], guest[k]
        out.append((*k, statistics.median(v) if v else None, min(v) if v else None,
                    max(v) if v else None, statistics.median(g) if g else None, len(v)))
    return out


def print_medians(rows, out=None):
    out = out or sys.stdout   # looked up per call: a caller may redirect it
    print("medians (each ratio within one round, or one repeat of the 100 % pair; "
          "min-max: the spread; n: how many ratios):", file=out)
    head = ("metric", "setup", "baseline", "CPU ratio", "min-max", "guest-clock ratio", "n")
    w = (22, 18, 18, 9, 11, 17, 0)
    print("  ".join(h.ljust(n) for h, n in zip(head, w)).rstrip(), file=out)

    def f(x):
        return f"{x:.2f}" if x is not None else "-"

    for m, c, b, med, lo, hi, g, n in rows:
        metric = "boot to /init (lower)" if m == BOOT_METRIC else m.split()[0]
        spread = f"{f(lo)}-{f(hi)}" if lo is not None else "-"
        print(f"{metric:<22}  {c:<18}  {b:<18}  {f(med):<9}  {spread:<11}  {f(g):<17}  {n}",
              file=out)


def exit_rows(results):
    """[(case, phase, secs, exits/s, {kind: /s}, major, minor)] from telemetry:
    a phase's samples are those whose interval began between its `begin`
    and end lines (boot: before /init; setup: /init to the first phase;
    verify: after a phase's end, the final check; end: after the PASS).
    A phase shorter than a sample interval may have none."""
    rows = []
    for r in results:
        for phase, s in r.samples.items():
            secs = s.get("_secs") or 0
            if secs <= 0:
                continue
            kinds = {c[2:]: s[c] / secs for c in s if c.startswith("x_") and s[c]}
            if not kinds and s.get("faults"):  # telemetry without x_ columns
                kinds = {"stage2_fault": s["faults"] / secs}
            rows.append((r.case.name, phase, secs, s.get("exits", 0) / secs, kinds,
                         s.get("swapins_major", 0), s.get("swapins_minor", 0)))
    return rows


def print_exits(rows, out=None):
    out = out or sys.stdout   # looked up per call: a caller may redirect it
    print("exits per second by kind (pagevisor telemetry), swap-ins per phase:", file=out)
    for case, phase, secs, rate, kinds, major, minor in rows:
        top = " ".join(f"{k}={v:.0f}" for k, v in sorted(kinds.items(), key=lambda x: -x[1])[:4])
        print(f"  {case:<18} {phase:<8} {secs:7.2f}s exits/s {rate:8.0f}  {top}"
              f"  swap-ins major {major} minor {minor}", file=out)


# Counters of the guest kernel a like-for-like pair must agree on, and how far
# apart two counts may be (a share of the larger, and an absolute floor for
# counts too small to matter) before the pair is flagged.
GUEST_AGREE = ("pgfault", "thp_fault_alloc")
GUEST_TOLERANCE = 0.10
GUEST_FLOOR = 16


def _apart(a, b):
    return abs(a - b) > max(GUEST_FLOOR, GUEST_TOLERANCE * max(a, b))


def guest_rows(results):
    """[(case, phase, {vmstat key: count}, note)]: the guest kernel's own
    counts over each phase. A setup given the same RAM as its baseline (the
    100 % pair) is compared with it: note names the counters of
    GUEST_AGREE that differ (the two guests then did different kernel work,
    e.g. huge pages on one side only, and the phase's ratio compares more
    than the hypervisor); "" otherwise."""
    by = {r.case.name: r for r in results}
    rows = []
    for r in results:
        for phase, counts in r.guest.items():
            notes = []
            for name in r.case.baselines():
                b = by.get(name)
                if not b or b.case.ram_mib != r.case.ram_mib or phase not in b.guest:
                    continue
                other = b.guest[phase]
                notes += [f"{k} {counts.get(k, 0)} vs {other.get(k, 0)} in {name}"
                          for k in GUEST_AGREE if _apart(counts.get(k, 0), other.get(k, 0))]
            rows.append((r.case.name, phase, counts, "; ".join(notes)))
    return rows


def print_guest(rows, out=None):
    out = out or sys.stdout
    print("the guest kernel per phase (/proc/vmstat): page faults, major ones, "
          "huge pages at first touch and fallbacks:", file=out)
    for case, phase, c, note in rows:
        print(f"  {case:<18} {phase:<8} pgfault {c.get('pgfault', 0):>8} "
              f"major {c.get('pgmajfault', 0):>7} thp {c.get('thp_fault_alloc', 0):>5} "
              f"fallback {c.get('thp_fault_fallback', 0):>5}"
              + (f"  DIFFERS: {note}" if note else ""), file=out)


def write_csv(path, results, rows, xrows, cpu_rows=(), process_rows=()):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kind", "case", "phase_or_metric", "value", "baseline", "base_value",
                    "ratio", "extra"])
        for m, c, v, b, bv, ratio in rows:
            w.writerow(["ratio", c, m, f"{v:.3f}", b, f"{bv:.3f}", f"{ratio:.3f}", ""])
        for r in results:
            w.writerow(["boot", r.case.name, "uptime_s", f"{r.uptime:.3f}", "", "", "",
                        f"ok={int(r.ok)} wall_s={r.wall_s:.1f} cpu_s={r.cpu_s:.1f} "
                        f"load={r.load:.1f}"])
            for p, (rate, secs) in r.phases.items():
                w.writerow(["phase", r.case.name, p, f"{rate:.1f}", "", "", "",
                            f"secs={secs:.3f}"])
            for port, n in r.io_ports.items():
                w.writerow(["io-port", r.case.name, port, n, "", "", "", ""])
            for span, (vcpu, proc) in r.cpu.items():
                w.writerow(["cpu", r.case.name, span, f"{vcpu:.3f}", "", "", "",
                            f"process_s={proc:.2f}"])
        for case, phase, counts, note in guest_rows(results):
            w.writerow(["guest", case, phase, counts.get("pgfault", 0), "", "", "",
                        " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
                        + (f" differs: {note}" if note else "")])
        # keyed by the baseline too: a setup may have two (`off`)
        procs = {(m, c, b): (v, bv, ratio) for m, c, v, b, bv, ratio in process_rows}
        for m, c, v, b, bv, ratio in cpu_rows:
            p = procs.get((m, c, b))
            extra = f"process_s={p[0]:.2f} base_process_s={p[1]:.2f} " \
                    f"process_ratio={p[2]:.3f}" if p else ""
            w.writerow(["cpu-ratio", c, m, f"{v:.3f}", b, f"{bv:.3f}", f"{ratio:.3f}", extra])
        for case, phase, secs, rate, kinds, major, minor in xrows:
            extra = " ".join(f"{k}={v:.0f}" for k, v in sorted(kinds.items()))
            w.writerow(["exits", case, phase, f"{rate:.0f}", "", "", "",
                        f"secs={secs:.2f} major={major} minor={minor} {extra}".strip()])

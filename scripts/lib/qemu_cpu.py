"""QEMU's CPU time at the marks of a guest's console log, for the
guest-level benchmark (scripts/bench-guest.py).

The guest's own clock (CLOCK_MONOTONIC in a TCG guest) and the host's wall
clock both stretch when the host is loaded: on the shared 2-core machine
the same direct boot reached /init after 2.1 s once and 12.1 s another
time. The CPU time QEMU spends emulating the guest does not depend on how
long it waited for a core, so the headline ratios are ratios of CPU
seconds. While a case boots, bench-guest's run_case polls the size of its console log
and, each time it grew, reads QEMU's CPU time: a sample (log offset,
vCPU-thread seconds, process seconds). After the run, each mark of the
console (the kernel's first line, `pv-guest: ready`, every `workload:
begin P` and `workload: phase P` line) takes the first sample taken with
the log at least that long, i.e. after the mark was written.

Which CPU: the vCPU thread (comm `CPU 0/TCG`, `CPU 0/KVM`; `ALL
CPUs/TCG` for round-robin TCG), read from its schedstat in nanoseconds.
It runs the guest's code, the emulated VMRUN/#VMEXIT, TCG's walks of the
nested page tables and the port/MMIO device models, i.e. all of what
pagevisor adds; it sleeps while the guest halts waiting for its disk. The
whole process (utime+stime of /proc/PID/stat, every thread, exited ones
included, 10 ms ticks) adds QEMU's main loop and its block-I/O workers;
it is reported beside (`process` columns), not the headline, because its
10 ms resolution is coarse against the short phases.
"""
import bisect
import os
import re
import time

CPU_POLL_S = 0.005
CLK_TCK = os.sysconf("SC_CLK_TCK")
VCPU_COMM = re.compile(r"/(?:TCG|KVM)$")


def _read(path):
    with open(path) as f:
        return f.read()


def _stat_ticks(path):
    """utime + stime of a /proc stat file, in clock ticks."""
    fields = _read(path).rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class QemuCpu:
    """QEMU's CPU time, for the process tree rooted at pid (the wrapper
    script or `timeout` that runs QEMU)."""

    def __init__(self, pid):
        self.root, self.qemu, self.vcpus = pid, None, []

    def _find_qemu(self):
        todo, seen = [self.root], set()
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            try:
                if _read(f"/proc/{p}/comm").startswith("qemu-system"):
                    return p
                for t in os.listdir(f"/proc/{p}/task"):
                    todo += [int(c) for c in _read(f"/proc/{p}/task/{t}/children").split()]
            except OSError:
                continue
        return None

    def _find_vcpus(self):
        tids = []
        for t in os.listdir(f"/proc/{self.qemu}/task"):
            try:
                if VCPU_COMM.search(_read(f"/proc/{self.qemu}/task/{t}/comm").strip()):
                    tids.append(t)
            except OSError:
                pass
        return tids

    def _vcpu_s(self, tid):
        base = f"/proc/{self.qemu}/task/{tid}"
        try:
            return int(_read(base + "/schedstat").split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            return _stat_ticks(base + "/stat") / CLK_TCK

    def sample(self):
        """(vcpu_s, process_s), or None before QEMU is up and its vCPU
        thread named, or after it exited."""
        try:
            if self.qemu is None:
                self.qemu = self._find_qemu()
            if self.qemu is None:
                return None
            if not self.vcpus:
                self.vcpus = self._find_vcpus()
                if not self.vcpus:
                    return None
            vcpu = sum(self._vcpu_s(t) for t in self.vcpus)
            return vcpu, _stat_ticks(f"/proc/{self.qemu}/stat") / CLK_TCK
        except OSError:
            return None


def follow_cpu(proc, log, poll_s=CPU_POLL_S, meter=None):
    """Until proc exits, every poll_s: a sample (log size, vcpu_s,
    process_s), the CPU read just after the size. Of the polls that saw the
    same size only the first and the last are kept: the last one before a
    mark was written and the first one after it bracket its CPU time.
    meter: what gives the CPU (QemuCpu of proc by default)."""
    meter, samples = meter or QemuCpu(proc.pid), []
    while proc.poll() is None:
        try:
            size = os.stat(log).st_size
        except OSError:
            size = 0
        s = meter.sample()
        if s:
            row = (size, *s)
            if len(samples) >= 2 and samples[-1][0] == samples[-2][0] == size:
                samples[-1] = row
            else:
                samples.append(row)
        time.sleep(poll_s)
    return samples


def write_samples(path, samples):
    with open(path, "w") as f:
        f.write("log_bytes,vcpu_s,process_s\n")
        f.writelines(f"{n},{v:.6f},{p:.2f}\n" for n, v, p in samples)


def read_samples(path):
    if not os.path.exists(path):
        return []
    rows = _read(path).splitlines()[1:]
    return [(int(n), float(v), float(p)) for n, v, p in (r.split(",") for r in rows if r)]


MARKS = (
    # (span, start|end, regex on a console line, where: line start or end)
    ("boot", 0, re.compile(rb"(?:^|\] )Linux version "), "start"),
    ("boot", 1, re.compile(rb"pv-guest: ready"), "start"),
    (None, 0, re.compile(rb"workload: begin (\w+)"), "end"),
    (None, 1, re.compile(rb"workload: phase (\w+) "), "start"),
)


def console_marks(data):
    """{(span, 0|1): byte offset} of the marks in a console log (bytes): a
    span starts or ends when the byte at that offset has been written. The
    kernel's first line and `ready` count from their first byte, a phase's
    `begin` line from its last (the phase starts after it), its `phase` line
    from its first (written when the phase's clock stopped). First match of
    each wins."""
    marks, pos = {}, 0
    for line in data.splitlines(keepends=True):
        for span, edge, rx, where in MARKS:
            m = rx.search(line)
            if not m:
                continue
            key = (span or m.group(1).decode(), edge)
            if key not in marks:
                marks[key] = pos + (len(line) if where == "end" else 1)
            break
        pos += len(line)
    return marks


def cpu_at(samples, offset):
    """(vcpu_s, process_s) when the log's byte at offset (1-based count)
    was written: the middle of the last sample that had not seen it and the
    first that had; the first alone when there is none before. None when no
    sample saw it."""
    i = bisect.bisect_left([s[0] for s in samples], offset)
    if i == len(samples):
        return None
    after = samples[i]
    before = samples[i - 1] if i else after
    return tuple((x + y) / 2 for x, y in zip(before[1:], after[1:]))


def cpu_spans(data, samples):
    """{span: (vcpu_s, process_s)}: QEMU's CPU seconds from each span's
    start mark to its end mark (boot: kernel start to /init; each workload
    phase), from the samples follow_cpu took (sorted by log size). A span
    without both marks, or without a sample after a mark, is left out."""
    marks, spans = console_marks(data), {}
    for (span, edge), off in marks.items():
        if edge != 0 or (span, 1) not in marks:
            continue
        a, b = cpu_at(samples, off), cpu_at(samples, marks[(span, 1)])
        if a and b:
            spans[span] = (b[0] - a[0], b[1] - a[1])
    return spans

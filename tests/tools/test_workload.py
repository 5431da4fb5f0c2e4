"""tests/guest/workload.c, the guest-level benchmark's memory workload, built
for this host and run on a few MiB: the repeat count PHASE:N (the bytes of
all N passes in one timed span, every pass verified) and the phases it
refuses by name. Never a timing."""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIB = 1 << 20


@pytest.fixture(scope="module")
def workload(tmp_path_factory):
    out = tmp_path_factory.mktemp("workload") / "workload"
    subprocess.run(["gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(out),
                    os.path.join(ROOT, "tests/guest/workload.c")], check=True)
    return str(out)


def run(workload, *args):
    return subprocess.run([workload, *args], capture_output=True, text=True, timeout=60)


def phase_bytes(stdout):
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^workload: phase (\w+) bytes=(\d+) ", stdout, re.M)}


def test_a_repeat_count_runs_the_phase_that_many_times_in_one_span(workload):
    r = run(workload, "4", "write,read:3,rand:2,hotcold", "7")
    assert r.returncode == 0, r.stdout
    pages = 4 * MIB // 4096
    # rand and hotcold touch a quarter of the pages per pass
    assert phase_bytes(r.stdout) == {"write": 4 * MIB, "read": 3 * 4 * MIB,
                                     "rand": 2 * pages // 4 * 4096, "hotcold": pages // 4 * 4096}
    assert r.stdout.count("workload: begin read") == 1      # one span, one line pair
    assert "pv-result: workload=hotcold phase=read secs=" in r.stdout
    assert r.stdout.rstrip().endswith(f"workload: PASS verified_bytes={4 * MIB}")
    # the run's name comes from its last phase without the count
    seq = run(workload, "2", "write,read:2", "7")
    assert seq.returncode == 0 and "pv-result: workload=seq phase=read" in seq.stdout


@pytest.mark.parametrize("phases,why", [
    ("write:2", "phase 'write' takes no repeat count"),
    ("write,read:0", "phase 'read': repeat count '0' is not 1 to 1000"),
    ("write,rand:1001", "phase 'rand': repeat count '1001' is not 1 to 1000"),
    ("write,rand:x", "phase 'rand': repeat count 'x' is not 1 to 1000"),
    ("write,reed:2", "unknown phase 'reed'"),
    ("read:2", "the first must be write"),
])
def test_a_bad_phase_is_refused_by_name_before_any_work(workload, phases, why):
    r = run(workload, "4", phases, "7")
    assert r.returncode == 2
    assert r.stdout.startswith("workload: FAIL ") and why in r.stdout
    assert "workload: begin" not in r.stdout


def test_each_phase_reports_the_guest_kernels_counts_after_its_lines(workload):
    r = run(workload, "4", "write,read", "7")
    assert r.returncode == 0, r.stdout
    lines = r.stdout.splitlines()
    for phase in ("write", "read"):
        i = next(k for k, l in enumerate(lines) if l.startswith(f"workload: vmstat {phase} "))
        # after the phase's own two lines, outside its timed span
        assert lines[i - 2].startswith(f"workload: phase {phase} ")
        assert lines[i - 1].startswith(f"pv-result: workload=seq phase={phase} ")
        counts = dict(kv.split("=") for kv in lines[i].split()[3:])
        assert set(counts) == {"thp_fault_alloc", "thp_fault_fallback", "pgfault", "pgmajfault"}
    # the first touch of 4 MiB faults at least once per 2 MiB on this host
    # (huge pages or not); reading it back again needs no new page
    write = dict(kv.split("=") for kv in
                 next(l for l in lines if l.startswith("workload: vmstat write")).split()[3:])
    assert int(write["pgfault"]) + int(write["thp_fault_alloc"]) >= 2

"""Smoke sweep of the experiment runner (scripts/experiment.py, `make
experiment`) under QEMU TCG at tiny sizes: one workload (seq, 80 MiB in a
192 MiB guest), local memory 100 and 50 %, readahead off and cluster:8, both
baselines: five boots. Asserts that every run completes with verified data,
that the results folder has the declared files and columns with one
summary row per run, that pagevisor's overcommitted runs swapped (with
readahead off, in sequential walks), and,
that the report step (scripts/exp-report.py) writes PNGs.
Never a timing."""
import csv
import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import BUILD, ROOT, _missing

SCRIPT = os.path.join(ROOT, "scripts", "experiment.py")
ARGS = ["--memory", "192", "--mib", "80", "--fractions", "100,50", "--policies",
        "off,cluster:8", "--workloads", "seq", "--accel", "tcg"]
COLUMNS = ("run,setup,workload,fraction,policy,swap,latency_ms,repeat,memory_mib,local_mib,"
           "status,reason,verified,completion_s,throughput,throughput_unit,p50_ms,p99_ms,"
           "boot_s,swapins_major,swapins_minor,swapouts,ra_pages,ra_hits,ra_misses,"
           "ra_accuracy,ra_coverage,exits,wall_s")


def test_experiment_smoke_sweep(efi, guest_kit):
    missing = _missing("qemu-system-x86_64", "/usr/share/OVMF/OVMF_CODE_4M.fd")
    if missing:
        pytest.skip(f"QEMU platform absent: {missing} not found")
    out = os.path.join(BUILD, "e2e", "experiment-smoke")
    shutil.rmtree(out, ignore_errors=True)
    plan = subprocess.run([sys.executable, SCRIPT, *ARGS, "--out", out, "--dry-run"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert len(plan) == 5, plan
    p = subprocess.run([sys.executable, SCRIPT, *ARGS, "--out", out, "--timeout", "900"],
                       capture_output=True, text=True, timeout=3000)
    assert p.returncode == 0, f"experiment failed:\n{p.stderr[-3000:]}"
    assert f"[5/5] {plan[-1]} ok" in p.stderr, p.stderr[-2000:]
    with open(os.path.join(out, "summary.csv")) as f:
        assert f.readline().strip() == COLUMNS
    with open(os.path.join(out, "summary.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [r["run"] for r in rows] == plan
    for r in rows:
        assert r["status"] == "ok" and r["verified"] == "yes", r
        assert r["throughput_unit"] == "MiB/s" and float(r["throughput"]) > 0, r
        base = os.path.join(out, "runs", r["run"])
        for ext in (".log", ".results.csv"):
            assert os.path.getsize(base + ext) > 0, base + ext
        if r["setup"] == "pv":
            for ext in (".stats.csv", ".telemetry.csv"):
                assert os.path.getsize(base + ext) > 0, base + ext
    by = {(r["setup"], r["fraction"], r["policy"]): r for r in rows}
    assert set(by) == {("direct", "100", "-"), ("pv", "100", "-"), ("direct-swap", "50", "-"),
                       ("pv", "50", "off"), ("pv", "50", "cluster:8")}
    for pol in ("off", "cluster:8"):
        r = by[("pv", "50", pol)]
        assert r["local_mib"] == "96" and int(r["swapouts"]) > 0, f"{r['run']} never swapped"
        assert r["ra_pages"] != "" and r["exits"] != "", r
    # readahead off: the sequential workload's swap-ins are walks, reclaimed
    # first (swap/swapin.c, note_walk); the final report counts them
    off_log = open(os.path.join(out, "runs", by[("pv", "50", "off")]["run"] + ".log"),
                   errors="replace").read()
    walks = re.search(r"\[pv\] stats swap walk-ins (\d+)", off_log)
    assert walks and int(walks.group(1)) > 0, "no sequential walk of swap-ins with readahead off"
    text = open(os.path.join(out, "runs", by[("direct-swap", "50", "-")]["run"] + ".log"),
                errors="replace").read()
    assert "pv-guest: swapon vda: OK" in text, "the direct-swap guest did not swap to its disk"
    assert glob.glob(os.path.join(out, "report", "*.png")), \
        f"the report wrote no PNG:\n{p.stderr[-2000:]}"
    # a rerun resumes: nothing left to boot
    again = subprocess.run([sys.executable, SCRIPT, "--resume", out, "--no-report"],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "(5 done before)" in again.stderr, again.stderr

"""scripts/experiment.py without booting anything: the plan and run names,
what it reads from canned console logs (tests/tools/data/exp-logs/, see
README there) into summary rows and per-run CSVs, resuming a results
folder (parameters that differ refused), and bad arguments."""
import csv
import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "experiment.py")
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "exp-logs")

spec = importlib.util.spec_from_file_location("experiment", SCRIPT)
ex = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ex)
xr = ex.xr
import exp_nbd  # noqa: E402  (scripts/lib, on the path once experiment.py is loaded)


def canned(name):
    with open(os.path.join(DATA, name), errors="replace") as f:
        return f.read()


def params(**kw):
    p = dict(memory=192, mib=104, fractions=[100, 50], policies=["off", "cluster:8"],
             workloads=["seq"], repeats=1, swap=["local"], latency_ms=["0"],
             baselines=["direct", "direct-swap"], accel="tcg", kernel_log=False)
    p.update(kw)
    return p


# ---- plan and names ---------------------------------------------------------

def test_plan_order_names_and_sizes():
    runs = ex.plan(params())
    assert [r.name for r in runs] == [
        "direct-seq-f100---none-r1", "pv-seq-f100---none-r1",
        "direct-swap-seq-f50---local-r1", "pv-seq-f50-off-local-r1",
        "pv-seq-f50-cluster_8-local-r1"]
    by = {r.name: r for r in runs}
    r = by["pv-seq-f50-cluster_8-local-r1"]
    assert (r.memory_mib, r.local_mib, r.policy, r.swap, r.latency_ms) == (192, 96, "cluster:8",
                                                                           "local", "")
    d = by["direct-swap-seq-f50---local-r1"]
    assert (d.setup, d.memory_mib, d.local_mib, d.policy) == ("direct-swap", 192, 96, "-")


def test_plan_repeats_outermost_nbd_latencies_apart_and_no_baselines():
    runs = ex.plan(params(fractions=[25], policies=["auto"], workloads=["seq", "rand"],
                          repeats=2, swap=["local", "nbd"], latency_ms=["0", "5"],
                          baselines=[], memory=400))
    names = [r.name for r in runs]
    assert names[:3] == ["pv-seq-f25-auto-local-r1", "pv-seq-f25-auto-nbd0ms-r1",
                         "pv-seq-f25-auto-nbd5ms-r1"]
    assert len(runs) == 2 * 2 * 3 and len(set(names)) == len(names)
    assert [r.repeat for r in runs] == [1] * 6 + [2] * 6
    assert {r.latency_ms for r in runs if r.swap == "nbd"} == {"0", "5"}
    assert all(r.setup == "pv" and r.local_mib == 100 for r in runs)


def test_cases_carry_the_guest_arguments_and_sizes():
    runs = {r.name: r for r in ex.plan(params(workloads=["rand", "redis"]))}
    pv = ex.case_of(runs["pv-rand-f50-off-local-r1"], 104)
    assert (pv.mode, pv.ram_mib, pv.frames_mib, pv.readahead, pv.swap) == (
        "pv", 192, 96, "off", True)
    conf = ex.bg.pv_conf(pv, ex.bg.cmdline(pv, 104, [], True))
    assert "frames 96M\n" in conf and "readahead off\n" in conf and "swap virtio\n" in conf
    assert "pv.workload=104:write+rand" in conf
    full = ex.case_of(runs["pv-rand-f100---none-r1"], 104)
    assert not full.swap and "swap" not in ex.bg.pv_conf(full, "x")
    ds = ex.case_of(runs["direct-swap-redis-f50---local-r1"], 104)
    line = ex.bg.cmdline(ds, 104, [], True)
    assert ds.ram_mib == 96 and ds.swap and "pv.swapon=vda" in line
    assert "pv.check=app pv.app=redis pv.appmib=104" in line
    assert ex.check_name("redis") == "app" and ex.check_name("seq") == "workload"


def test_nbd_runs_attach_the_served_disk():
    run = ex.plan(params(fractions=[50], swap=["nbd"], baselines=["direct-swap"]))[0]
    cfg = type("C", (), dict(mib=104, phases=[], quiet=True, accel="tcg", timeout=9,
                             kernel="K", initrd="I", efi="E"))
    cmd = ex.bg.boot_command(ex.case_of(run, 104), cfg, "/tmp/b", "/tmp/l",
                             swap_drive="nbd://127.0.0.1:10809")
    assert "if=none,id=swap,format=raw,file=nbd://127.0.0.1:10809" in cmd
    assert exp_nbd.NBD_ADDRESS.search("serving nbd://127.0.0.1:10809 (latency 5 ms)").group(0) \
        == "nbd://127.0.0.1:10809"


def test_apps_skipped_without_their_initramfs(tmp_path):
    runs, skipped = ex.available(params(workloads=["seq", "redis"]), str(tmp_path))
    assert {r.workload for r in runs} == {"seq"}
    assert len(skipped) == 1 and "redis" in skipped[0] and "apps.img missing" in skipped[0]
    (tmp_path / "apps.img").write_bytes(b"x")
    runs, skipped = ex.available(params(workloads=["seq", "redis"]), str(tmp_path))
    assert {r.workload for r in runs} == {"seq", "redis"} and not skipped


# ---- what a console log gives ----------------------------------------------

def run_of(name, p=None):
    return {r.name: r for r in ex.plan(p or params())}[name]


def test_pv_log_gives_figures_stats_and_telemetry(tmp_path):
    text = canned("exp-pv-seq-f50.log")
    o = xr.parse_run(text, "workload")
    assert o.verified and o.boot_s == 6.56
    # this kit has no pv-result lines yet: the phase lines stand for them
    assert xr.result_rows(o.results) == [
        ("workload", "write", "secs", "4.671"), ("workload", "write", "mib_s", "22.3"),
        ("workload", "read", "secs", "4.669"), ("workload", "read", "mib_s", "22.3")]
    rows = xr.stats_rows(text)
    assert ("swap", "outs", 43690) in rows and ("exit", "stage2-fault", 35117) in rows
    assert ("swap", "device-slots", 262143) in rows and ("swap", "reclaim-direct", 101) in rows
    assert ("swap", "free", 568) in rows and ("swap", "watermarks-min", 192) in rows
    assert ("open-bus", "writes", 0) in rows
    assert not any(g == "swap" and n == "readahead" for g, n, _ in rows)
    run = run_of("pv-seq-f50-cluster_8-local-r1")
    row = xr.summary_row(run.axes(), o, "ok", "", 39.04)
    assert list(row) == xr.SUMMARY_COLUMNS
    assert row["run"] == "pv-seq-f50-cluster_8-local-r1" and row["policy"] == "cluster:8"
    assert row["verified"] == "yes" and row["latency_ms"] == ""
    assert row["completion_s"] == "9.340" and row["throughput"] == "22.3"
    assert row["throughput_unit"] == "MiB/s" and row["p99_ms"] == ""
    assert (row["swapins_major"], row["swapins_minor"], row["swapouts"]) == ("8149", "0", "43690")
    assert (row["ra_pages"], row["ra_hits"], row["ra_misses"]) == ("56603", "49090", "3633")
    assert row["ra_accuracy"] == f"{49090 / 56603:.4f}"
    assert row["ra_coverage"] == f"{49090 / (49090 + 8149):.4f}"
    assert row["exits"] == str(989 + 10 + 3 + 34445 + 35117) and row["wall_s"] == "39.0"
    dest = tmp_path / "t.csv"
    assert xr.write_telemetry(text, str(dest), str(tmp_path / "split"))
    with open(dest) as f:
        tele = list(csv.reader(f))
    assert tele[0][:3] == ["ms", "frames_used", "frames_free"] and len(tele) == 1 + 7
    assert not (tmp_path / "split").exists()


def test_baseline_logs_leave_the_swap_columns_empty():
    o = xr.parse_run(canned("exp-direct-swap-seq-f50.log"), "workload")
    row = xr.summary_row(run_of("direct-swap-seq-f50---local-r1").axes(), o, "ok", "", 15.0)
    assert row["verified"] == "yes" and row["throughput"] == "33.8" and row["boot_s"] == "2.09"
    assert row["completion_s"] == f"{1.434 + 3.077:.3f}"
    for c in ("swapins_major", "ra_pages", "ra_accuracy", "ra_coverage", "exits"):
        assert row[c] == "", c


def test_failed_runs_keep_the_guest_reason():
    o = xr.parse_run(canned("exp-direct-oom.log"), "workload")
    assert not o.verified and o.reason == "check workload: workload killed by signal 9"
    o = xr.parse_run(canned("exp-direct-panic.log"), "workload")
    assert not o.verified and o.reason == "" and o.boot_s is None and o.results == []


def test_pv_result_lines_are_preferred_and_give_latency():
    text = canned("exp-pv-redis-f50.log") + "workload: phase write bytes=1 secs=1.0 mib_s=1.0\n"
    o = xr.parse_run(text, "app")
    assert o.verified and o.boot_s == 5.48
    assert ("redis", "GET", "p99_ms", "106.687") in xr.result_rows(o.results)
    assert ("redis", "fill", "keys", "65536") in xr.result_rows(o.results)
    assert len(o.results) == 2
    row = xr.summary_row(run_of("pv-redis-f50-cluster_8-local-r1",
                                params(workloads=["redis"])).axes(), o, "ok", "", 1.0)
    # the GET line (the last): ops/s; the fill line's ops_s and mib_s do not count
    assert (row["throughput"], row["throughput_unit"]) == ("689.2", "ops/s")
    assert (row["p50_ms"], row["p99_ms"], row["completion_s"]) == ("11.671", "106.687",
                                                                   "104.182")
    assert (row["swapins_major"], row["swapouts"]) == ("584", "16386")
    fill = "pv-result: workload=redis test=fill secs=1.5 ops_s=9000.0 mib_s=33.0 keys=9\n"
    assert xr.main_figures(xr.parse_results(fill))[1:3] == (9000.0, "ops/s")


def test_live_phase_follows_the_console():
    assert ex.live_phase("pv-guest: ready uptime=2\nworkload: begin read\n", "") == \
        "workload: begin read"
    assert ex.live_phase("[pv] stats begin: guest stopped\n", "") == "final stats"
    assert ex.live_phase("nothing here\n", "x") is None


# ---- the sweep loop, resume and interruption (execute() replaced) -----------

@pytest.fixture
def fake(tmp_path, monkeypatch):
    kit = tmp_path / "kit"
    kit.mkdir()
    for f in ("vmlinuz", "initrd.img"):
        (kit / f).write_bytes(b"x")
    (tmp_path / "pv.efi").write_bytes(b"x")
    booted, fail = [], set()

    def execute(run, a, p, out, say, tag):
        booted.append(run.name)
        if run.name in fail.copy() and "interrupt" in fail:
            raise KeyboardInterrupt
        log = "exp-direct-oom.log" if run.name in fail else "exp-direct-swap-seq-f50.log"
        o = xr.parse_run(canned(log), "workload")
        return xr.summary_row(run.axes(), o, "ok" if o.verified else "fail", o.reason, 1.5)

    monkeypatch.setattr(ex, "execute", execute)
    out = str(tmp_path / "res")
    base = ["--out", out, "--memory", "192", "--mib", "104", "--fractions", "100,50",
            "--policies", "off", "--workloads", "seq", "--accel", "tcg", "--no-report",
            "--efi", str(tmp_path / "pv.efi"), "--kit", str(kit)]
    return booted, fail, out, base


def summary_of(out):
    with open(os.path.join(out, "summary.csv")) as f:
        return list(csv.DictReader(f))


def test_sweep_writes_the_folder_and_resumes_failed_runs_on_request(fake):
    booted, fail, out, base = fake
    fail.add("pv-seq-f50-off-local-r1")
    assert ex.main(base) == 1
    names = ["direct-seq-f100---none-r1", "pv-seq-f100---none-r1",
             "direct-swap-seq-f50---local-r1", "pv-seq-f50-off-local-r1"]
    assert booted == names
    rows = summary_of(out)
    assert [r["run"] for r in rows] == names
    with open(os.path.join(out, "summary.csv")) as f:
        assert f.readline().strip() == ",".join(xr.SUMMARY_COLUMNS)
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "fail"]
    assert "killed by signal 9" in rows[3]["reason"]
    sweep = json.load(open(os.path.join(out, "sweep.json")))
    assert [r["run"] for r in sweep["runs"]] == names and sweep["params"]["memory"] == 192
    # a rerun boots nothing: the failed run too, unless asked
    booted.clear()
    assert ex.main(["--resume", out, "--no-report", "--efi", base[-3], "--kit", base[-1]]) == 1
    assert booted == []
    fail.clear()
    assert ex.main(base + ["--retry-failed"]) == 0
    assert booted == ["pv-seq-f50-off-local-r1"]
    assert [r["status"] for r in summary_of(out)] == ["ok"] * 4


def test_interrupted_sweep_keeps_finished_rows(fake):
    booted, fail, out, base = fake
    fail.update({"direct-swap-seq-f50---local-r1", "interrupt"})
    assert ex.main(base) == 130
    assert [r["run"] for r in summary_of(out)] == ["direct-seq-f100---none-r1",
                                                  "pv-seq-f100---none-r1"]
    assert not os.path.exists(os.path.join(out, "summary.csv.tmp"))
    fail.clear()
    booted.clear()
    assert ex.main(base) == 0
    assert booted == ["direct-swap-seq-f50---local-r1", "pv-seq-f50-off-local-r1"]


def test_resume_takes_the_saved_parameters_and_refuses_other_ones(fake, capsys):
    booted, fail, out, base = fake
    assert ex.main(base) == 0
    a, p, _ = ex.parse_args(["--resume", out])
    assert p["memory"] == 192 and p["fractions"] == [100, 50] and p["policies"] == ["off"]
    with pytest.raises(SystemExit) as e:
        ex.parse_args(["--out", out, "--memory", "256", "--policies", "off"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--memory 256 (sweep.json: 192)" in err and "--policies" not in err


def test_resume_of_a_folder_without_sweep_json_is_refused(tmp_path):
    p = subprocess.run([sys.executable, SCRIPT, "--resume", str(tmp_path)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "no sweep.json" in p.stderr


@pytest.mark.parametrize("args,word", [
    (["--workloads", "seq,bogus"], "--workloads"),
    (["--policies", "cluster:3"], "--policies"),
    (["--policies", "fast"], "--policies"),
    (["--fractions", "0,50"], "--fractions"),
    (["--fractions", "101"], "--fractions"),
    (["--fractions", "half"], "--fractions"),
    (["--memory", "128", "--mib", "64"], "--memory"),
    (["--memory", "384", "--mib", "256", "--fractions", "20"], "--memory"),
    # 25 % of 384 is 96 MiB: enough for the kit, not for the apps kit
    (["--memory", "384", "--mib", "160", "--fractions", "25", "--workloads", "redis"],
     "with the apps kit"),
    (["--swap", "tape"], "--swap"),
    (["--repeats", "0"], "--repeats"),
    (["--latency-ms", "-1"], "--latency-ms"),
])
def test_bad_arguments_exit_2_naming_the_argument(tmp_path, args, word):
    p = subprocess.run([sys.executable, SCRIPT, "--dry-run", "--accel", "tcg",
                        "--out", str(tmp_path / "r"), *args], capture_output=True, text=True)
    assert p.returncode == 2, (args, p.stderr)
    assert word in p.stderr, (args, p.stderr)
    assert not (tmp_path / "r").exists()


def test_dry_run_lists_the_runs(tmp_path):
    p = subprocess.run([sys.executable, SCRIPT, "--dry-run", "--accel", "tcg", "--out",
                        str(tmp_path / "r"), "--fractions", "100,50", "--policies", "off",
                        "--workloads", "seq"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["direct-seq-f100---none-r1", "pv-seq-f100---none-r1",
                                "direct-swap-seq-f50---local-r1", "pv-seq-f50-off-local-r1"]


def test_boot_reports_phases_and_the_last_stderr_line(tmp_path):
    log, err = str(tmp_path / "c.log"), str(tmp_path / "c.err")
    script = (f"echo 'pv-guest: ready uptime=1' > {log}; sleep 1.5; "
              f"echo 'workload: begin read' >> {log}; echo 'oops' >&2; sleep 1.5; exit 3")
    said = []
    rc, last = ex.boot(["sh", "-c", script], log, err, "[1/1]", said.append)
    assert (rc, last) == (3, "oops")
    assert [s.split(" (")[0].strip() for s in said] == ["[1/1] guest /init",
                                                         "[1/1] workload: begin read"]


def test_execute_writes_the_run_files_from_its_console(tmp_path, monkeypatch):
    """execute() with the boot replaced by one that writes a canned log."""
    src = os.path.join(DATA, "exp-pv-seq-f50.log")
    monkeypatch.setattr(ex.bg, "boot_command",
                        lambda case, cfg, base, log, swap_drive=None: ["cp", src, log])
    a = type("A", (), dict(kit=str(tmp_path), efi="E", timeout=60, swap_mib=1))
    run = run_of("pv-seq-f50-cluster_8-local-r1")
    row = ex.execute(run, a, params(), str(tmp_path), lambda m: None, "[1/1]")
    assert row["status"] == "ok" and row["swapouts"] == "43690", row
    base = tmp_path / "runs" / run.name
    for ext in (".log", ".results.csv", ".stats.csv", ".telemetry.csv"):
        assert (tmp_path / "runs" / (run.name + ext)).stat().st_size > 0, ext
    with open(str(base) + ".stats.csv") as f:
        assert next(csv.reader(f)) == ["group", "name", "value"]
    assert os.listdir(tmp_path / "work") == []   # swap image, ESP, conf gone
    # a boot that ends in a kernel panic fails with the panic's reason
    monkeypatch.setattr(ex.bg, "boot_command", lambda case, cfg, base, log, swap_drive=None:
                        ["sh", "-c", f"cp {os.path.join(DATA, 'exp-direct-panic.log')} {log}; "
                                     "exit 1"])
    row = ex.execute(run_of("direct-swap-seq-f50---local-r1"), a, params(), str(tmp_path),
                     lambda m: None, "[1/1]")
    assert row["status"] == "fail", row
    assert row["reason"].startswith("guest kernel panic: "), row["reason"]
    assert not (tmp_path / "runs" / "direct-swap-seq-f50---local-r1.stats.csv").exists()


def test_nbd_swap_yields_the_served_address_and_stops_the_server(tmp_path, monkeypatch):
    fake = tmp_path / "nbd-swap.py"
    pidfile = tmp_path / "pid"
    fake.write_text("import os, sys, time\n"
                    f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
                    "assert sys.argv[1:] == ['--image', 'img', '--latency-ms', '5'], sys.argv\n"
                    "print('nbd-swap: serving nbd://127.0.0.1:10810 (latency 5 ms)', flush=True)\n"
                    "time.sleep(60)\n")
    monkeypatch.setattr(exp_nbd, "NBD_SCRIPT", str(fake))
    with exp_nbd.nbd_swap("img", "5", str(tmp_path / "nbd.log")) as addr:
        assert addr == "nbd://127.0.0.1:10810"
        pid = int(pidfile.read_text())
        os.kill(pid, 0)                       # serving while the run boots
    with pytest.raises(ProcessLookupError):   # and gone after it
        os.kill(pid, 0)
    monkeypatch.setattr(exp_nbd, "NBD_SCRIPT", str(tmp_path / "absent.py"))
    with pytest.raises(RuntimeError, match="absent.py missing"):
        with exp_nbd.nbd_swap("img", "0", str(tmp_path / "nbd.log")):
            pass


def test_nbd_axis_without_its_script_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ex, "NBD_SCRIPT", str(tmp_path / "nbd-swap.py"))
    assert ex.main(["--dry-run", "--accel", "tcg", "--out", str(tmp_path / "r"),
                    "--swap", "local,nbd", "--latency-ms", "0,2"]) == 2
    assert "--swap nbd:" in capsys.readouterr().err

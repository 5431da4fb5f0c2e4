"""scripts/exp-report.py and scripts/lib/expdata.py on a canned results folder
(tests/tools/data/exp-results, written by hand after contract B): the
Markdown table's numbers (medians, ranges and ratios computed by hand below),
the PNGs, the failure list, and the messages for bad input."""
import os
import shutil
import struct
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPORT = os.path.join(ROOT, "scripts", "exp-report.py")
CANNED = os.path.join(ROOT, "tests", "tools", "data", "exp-results")
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import expdata as ed  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXPECTED_PNGS = {"completion-seq.png", "completion-redis.png", "p99-redis.png",
                 "timeline-seq-f50.png", "timeline-seq-f25.png", "timeline-redis-f50.png",
                 "readahead-seq.png", "readahead-redis.png"}


def run(*args, env=None):
    return subprocess.run([sys.executable, REPORT, *args], capture_output=True, text=True,
                          env=env)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    r = run(CANNED, "-o", str(out))
    assert r.returncode == 0, r.stderr
    return out, r


def tables(md):
    """section title -> list of rows (lists of cells) of the table in it."""
    out, section = {}, None
    for line in md.splitlines():
        if line.startswith("## "):
            section = line[3:]
            out[section] = []
        elif line.startswith("|") and section and not line.startswith("|---"):
            out[section].append([c.strip() for c in line.strip("|").split(" | ")])
    return out


def table_dict(rows):
    """(local memory, setup, policy) -> {column: cell}."""
    head = rows[0]
    return {(r[0], r[1], r[2]): dict(zip(head, r)) for r in rows[1:]}


def test_seq_table_numbers(report):
    out, _ = report
    t = table_dict(tables((out / "summary.md").read_text())["Workload `seq`"])
    assert len(t) == 7
    d = t[("100 %", "direct", "-")]
    # completion 2.0 and 2.4: median 2.2; throughput 400 and 380: median 390
    assert d["completion (s)"] == "2.20 (2.00–2.40)"
    assert d["throughput (MiB/s)"] == "390.00 (380.00–400.00)"
    assert d["verified runs"] == "2/2" and d["time × direct"] == "-"
    ds50 = t[("50 %", "direct-swap", "-")]
    assert ds50["completion (s)"] == "6.00" and ds50["time × direct"] == "2.73"   # 6 / 2.2
    off50 = t[("50 %", "pv", "off")]
    assert off50["completion (s)"] == "6.00 (5.00–7.00)"
    assert off50["time × direct-swap"] == "1.00"                                 # 6 / 6
    assert off50["time × direct"] == "2.73"                                      # 6 / 2.2
    assert off50["major swap-ins"] == "3200 (3000–3400)"
    assert off50["minor swap-ins"] == "0"                 # equal repeats: no range
    assert off50["readahead accuracy"] == "-"             # nothing read ahead: 0/0
    assert off50["readahead coverage"] == "0.0 %"
    c50 = t[("50 %", "pv", "cluster:8")]
    assert c50["time × direct-swap"] == "0.55"                                   # 3.3 / 6
    assert c50["time × direct"] == "1.50"                                        # 3.3 / 2.2
    assert c50["readahead accuracy"] == "75.0 %" and c50["readahead coverage"] == "75.0 %"
    off25 = t[("25 %", "pv", "off")]
    assert off25["time × direct-swap"] == "1.25"                                 # 15 / 12
    assert off25["time × direct"] == "6.82"                                      # 15 / 2.2
    c25 = t[("25 %", "pv", "cluster:8")]
    # repeat 1 failed: only repeat 2 counts
    assert c25["verified runs"] == "1/2" and c25["completion (s)"] == "9.00"
    assert c25["time × direct-swap"] == "0.75" and c25["time × direct"] == "4.09"  # 9/12, 9/2.2
    # ra_accuracy/ra_coverage left empty: derived, 500/1000 and 500/(500+1500)
    assert c25["readahead accuracy"] == "50.0 %" and c25["readahead coverage"] == "25.0 %"
    # baselines have no ratio to direct-swap and no readahead figures
    assert ds50["time × direct-swap"] == "-" and ds50["readahead accuracy"] == "-"


def test_redis_table_has_latency(report):
    out, _ = report
    rows = tables((out / "summary.md").read_text())["Workload `redis`"]
    assert "p99 (ms)" in rows[0] and "p50 (ms)" in rows[0]
    t = table_dict(rows)
    c = t[("50 %", "pv", "cluster:8")]
    # the unverified repeat 1 (p99 4.0) is left out
    assert c["p99 (ms)"] == "3.00" and c["verified runs"] == "1/2"
    assert c["time × direct-swap"] == "0.60" and c["time × direct"] == "1.20"    # 12/20, 12/10
    assert c["throughput (ops/s)"] == "41667"
    assert t[("50 %", "pv", "off")]["time × direct"] == "1.60"                   # 16 / 10
    seq = tables((out / "summary.md").read_text())["Workload `seq`"]
    assert "p99 (ms)" not in seq[0]


def test_failed_runs_are_listed_with_their_reason(report):
    out, _ = report
    rows = tables((out / "summary.md").read_text())["Failed runs"]
    failed = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert set(failed) == {"pv-seq-f25-cluster_8-local-r1", "pv-redis-f50-cluster_8-local-r1"}
    assert failed["pv-seq-f25-cluster_8-local-r1"]["reason"] == "timeout after 600 s"
    assert failed["pv-seq-f25-cluster_8-local-r1"]["log"] == \
        "runs/pv-seq-f25-cluster_8-local-r1.log"
    assert failed["pv-redis-f50-cluster_8-local-r1"]["reason"] == "data not verified"


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24]), len(data)


def test_every_expected_png_is_written(report):
    out, r = report
    assert {p.name for p in out.glob("*.png")} == EXPECTED_PNGS
    for name in EXPECTED_PNGS:
        (w, h), size = png_size(out / name)
        assert w >= 400 and h >= 300 and size > 10000, name
    md = (out / "summary.md").read_text()
    for name in EXPECTED_PNGS:
        assert f"]({name})" in md
    assert "8 plots" in r.stderr


def test_missing_telemetry_is_a_warning_naming_the_file(report):
    _, r = report
    assert "runs/pv-redis-f50-off-local-r1.telemetry.csv: missing" in r.stderr
    assert "Traceback" not in r.stderr


def test_default_outdir_is_results_report(tmp_path):
    res = tmp_path / "res"
    shutil.copytree(CANNED, res)
    r = run(str(res))
    assert r.returncode == 0, r.stderr
    assert (res / "report" / "summary.md").exists()
    assert (res / "report" / "completion-seq.png").exists()


# ---- bad input ------------------------------------------------------------------

def bad(args, status, *needles, env=None):
    r = run(*args, env=env)
    assert r.returncode == status, r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr
    return r


def test_bad_results_paths_exit_2(tmp_path):
    bad([str(tmp_path / "nope")], 2, "nope: no such folder")
    f = tmp_path / "file"
    f.write_text("x")
    bad([str(f)], 2, "not a folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    bad([str(empty)], 2, "empty/summary.csv: missing")
    bad([], 2, "RESULTS")


def with_summary(tmp_path, text):
    res = tmp_path / "res"
    shutil.copytree(CANNED, res)
    (res / "summary.csv").write_text(text)
    return res


def canned_rows():
    with open(os.path.join(CANNED, "summary.csv")) as f:
        return f.read().splitlines()


def test_missing_column_is_named(tmp_path):
    lines = canned_rows()
    head = lines[0].split(",")
    i = head.index("status")
    cut = [",".join(c for j, c in enumerate(ln.split(",")) if j != i) for ln in lines]
    res = with_summary(tmp_path, "\n".join(cut) + "\n")
    bad([str(res), "-o", str(tmp_path / "o")], 1, "summary.csv: missing column status")


def test_optional_column_missing_is_a_warning(tmp_path):
    lines = canned_rows()
    i = lines[0].split(",").index("p99_ms")
    cut = [",".join(c for j, c in enumerate(ln.split(",")) if j != i) for ln in lines]
    res = with_summary(tmp_path, "\n".join(cut) + "\n")
    r = run(str(res), "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    assert "summary.csv: no column p99_ms" in r.stderr
    assert not (tmp_path / "o" / "p99-redis.png").exists()


def test_bad_number_names_line_and_column(tmp_path):
    lines = canned_rows()
    lines[3] = lines[3].replace(",6.0,120.0,", ",six,120.0,")
    res = with_summary(tmp_path, "\n".join(lines) + "\n")
    bad([str(res), "-o", str(tmp_path / "o")], 1,
        "summary.csv: line 4: column completion_s: 'six' is not a number")


def test_header_only_and_empty_summary(tmp_path):
    res = with_summary(tmp_path, canned_rows()[0] + "\n")
    bad([str(res), "-o", str(tmp_path / "o")], 1, "summary.csv: no runs (only the header)")
    (res / "summary.csv").write_text("")
    bad([str(res), "-o", str(tmp_path / "o")], 1, "summary.csv: empty")


def test_unknown_setup_and_short_row(tmp_path):
    lines = canned_rows()
    lines[1] = lines[1].replace(",direct,seq,", ",qemu,seq,")
    res = with_summary(tmp_path, "\n".join(lines) + "\n")
    bad([str(res), "-o", str(tmp_path / "o")], 1, "line 2: column setup: 'qemu'")
    lines = canned_rows()
    lines[2] = lines[2].rsplit(",", 3)[0]
    (res / "summary.csv").write_text("\n".join(lines) + "\n")
    bad([str(res), "-o", str(tmp_path / "o")], 1, "line 3: 26 fields, the header has 29")


def test_telemetry_missing_column_is_named(tmp_path):
    res = tmp_path / "res"
    shutil.copytree(CANNED, res)
    tel = res / "runs" / "pv-seq-f50-off-local-r1.telemetry.csv"
    rows = tel.read_text().splitlines()
    tel.write_text("\n".join(ln.split(",", 1)[0] + "," + ln.split(",", 2)[2]
                             for ln in rows) + "\n")     # drops frames_used
    r = run(str(res), "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    assert "pv-seq-f50-off-local-r1.telemetry.csv: missing column frames_used" in r.stderr
    assert "Traceback" not in r.stderr
    # the other policy still has its timeline at that fraction
    assert (tmp_path / "o" / "timeline-seq-f50.png").exists()


def test_without_matplotlib_the_summary_is_still_written(tmp_path):
    fake = tmp_path / "fake"
    (fake / "matplotlib").mkdir(parents=True)
    (fake / "matplotlib" / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    env = dict(os.environ, PYTHONPATH=str(fake))
    bad([CANNED, "-o", str(tmp_path / "o")], 1, "python3-matplotlib", env=env)
    assert (tmp_path / "o" / "summary.md").exists()
    assert not list((tmp_path / "o").glob("*.png"))


# ---- expdata on its own -------------------------------------------------------------

def test_timeline_rates_from_interval_counters(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("ms,frames_used,swapins_major,swapins_minor\n"
                 "0,0,4,0\n"            # no time elapsed yet: counted in the first interval
                 "200,8192,10,2\n"
                 "400,8192,30,0\n"
                 "400,4096,5,1\n"       # no time since the previous: added to it
                 "900,2048,100,0\n")
    tl = ed.load_timeline(str(p))
    assert tl.t == [0.2, 0.4, 0.9]
    assert tl.resident_mib == [32.0, 16.0, 8.0]
    assert tl.major_rate == pytest.approx([70.0, 175.0, 200.0])   # 14/.2, 35/.2, 100/.5
    assert tl.minor_rate == pytest.approx([10.0, 5.0, 0.0])


def test_timeline_errors_name_file_line_and_column(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("ms,frames_used,swapins_major\n100,x,1\n")
    with pytest.raises(ed.ReportError, match=r"t.csv: line 2: column frames_used: 'x'"):
        ed.load_timeline(str(p))
    p.write_text("ms,frames_used,swapins_major\n")
    with pytest.raises(ed.ReportError, match=r"t.csv: no samples"):
        ed.load_timeline(str(p))
    with pytest.raises(ed.ReportError, match=r"nothing.csv: missing"):
        ed.load_timeline(str(tmp_path / "nothing.csv"))


def test_groups_baselines_and_stats():
    runs = ed.load_summary(CANNED)
    groups = ed.group_runs(runs)
    assert ed.workloads_of(groups) == ["seq", "redis"]
    seq = [g for g in groups if g.workload == "seq"]
    assert [(g.fraction, g.config) for g in seq] == [
        (100, "direct"), (50, "direct-swap"), (50, "pv off"), (50, "pv cluster:8"),
        (25, "direct-swap"), (25, "pv off"), (25, "pv cluster:8")]
    off50 = seq[2]
    assert ed.baseline_direct_swap(groups, off50) is seq[1]
    assert ed.baseline_direct(groups, off50) is seq[0]
    s = off50.stat("completion_s")
    assert (s.n, s.median, s.lo, s.hi) == (2, 6.0, 5.0, 7.0)
    assert ed.ratio(off50, seq[0]) == pytest.approx(6.0 / 2.2)
    assert ed.Stat([]).text(ed.fmt_dec) == "-"


def test_run_names_and_readahead_formulas_follow_the_contract():
    runs = ed.load_summary(CANNED)
    for r in runs:
        assert ed.run_name(r.setup, r.workload, ed.fmt_num(r.fraction), r.policy, r.swap,
                           ed.fmt_num(r.repeat)) == r.run
    assert ed.ra_accuracy(600, 800) == 0.75 and ed.ra_accuracy(0, 0) is None
    assert ed.ra_coverage(500, 1500) == 0.25 and ed.ra_coverage(0, 0) is None


def test_remote_swap_compares_with_the_same_swap_kind(tmp_path):
    lines = canned_rows()
    # the pv cluster:8 50 % run and a direct-swap baseline again, both over NBD +1 ms
    extra = [lines[7].replace("-local-r1", "-nbd-r1").replace(",local,,", ",nbd,1,")
             .replace(",3.3,", ",4.4,"),
             lines[3].replace("-local-r1", "-nbd-r1").replace(",local,,", ",nbd,1,")
             .replace(",6.0,", ",8.0,")]
    res = with_summary(tmp_path, "\n".join(lines + extra) + "\n")
    r = run(str(res), "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    rows = tables((tmp_path / "o" / "summary.md").read_text())["Workload `seq`"]
    nbd = [dict(zip(rows[0], x)) for x in rows[1:] if x[3] == "nbd +1 ms"]
    assert [(x["setup"], x["completion (s)"]) for x in nbd] == [("direct-swap", "8.00"),
                                                               ("pv", "4.40")]
    assert nbd[1]["time × direct-swap"] == "0.55"                                # 4.4 / 8
    assert nbd[1]["time × direct"] == "2.00"                                     # 4.4 / 2.2


def test_no_runs_folder_and_bad_outdir(tmp_path):
    res = tmp_path / "res"
    res.mkdir()
    shutil.copy(os.path.join(CANNED, "summary.csv"), res)
    r = run(str(res), "-o", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    assert "res/runs: missing: no telemetry, no timeline plots" in r.stderr
    assert not list((tmp_path / "o").glob("timeline-*.png"))
    assert (tmp_path / "o" / "completion-seq.png").exists()
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    bad([str(res), "-o", str(blocker)], 2, "blocker: cannot create the output folder")

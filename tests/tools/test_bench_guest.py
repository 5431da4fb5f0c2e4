"""scripts/bench-guest.py's pure parts on canned console logs: the plan,
what it reads from a console (boot time, phases, telemetry per phase, the
final stats block), the ratio rows and its argument checks; and the
CPU-time figures (scripts/lib/qemu_cpu.py) from a canned log and a canned
series of CPU samples: never a boot, never a timing."""
import csv
import importlib.util
import io
import os
import subprocess
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HARNESS = os.path.join(ROOT, "scripts", "bench-guest.py")

spec = importlib.util.spec_from_file_location("bench_guest", HARNESS)
bg = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bg)

PV_LOG = (
    "[pv] telemetry: a sample every 200 ms of guest time\r\n"
    "[pvt] columns,sample,ms,frames_used,frames_free,exits,faults,swapins_major,"
    "swapins_minor,x_io,x_stage2_fault\r\n"
    "[    0.000000] Linux version 6.1.0\r\n"
    "[pvt] sample,200,10,90,500,40,0,0,460,40\r\n"
    "[pvt] sample,400,12,88,300,20,0,0,280,20\r\n"
    "pv-guest: ready uptime=3.25 memtotal_kb=500000\r\n"
    "workload: start mib=64 phases=write,read seed=0x1\r\n"
    "workload: begin write\r\n"
    "[pvt] sample,600,20,80,100,60,0,0,40,60\r\n"
    "[pvt] sample,800,50,50,1000,990,7,30,10,990\r\n"
    "[pvt] sample,1200,80,20,2000,1990,3,20,10,1990\r\n"
    "workload: phase write bytes=67108864 secs=0.600 mib_s=106.7\r\n"
    "workload: begin read\r\n"
    "workload: phase read bytes=67108864 secs=0.050 mib_s=1280.0\r\n"
    "workload: PASS verified_bytes=67108864\r\n"
    "[pv] stats begin: guest stopped: guest powered off (ACPI S5)\r\n"
    "[pv] stats exit io 4000\r\n"
    "[pv] stats io-port 0x3f8 2500\r\n"
    "[pv] stats io-port 0xcf8 1000\r\n"
    "[pv] stats swap outs 77\r\n"
    "[pv] stats end\r\n"
)

DIRECT_LOG = (
    "pv-guest: ready uptime=2.50 memtotal_kb=500000\r\n"
    "workload: begin write\r\n"
    "workload: phase write bytes=67108864 secs=0.300 mib_s=213.4\r\n"
    "workload: begin read\r\n"
    "workload: phase read bytes=67108864 secs=0.040 mib_s=1600.0\r\n"
    "workload: PASS verified_bytes=67108864\r\n"
)


def test_plan_pairs_each_setup_with_its_baseline():
    cases = bg.plan(512, fractions=(50, 25), policies=("off", "auto"))
    names = [c.name for c in cases]
    assert names == ["direct", "pv@100%", "direct@50%", "direct@50%/ra-off", "pv@50%/off",
                     "pv@50%/auto", "direct@25%", "direct@25%/ra-off", "pv@25%/off",
                     "pv@25%/auto"]
    by = {c.name: c for c in cases}
    # `off` is compared with Linux's own swap as it is, and with Linux
    # reading one page per fault too
    assert by["pv@50%/off"].baselines() == ["direct@50%", "direct@50%/ra-off"]
    assert by["pv@50%/auto"].baselines() == ["direct@50%"]
    line = bg.cmdline(by["direct@50%/ra-off"], 64, ["write"], quiet=False)
    assert "sysctl.vm.page-cluster=0" in line and "pv.swapon=vda" in line
    assert "page-cluster" not in bg.cmdline(by["direct@50%"], 64, ["write"], quiet=False)
    assert "direct@50%/ra-off" not in [c.name for c in bg.plan(512, (50,), ("auto",))]
    assert by["pv@25%/auto"].frames_mib == 128 and by["pv@25%/auto"].ram_mib == 512
    assert by["pv@25%/auto"].baseline == "direct@25%"
    assert by["direct@25%"].ram_mib == 128 and by["direct@25%"].swap
    assert not by["direct"].swap and by["pv@100%"].baseline == "direct"


def test_cmdline_and_conf():
    cases = {c.name: c for c in bg.plan(512, (50,), ("cluster:8",))}
    line = bg.cmdline(cases["direct@50%"], 256, ["write", "read"], quiet=True)
    assert "pv.workload=256:write+read" in line and "pv.swapon=vda" in line
    assert "quiet" in line
    assert "pv.swapon" not in bg.cmdline(cases["pv@50%/cluster:8"], 256, ["write"], False)
    conf = bg.pv_conf(cases["pv@50%/cluster:8"], "console=ttyS0")
    assert "memory 512M\n" in conf and "frames 256M\n" in conf
    assert "swap virtio\n" in conf and "readahead cluster:8\n" in conf
    assert "swap" not in bg.pv_conf(cases["pv@100%"], "console=ttyS0")


def test_the_100_pair_repeats_its_phases_after_write_and_only_it():
    cases = {c.name: c for c in bg.plan(512, (50,), ("off",), repeat_100=8)}
    phases = ["write", "read", "rand", "hotcold"]
    for name in ("direct", "pv@100%"):
        assert "pv.workload=192:write+read:8+rand:8+hotcold:8" in \
            bg.cmdline(cases[name], 192, phases, False)
    for name in ("direct@50%", "direct@50%/ra-off", "pv@50%/off"):
        assert "pv.workload=192:write+read+rand+hotcold" in bg.cmdline(cases[name], 192, phases,
                                                                      False)
    assert "--repeat-100 0: from 1 to 1000" in subprocess.run(
        [sys.executable, HARNESS, "--repeat-100", "0"], capture_output=True, text=True).stderr


def test_parse_console_attributes_samples_to_phases():
    case = bg.Case("pv@100%", "pv", 512, frames_mib=512, baseline="direct")
    r = bg.parse_console(PV_LOG, case)
    assert r.ok and r.uptime == 3.25
    assert r.phases == {"write": (106.7, 0.6), "read": (1280.0, 0.05)}
    # a sample belongs to the phase running when its interval began: the
    # one sent just after `begin write` still covers the end of the boot
    assert r.samples["boot"]["exits"] == 900 and r.samples["boot"]["x_io"] == 780
    assert abs(r.samples["boot"]["_secs"] - 0.6) < 1e-9
    w = r.samples["write"]
    assert w["exits"] == 3000 and w["swapins_major"] == 10 and w["swapins_minor"] == 50
    assert abs(w["_secs"] - 0.6) < 1e-9
    assert r.io_ports == {"0x3f8": 2500, "0xcf8": 1000}
    assert r.stats[("swap", "outs")] == 77 and r.stats[("exit", "io")] == 4000
    rows = {row[1]: row for row in bg.exit_rows([r]) if row[1] == "write"}
    case_, phase, secs, rate, kinds, major, minor = rows["write"]
    assert round(rate) == 5000 and round(kinds["io"]) == 33 and (major, minor) == (10, 50)


def test_the_guest_kernels_counts_per_phase_and_a_pair_that_disagrees(tmp_path, capsys):
    def log(write, read):
        return (DIRECT_LOG
                .replace("mib_s=213.4\r\n", "mib_s=213.4\r\nworkload: vmstat write " + write + "\r\n")
                .replace("mib_s=1600.0\r\n", "mib_s=1600.0\r\nworkload: vmstat read " + read + "\r\n"))
    same = "thp_fault_alloc=0 thp_fault_fallback=0 pgfault=0 pgmajfault=0"
    pv = bg.parse_console(log("thp_fault_alloc=0 thp_fault_fallback=0 pgfault=16384 pgmajfault=0",
                              same), bg.Case("pv@100%", "pv", 512, frames_mib=512,
                                             baseline="direct"))
    direct = bg.parse_console(log("thp_fault_alloc=31 thp_fault_fallback=1 pgfault=600 "
                                  "pgmajfault=0", same), bg.Case("direct", "direct", 512))
    # an overcommitted setup's baseline has less RAM: its faults differ by design
    small = bg.Case("pv@50%/off", "pv", 512, frames_mib=256, baseline="direct@50%")
    over = bg.parse_console(log("thp_fault_alloc=0 thp_fault_fallback=0 pgfault=16384 "
                                "pgmajfault=0", same), small)
    base50 = bg.parse_console(log("thp_fault_alloc=0 thp_fault_fallback=0 pgfault=20000 "
                                  "pgmajfault=9000", same), bg.Case("direct@50%", "direct", 256))
    assert pv.guest["write"] == {"thp_fault_alloc": 0, "thp_fault_fallback": 0,
                                 "pgfault": 16384, "pgmajfault": 0}
    assert pv.ok and pv.phases["read"] == (1600.0, 0.04)   # the line does not end a phase
    rows = {(c, p): note for c, p, _, note in bg.guest_rows([pv, direct, over, base50])}
    assert rows[("pv@100%", "write")] == ("pgfault 16384 vs 600 in direct; "
                                          "thp_fault_alloc 0 vs 31 in direct")
    assert rows[("pv@100%", "read")] == ""
    assert rows[("pv@50%/off", "write")] == "" and rows[("direct", "write")] == ""
    # counts a few apart agree: within 10 % of the larger, or under the floor
    close = bg.parse_console(log("thp_fault_alloc=30 thp_fault_fallback=0 pgfault=640 "
                                 "pgmajfault=0", same), pv.case)
    assert all(not note for *_, note in bg.guest_rows([close, direct]))
    bg.print_guest(bg.guest_rows([pv, direct]))
    out = capsys.readouterr().out
    assert "pv@100%            write    pgfault    16384" in out and "DIFFERS: pgfault" in out
    path = tmp_path / "g.csv"
    bg.write_csv(str(path), [pv, direct], [], [])
    g = [r for r in csv.DictReader(open(path)) if r["kind"] == "guest"]
    assert [(r["case"], r["phase_or_metric"], r["value"]) for r in g][:2] == [
        ("pv@100%", "write", "16384"), ("pv@100%", "read", "0")]
    assert "thp_fault_alloc=0" in g[0]["extra"] and "differs: pgfault" in g[0]["extra"]


def test_failures_are_reported_with_the_guest_reason():
    case = bg.Case("direct@50%", "direct", 256, swap=True)
    r = bg.parse_console("pv-guest: swapon vda: FAIL no block device /dev/vda\r\n", case)
    assert not r.ok and "no block device" in r.reason
    r = bg.parse_console("[    1.33] Out of memory and no killable processes...\r\n"
                         "[    1.34] Kernel panic - not syncing: System is deadlocked"
                         " on memory\r\n", case)
    assert not r.ok and r.reason == "kernel panic: System is deadlocked on memory"
    bad = PV_LOG.replace("workload: PASS verified_bytes=67108864\r\n",
                         "workload: FAIL read: mismatch at 0x1000\r\n")
    r = bg.parse_console(bad, bg.Case("pv@100%", "pv", 512, frames_mib=512))
    assert not r.ok and r.reason == "read: mismatch at 0x1000"


def test_ratio_rows_compare_with_the_baseline():
    pv = bg.parse_console(PV_LOG, bg.Case("pv@100%", "pv", 512, frames_mib=512,
                                          baseline="direct"))
    direct = bg.parse_console(DIRECT_LOG, bg.Case("direct", "direct", 512))
    rows = {r[0]: r for r in bg.ratio_rows([direct, pv])}
    assert set(rows) == {"boot to /init s (lower)", "write MiB/s", "read MiB/s"}
    assert abs(rows["boot to /init s (lower)"][5] - 3.25 / 2.5) < 1e-9
    assert abs(rows["write MiB/s"][5] - 106.7 / 213.4) < 1e-9
    assert rows["read MiB/s"][3] == "direct"


def test_bad_arguments_exit_2_with_a_message():
    for args in (["--phases", "read,write"], ["--fractions", "150"], ["--mib", "600"],
                 ["--fractions", "x"]):
        p = subprocess.run([sys.executable, HARNESS, *args], capture_output=True, text=True)
        assert p.returncode == 2, args
        assert "error:" in p.stderr, args


# A console as run_case sees it (bytes, CRLF as QEMU's serial file has it),
# with the offsets of its marks: a span starts or ends when a given byte of
# it has been written.
CPU_LOG = (
    b"[pv] pagevisor starting\r\n"
    b"[    0.000000] Linux version 6.1.0-57-amd64 (gcc)\r\n"
    b"[    0.500000] Command line: console=ttyS0\r\n"
    b"pv-guest: ready uptime=2.50 memtotal_kb=500000\r\n"
    b"workload: start mib=64 phases=write,read seed=0x1\r\n"
    b"workload: begin write\r\n"
    b"[pvt] sample,600,20,80,100,60,0,0,40,60\r\n"
    b"workload: phase write bytes=67108864 secs=0.600 mib_s=106.7\r\n"
    b"workload: begin read\r\n"
    b"workload: phase read bytes=67108864 secs=0.050 mib_s=1280.0\r\n"
    b"workload: PASS verified_bytes=67108864\r\n"
)


def offset_after(text, needle, whole_line=False):
    """The byte count of CPU_LOG once needle's first byte (or, whole_line,
    its line up to the newline) has been written."""
    i = CPU_LOG.index(needle)
    return CPU_LOG.index(b"\n", i) + 1 if whole_line else i + 1


def test_console_marks_start_and_end_where_the_span_does():
    m = bg.qemu_cpu.console_marks(CPU_LOG)
    assert m[("boot", 0)] == offset_after(CPU_LOG, b"[    0.000000] Linux version")
    assert m[("boot", 1)] == offset_after(CPU_LOG, b"pv-guest: ready")
    assert m[("write", 0)] == offset_after(CPU_LOG, b"workload: begin write", whole_line=True)
    assert m[("write", 1)] == offset_after(CPU_LOG, b"workload: phase write")
    assert m[("read", 0)] == offset_after(CPU_LOG, b"workload: begin read", whole_line=True)
    assert m[("read", 1)] == offset_after(CPU_LOG, b"workload: phase read")
    assert set(m) == {("boot", 0), ("boot", 1), ("write", 0), ("write", 1),
                      ("read", 0), ("read", 1)}
    # a banner that is not the kernel's own first line is no start
    assert ("boot", 0) not in bg.qemu_cpu.console_marks(b"[pv] Linux versions differ\n")


def canned_samples():
    """(log bytes, vCPU s, process s) as follow_cpu keeps them: for each
    mark, the last poll that had not seen it and the first that had."""
    m = bg.qemu_cpu.console_marks(CPU_LOG)
    cpu = {("boot", 0): 1.0, ("boot", 1): 4.0, ("write", 0): 4.5, ("write", 1): 6.5,
           ("read", 0): 7.0, ("read", 1): 7.2}
    rows = [(0, 0.0, 0.0)]
    for key in sorted(m, key=m.get):
        # 0.02 vCPU s between the two polls around the mark; the process
        # (10 ms ticks) 0.03 s more than the vCPU thread in each span
        extra = 0.03 * ["boot", "write", "read"].index(key[0]) + 0.03 * key[1]
        rows.append((m[key] - 1, cpu[key] - 0.01, cpu[key] - 0.01 + extra))
        rows.append((m[key], cpu[key] + 0.01, cpu[key] + 0.01 + extra))
    rows.append((len(CPU_LOG), 8.0, 8.5))
    return rows


def test_cpu_spans_from_a_log_and_its_samples():
    spans = bg.cpu_spans(CPU_LOG, canned_samples())
    assert set(spans) == {"boot", "write", "read"}
    # each mark's CPU is the middle of the two polls around it
    for span, vcpu in (("boot", 3.0), ("write", 2.0), ("read", 0.2)):
        assert abs(spans[span][0] - vcpu) < 1e-9, span
        assert abs(spans[span][1] - (vcpu + 0.03)) < 1e-9, span


def test_cpu_spans_leave_out_what_was_not_seen():
    # the samples end before `ready` was written: no boot span, no phases
    early = [s for s in canned_samples() if s[0] < bg.qemu_cpu.console_marks(CPU_LOG)[("boot", 1)]]
    assert bg.cpu_spans(CPU_LOG, early) == {}
    # quiet kernel: no first line, so no boot span; the phases still come
    quiet = CPU_LOG.replace(b"Linux version", b"Linux-version")
    assert set(bg.cpu_spans(quiet, canned_samples())) == {"write", "read"}
    assert bg.cpu_spans(CPU_LOG, []) == {}


def test_follow_cpu_keeps_the_polls_around_each_growth(tmp_path):
    log = tmp_path / "console.log"
    sizes = [0, 0, 10, 10, 10, 10, 25, 40, 40]   # the log's size at each poll

    class Proc:
        polls = 0

        def poll(self):
            if self.polls == len(sizes):
                return 0
            log.write_bytes(b"x" * sizes[self.polls])
            self.polls += 1
            return None

    class Meter:
        n = 0

        def sample(self):
            self.n += 1
            return float(self.n), 10.0 * self.n

    got = bg.follow_cpu(Proc(), str(log), poll_s=0, meter=Meter())
    # of the four polls at 10 bytes, the first and the last
    assert [s[0] for s in got] == [0, 0, 10, 10, 25, 40, 40]
    assert [s[1] for s in got] == [1, 2, 3, 6, 7, 8, 9]


def cpu_result(name, mode, baseline, cpu, ram=512, frames=0):
    r = bg.Result(bg.Case(name, mode, ram, frames_mib=frames, baseline=baseline))
    r.ok, r.cpu = True, cpu
    return r


def test_cpu_ratio_rows_and_the_headline():
    direct = bg.parse_console(DIRECT_LOG, bg.Case("direct", "direct", 512))
    direct.cpu = {"boot": (2.0, 2.1), "write": (1.5, 1.6), "read": (0.2, 0.2)}
    pv = bg.parse_console(PV_LOG, bg.Case("pv@100%", "pv", 512, frames_mib=512,
                                          baseline="direct"))
    pv.cpu = {"boot": (3.0, 3.3), "write": (2.0, 2.0)}   # read: not measured
    rows = {r[0]: r for r in bg.cpu_ratio_rows([direct, pv])}
    assert set(rows) == {"boot to /init s (lower)", "write MiB/s"}
    # boot: a ratio of times (lower is better); a phase: of work per CPU
    # second, as its MiB/s (higher is better)
    assert abs(rows["boot to /init s (lower)"][5] - 1.5) < 1e-9
    assert abs(rows["write MiB/s"][5] - 0.75) < 1e-9
    assert rows["write MiB/s"][1:5] == ("pv@100%", 2.0, "direct", 1.5)
    proc = {r[0]: r for r in bg.cpu_ratio_rows([direct, pv], which=1)}
    assert abs(proc["boot to /init s (lower)"][5] - 3.3 / 2.1) < 1e-9

    head = bg.headline_rows([direct, pv])
    assert [(m, c, b) for m, c, b, *_ in head] == [
        ("boot to /init s (lower)", "pv@100%", "direct"), ("write MiB/s", "pv@100%", "direct"),
        ("read MiB/s", "pv@100%", "direct")]
    read = head[2]
    assert read[3] is None and read[4] is None and abs(read[5][5] - 0.8) < 1e-9
    out = io.StringIO()
    bg.print_headline(head, out)
    text = out.getvalue()
    assert "CPU ratio" in text.splitlines()[3]
    assert "do not depend on the host's load" in text
    lines = {ln.split()[0]: ln.split() for ln in text.splitlines()[4:]}
    # CPU ratio first, then its CPU seconds, the process ratio, the guest-clock one
    assert lines["boot"][6:12] == ["1.50", "3.00", "/", "2.00", "1.57", "1.30"]
    assert lines["write"][3:9] == ["0.75", "2.00", "/", "1.50", "0.80", "0.50"]
    assert lines["read"][3] == "-"


def test_overcommitted_setups_have_no_boot_row_and_need_both_sides():
    base = cpu_result("direct@50%", "direct", "", {"boot": (2.0, 2.0), "read": (1.0, 1.0)}, 256)
    pv = cpu_result("pv@50%/auto", "pv", "direct@50%", {"boot": (5.0, 5.0), "read": (0.5, 0.5)},
                    512, 256)
    assert [r[0] for r in bg.cpu_ratio_rows([base, pv])] == ["read MiB/s"]
    assert bg.cpu_ratio_rows([base, pv])[0][5] == 2.0
    pv.ok = False
    assert bg.cpu_ratio_rows([base, pv]) == []


def test_a_setup_with_two_baselines_gets_a_row_for_each():
    base = cpu_result("direct@50%", "direct", "", {"read": (1.0, 1.0)}, 256)
    ra_off = cpu_result("direct@50%/ra-off", "direct", "", {"read": (3.0, 3.0)}, 256)
    pv = cpu_result("pv@50%/off", "pv", "direct@50%", {"read": (2.0, 2.0)}, 512, 256)
    pv.case.also = "direct@50%/ra-off"
    rows = bg.cpu_ratio_rows([base, ra_off, pv])
    assert [(r[0], r[3], r[5]) for r in rows] == [("read MiB/s", "direct@50%", 0.5),
                                                  ("read MiB/s", "direct@50%/ra-off", 1.5)]
    head = bg.headline_rows([base, ra_off, pv])
    assert [(m, b, v[5]) for m, c, b, v, *_ in head] == [("read MiB/s", "direct@50%", 0.5),
                                                         ("read MiB/s", "direct@50%/ra-off", 1.5)]
    ra_off.ok = False
    assert [r[3] for r in bg.cpu_ratio_rows([base, ra_off, pv])] == ["direct@50%"]


def test_rounds_give_the_median_of_ratios_taken_within_each_round():
    def one_round(pv_read, base_read):
        base = cpu_result("direct@50%", "direct", "", {"read": (base_read, 0.0)}, 256)
        pv = cpu_result("pv@50%/auto", "pv", "direct@50%", {"read": (pv_read, 0.0)}, 512, 256)
        return bg.headline_rows([base, pv])
    # a slow round of both sides keeps its ratio: 2.0, 1.0 and 4.0 -> 2.0
    rounds = [one_round(1.0, 2.0), one_round(3.0, 3.0), one_round(0.5, 2.0)]
    med = bg.median_rows(rounds)
    assert med == [("read MiB/s", "pv@50%/auto", "direct@50%", 2.0, 1.0, 4.0, None, 3)]
    out = io.StringIO()
    bg.print_medians(med, out)
    line = out.getvalue().splitlines()[-1].split()
    assert line[:6] == ["read", "pv@50%/auto", "direct@50%", "2.00", "1.00-4.00", "-"]
    assert line[6] == "3"
    assert "--rounds 0: at least 1" in subprocess.run(
        [sys.executable, HARNESS, "--rounds", "0"], capture_output=True, text=True).stderr


def test_csv_pairs_process_figures_with_their_own_baseline(tmp_path):
    base = cpu_result("direct@50%", "direct", "", {"read": (1.0, 1.5)}, 256)
    ra_off = cpu_result("direct@50%/ra-off", "direct", "", {"read": (3.0, 4.5)}, 256)
    pv = cpu_result("pv@50%/off", "pv", "direct@50%", {"read": (2.0, 3.0)}, 512, 256)
    pv.case.also = "direct@50%/ra-off"
    results = [base, ra_off, pv]
    path = tmp_path / "two.csv"
    bg.write_csv(str(path), results, [], [], bg.cpu_ratio_rows(results),
                 bg.cpu_ratio_rows(results, 1))
    cr = {r["baseline"]: r["extra"] for r in csv.DictReader(open(path))
          if r["kind"] == "cpu-ratio"}
    assert "base_process_s=1.50 process_ratio=0.500" in cr["direct@50%"]
    assert "base_process_s=4.50 process_ratio=1.500" in cr["direct@50%/ra-off"]


def test_csv_keeps_its_rows_and_adds_the_cpu_ones(tmp_path):
    direct = bg.parse_console(DIRECT_LOG, bg.Case("direct", "direct", 512))
    direct.cpu = {"boot": (2.0, 2.0), "write": (1.5, 1.5), "read": (0.2, 0.2)}
    pv = bg.parse_console(PV_LOG, bg.Case("pv@100%", "pv", 512, frames_mib=512,
                                          baseline="direct"))
    pv.cpu = {"boot": (3.0, 3.1), "write": (2.0, 2.0), "read": (0.1, 0.1)}
    results = [direct, pv]
    path = tmp_path / "out.csv"
    bg.write_csv(str(path), results, bg.ratio_rows(results), bg.exit_rows(results),
                 bg.cpu_ratio_rows(results), bg.cpu_ratio_rows(results, 1))
    rows = list(csv.DictReader(open(path)))
    kinds = {r["kind"] for r in rows}
    assert {"ratio", "boot", "phase", "cpu", "cpu-ratio", "exits"} <= kinds
    old = [r for r in rows if r["kind"] == "ratio"]
    assert {r["phase_or_metric"] for r in old} == {"boot to /init s (lower)", "write MiB/s",
                                                    "read MiB/s"}
    cpu = {(r["case"], r["phase_or_metric"]): r for r in rows if r["kind"] == "cpu"}
    assert cpu[("pv@100%", "boot")]["value"] == "3.000"
    assert cpu[("pv@100%", "boot")]["extra"] == "process_s=3.10"
    cr = {r["phase_or_metric"]: r for r in rows if r["kind"] == "cpu-ratio"}
    assert cr["read MiB/s"]["ratio"] == "2.000" and cr["read MiB/s"]["baseline"] == "direct"
    assert "process_ratio=1.550" in cr["boot to /init s (lower)"]["extra"]


def test_earlycon_and_named_threads_in_the_direct_command():
    case = bg.plan(512, (), ())[0]
    cfg = types.SimpleNamespace(mib=64, phases=["write"], quiet=False, earlycon=True,
                                kernel="vmlinuz", initrd="initrd.img", accel="tcg", timeout=60)
    cmd = bg.boot_command(case, cfg, "/nonexistent/direct", "/nonexistent/direct.log")
    append = cmd[cmd.index("-append") + 1]
    assert bg.EARLYCON in append.split()
    assert cmd[cmd.index("-name") + 1] == "debug-threads=on"
    # callers that predate it (the experiment runner) boot without earlycon
    del cfg.earlycon
    cmd = bg.boot_command(case, cfg, "/nonexistent/direct", "/nonexistent/direct.log")
    assert "earlycon" not in cmd[cmd.index("-append") + 1]


def test_the_baseline_swap_image_uses_the_disk_aio_decision(monkeypatch):
    """The directly booted guest's swap image is opened as run-qemu.sh opens
    pagevisor's (scripts/lib/disk_aio.py); an NBD address gets no mode."""
    monkeypatch.setattr(bg, "_AIO", [("threads", "test")])
    case = [c for c in bg.plan(512, (50,), ("off",)) if c.mode == "direct" and c.swap][0]
    cfg = types.SimpleNamespace(mib=64, phases=["write"], quiet=False, earlycon=True,
                                kernel="vmlinuz", initrd="initrd.img", accel="tcg", timeout=60)
    cmd = bg.boot_command(case, cfg, "/nonexistent/d", "/nonexistent/d.log")
    assert "if=none,id=swap,format=raw,file=/nonexistent/d.swap.img,aio=threads" in cmd
    cmd = bg.boot_command(case, cfg, "/nonexistent/d", "/nonexistent/d.log",
                          swap_drive="nbd://127.0.0.1:1")
    assert "if=none,id=swap,format=raw,file=nbd://127.0.0.1:1" in cmd


def test_a_phase_line_broken_by_telemetry_is_read_from_its_result_line():
    """pagevisor's telemetry waits only so long for the guest to end a line;
    a phase line cut in two by a sample is read from the pv-result line the
    workload prints after it."""
    log = "\n".join([
        "pv-guest: ready uptime=3.25",
        "workload: begin write",
        "workload: phase write bytes=201326592 s",
        "[pvt] sample,13826,48069,1084",
        "ecs=4.100 mib_s=46.8",
        "pv-result: workload=hotcold phase=write secs=4.100 mib_s=46.8 bytes=201326592",
        "workload: begin read",
        "workload: phase read bytes=201326592 secs=0.050 mib_s=1280.0",
        "pv-result: workload=hotcold phase=read secs=0.050 mib_s=1280.1 bytes=201326592",
        "workload: PASS verified_bytes=201326592",
    ])
    r = bg.parse_console(log, bg.Case("pv@50%/auto", "pv", 384, frames_mib=192))
    assert r.ok
    # the phase line wins where it is whole
    assert r.phases == {"write": (46.8, 4.1), "read": (1280.0, 0.05)}


def test_pairs_repeat_the_100_pair_alternating_and_take_the_median(tmp_path, monkeypatch, capfd):
    for f in ("pv.efi", "vmlinuz", "initrd.img"):
        (tmp_path / f).write_text("x")
    booted, pv_write = [], iter([2.0, 1.0, 4.0])   # write ratios 1.0, 2.0, 0.5

    def fake_run(case, cfg):
        booted.append((os.path.relpath(cfg.workdir, tmp_path / "w"), case.name))
        r = bg.Result(case)
        r.ok, r.uptime, r.phases = True, 1.0, {"write": (100.0, 1.0)}
        v = next(pv_write) if case.name == "pv@100%" else 2.0
        r.cpu = {"write": (v, v)}
        return r
    monkeypatch.setattr(bg, "run_case", fake_run)
    monkeypatch.setattr(bg, "_AIO", [("threads", "test")])
    monkeypatch.setattr(bg.shutil, "which", lambda _: "/bin/true")
    rc = bg.main(["--fractions", "none", "--pairs", "3", "--accel", "tcg", "--phases", "write",
                  "--efi", str(tmp_path / "pv.efi"), "--kit", str(tmp_path),
                  "--workdir", str(tmp_path / "w")])
    assert rc == 0
    # the plan once, then the pair twice more, pv@100% first every other time
    assert booted == [(".", "direct"), (".", "pv@100%"), ("pair2", "pv@100%"),
                      ("pair2", "direct"), ("pair3", "direct"), ("pair3", "pv@100%")]
    out = capfd.readouterr().out
    assert "6 boots" in out
    med = [ln.split() for ln in out.splitlines() if ln.startswith("write ")][-1]
    assert med[:7] == ["write", "pv@100%", "direct", "1.00", "0.50-2.00", "1.00", "3"]
    assert "--pairs 0: at least 1" in subprocess.run(
        [sys.executable, HARNESS, "--pairs", "0"], capture_output=True, text=True).stderr

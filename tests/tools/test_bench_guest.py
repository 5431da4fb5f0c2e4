"""scripts/bench-guest.py's pure parts on canned console logs: the plan,
what it reads from a console (boot time, phases, telemetry per phase, the
final stats block), the ratio rows and its argument checks."""
import importlib.util
import os
import subprocess
import sys

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
    assert names == ["direct", "pv@100%", "direct@50%", "pv@50%/off", "pv@50%/auto",
                     "direct@25%", "pv@25%/off", "pv@25%/auto"]
    by = {c.name: c for c in cases}
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


def test_failures_are_reported_with_the_guest_reason():
    case = bg.Case("direct@50%", "direct", 256, swap=True)
    r = bg.parse_console("pv-guest: swapon vda: FAIL no block device /dev/vda\r\n", case)
    assert not r.ok and "no block device" in r.reason
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

"""scripts/pvsplit.py on canned console logs: guest text, hypervisor log
and one CSV per telemetry record type."""
import csv
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPLIT = os.path.join(ROOT, "scripts", "pvsplit.py")

CANNED = (
    "\x1b[2J\x1b[01;01HBdsDxe: loading Boot0001\r\n"
    "[pv] pagevisor starting\r\n"
    "[pv] telemetry: a sample every 100 ms of guest time, lines start with '[pvt] '\r\n"
    "[pvt] columns,sample,ms,frames_used,swapins_major\r\n"
    "[pvt] columns,fault,seq,tsc,gpa\r\n"
    "[    0.000000] Linux version 6.1.0\r\n"
    "[pvt] fault,0,1234,0x1000\r\n"
    "[pvt] sample,100,42,3\r\n"
    "pv-guest# echo hel\r\n"
    "[pv] monitor: guest paused ('help' lists the commands)\r\n"
    "pv> stats\r\n"
    "exits total 12 entries 12\r\n"
    "[pv] monitor: guest resumed\r\n"
    "lo\r\r\n"
    "[pvt] sample,200,40,2\r\n"
    "[pvt] lost,200,7\r\n"
    "[pv] stats end\r\n"
)


def run(args, stdin=None):
    return subprocess.run([sys.executable, SPLIT, *args], input=stdin, capture_output=True,
                          text=True)


def check_split(out):
    guest = (out / "guest.txt").read_text().splitlines()
    hv = (out / "hypervisor.log").read_text().splitlines()
    assert guest == ["\x1b[2J\x1b[01;01HBdsDxe: loading Boot0001",
                     "[    0.000000] Linux version 6.1.0", "pv-guest# echo hel", "lo"]
    assert hv[0] == "[pv] pagevisor starting"
    # the monitor session, prompts and answers included, is hypervisor output
    assert "pv> stats" in hv and "exits total 12 entries 12" in hv
    assert hv[-1] == "[pv] stats end"
    assert not any(ln.startswith("[pvt]") for ln in guest + hv)
    with open(out / "sample.csv") as f:
        rows = list(csv.reader(f))
    assert rows == [["ms", "frames_used", "swapins_major"], ["100", "42", "3"],
                    ["200", "40", "2"]]
    with open(out / "fault.csv") as f:
        assert list(csv.DictReader(f)) == [{"seq": "0", "tsc": "1234", "gpa": "0x1000"}]
    # a type with no columns record still gets its rows
    assert (out / "lost.csv").read_text() == "200,7\n"


def test_splits_a_log_file(tmp_path):
    log = tmp_path / "console.log"
    log.write_bytes(CANNED.encode())
    r = run([str(log), "-o", str(tmp_path / "out")])
    assert r.returncode == 0, r.stderr
    check_split(tmp_path / "out")
    assert "sample.csv 2 rows" in r.stderr and "fault.csv 1 rows" in r.stderr


def test_splits_a_live_stream_from_stdin(tmp_path):
    r = run(["-o", str(tmp_path / "out")], stdin=CANNED)
    assert r.returncode == 0, r.stderr
    check_split(tmp_path / "out")


def test_missing_log_is_named(tmp_path):
    r = run([str(tmp_path / "nope.log"), "-o", str(tmp_path / "out")])
    assert r.returncode == 2
    assert r.stderr.strip() == f"pvsplit: {tmp_path / 'nope.log'}: No such file or directory"


def test_outdir_is_required(tmp_path):
    r = run([str(tmp_path / "x.log")])
    assert r.returncode == 2 and "-o" in r.stderr

"""scripts/ra-record.py's pure parts on a canned console log: which fault
events become trace lines, the PAGE+N runs it writes, and that lost events
or a missing columns record are refused."""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "ra-record.py")

spec = importlib.util.spec_from_file_location("ra_record", SCRIPT)
rr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rr)

COLS = "[pvt] columns,fault,seq,tsc,gpa,rip,access,entry,rights,resolution,cycles\r\n"


def fault(seq, gpa, res):
    return f"[pvt] fault,{seq},1000,{gpa:#x},0xffffffff81000000,r--,swap,---,{res},500\r\n"


LOG = (COLS
       + fault(1, 0x5000, "swap-in")
       + fault(2, 0x6000, "anon-new")          # not a swap-in: dropped
       + fault(3, 0x6000, "swap-in")
       + fault(4, 0x7000, "swap-in")
       + "workload: begin read\r\n"
       + fault(5, 0x8000, "swap-in-minor")
       + fault(6, 0x9000, "swap-in-minor")
       + fault(7, 0x3000, "swap-in")
       + "[pvt] sample,200,10,90\r\n")


def test_extract_keeps_swap_ins_in_order():
    pages, kinds, lost = rr.extract(LOG)
    assert pages == [5, 6, 7, 8, 9, 3]
    assert kinds == ["", "", "", " m", " m", ""]
    assert lost == 0


def test_runs_group_ascending_pages_of_one_kind():
    pages, kinds, _ = rr.extract(LOG)
    assert rr.runs(pages, kinds) == [[5, 2, ""], [8, 1, " m"], [3, 0, ""]]


def test_lost_events_counted_and_refused(tmp_path):
    log = tmp_path / "lost.log"
    log.write_text(LOG + "[pvt] lost,400,17\r\n")
    assert rr.extract(log.read_text())[2] == 17
    out = tmp_path / "t.trace"
    p = subprocess.run([sys.executable, SCRIPT, "--from-log", str(log), "-o", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert "17 fault events lost" in p.stderr
    assert not out.exists()


def test_fault_before_columns_is_an_error():
    with pytest.raises(ValueError, match="before its columns"):
        rr.extract(fault(1, 0x5000, "swap-in"))


def test_from_log_writes_the_trace(tmp_path):
    log = tmp_path / "run.log"
    log.write_text(LOG)
    out = tmp_path / "t.trace"
    p = subprocess.run([sys.executable, SCRIPT, "--from-log", str(log), "-o", str(out),
                        "--workload", "seq", "--mib", "8"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    lines = [l for l in out.read_text().splitlines() if not l.startswith("#")]
    assert lines == ["5+2", "8+1 m", "3"]
    assert "6 swap-ins" in p.stdout

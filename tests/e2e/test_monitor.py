"""The serial-console monitor and the telemetry stream (docs/monitor.md),
under QEMU TCG (SVM + NPT) with the console on pexpect's terminal.

One interactive boot runs every monitor command against a live Linux guest
that wrote a known pattern at a known guest-physical address (the guest
kit's pvpattern); a second boot streams telemetry while the guest swaps and
checks the CSV against the final statistics block."""
import csv
import io
import os
import re
import subprocess
import sys

from conftest import E2E, ROOT
from test_linux_svm import READY, stats
from test_swap_linux import mkswap_image

ESC = "\x1e"  # Ctrl-^
SHELL = r"pv-guest# "
TRACE_COLUMNS = ["seq", "tsc", "gpa", "rip", "access", "entry", "rights", "resolution",
                 "cycles"]
COMMANDS = ["stats", "regions", "gpa", "frame", "x", "regs", "swap", "lru", "trace",
            "reclaim", "ra", "log", "continue", "quit"]


def guest_conf(memory, frames, options, extra=""):
    return (f"linux /vmlinuz\ninitrd /initrd.img\nmemory {memory}\nframes {frames}\n"
            f"swap virtio\nreadahead cluster:8\noptions console=ttyS0 panic=-1 {options}\n"
            f"{extra}")


def open_monitor(con):
    con.child.send(ESC)
    con.expect_line(r"\[pv\] monitor: guest paused[^\r\n]*\r*\n")
    con.expect_line(r"pv> ")


def cmd(con, line, timeout=120):
    """Run one monitor command; return its output lines (prompt excluded)."""
    con.child.sendline(line)
    con.expect_line(re.escape(line) + r"\r*\n", timeout=timeout)
    con.expect_line(r"pv> ", timeout=timeout)
    return [ln.rstrip("\r") for ln in con.child.before.split("\n") if ln.strip("\r")]


def field(lines, regex):
    """The first match of regex in lines (a re.Match), or fail naming it."""
    for ln in lines:
        m = re.search(regex, ln)
        if m:
            return m
    raise AssertionError(f"no line matches {regex!r} in:\n" + "\n".join(lines))


def free_frames(con):
    return int(field(cmd(con, "stats"), r"^frames total \d+ free (\d+) ").group(1))


def test_monitor_commands_on_a_live_guest(qemu, make_esp, guest_kit):
    kernel, initrd = guest_kit
    esp = make_esp(guest_conf("256M", "128M", "quiet pv.check=meminfo pv.shell=1"),
                   add={kernel: "vmlinuz", initrd: "initrd.img"})
    swap_img = mkswap_image(os.path.join(E2E, "swap-monitor.img"), "256M")
    con = qemu(esp, accel="tcg", mem="1G", swap=swap_img, timeout=900)
    con.expect_line(r"\[pv\] monitor: press Ctrl-\^ on the console to open it")
    con.expect_line(READY)
    con.expect_line(r"pv-guest: checks done passed=1 failed=0")
    con.expect_line(SHELL)

    # A known pattern at a known guest-physical address; pvpattern waits
    # for a line while the monitor looks at its page.
    con.child.sendline("pvpattern")
    m = con.expect_line(r"pvpattern: gpa=0x([0-9a-f]+) len=4096 pattern=(\S+)\r*\n")
    gpa, pattern = int(m.group(1), 16), m.group(2)

    open_monitor(con)
    out = cmd(con, "help")
    for name in COMMANDS:
        assert any(re.match(rf"\s+{name}\b", ln) for ln in out), f"help lacks {name}: {out}"
    assert field(cmd(con, "help x"), r"^  x ADDR LEN {19}hex dump")

    out = cmd(con, "stats")
    total = int(field(out, r"^exits total (\d+) entries \d+").group(1))
    assert total > 0
    assert int(field(out, r"^exit io (\d+)").group(1)) > 0
    # the guest read the line typed above (pvpattern) through the UART's
    # data port, trapped while input waited for it (console-data pass: its
    # console writes take no exit, test_console_exits.py)
    assert int(field(out, r"^io-port 0x3f8 (\d+)").group(1)) > 0
    assert int(field(out, r"^fault zero-map (\d+)").group(1)) > 0
    assert int(field(out, r"^fault total (\d+)").group(1)) > 0
    m = field(out, r"^frames total (\d+) free (\d+) used (\d+) peak (\d+)")
    assert int(m.group(1)) == 128 * 256 + 1 and int(m.group(3)) <= int(m.group(4))
    field(out, r"^swap used \d+ of \d+ slots")
    field(out, r"^readahead hits \d+ misses \d+ accuracy ")

    out = cmd(con, "regions")
    assert int(field(out, r"^regions (\d+)").group(1)) >= 2
    field(out, r"anon")

    # The page the guest wrote: a present, writable 4K leaf whose frame's
    # reverse map names that gpa.
    out = cmd(con, f"gpa {gpa:#x}")
    field(out, rf"^gpa {gpa:#x} region \[.*anon")
    leaf = field(out, r"^\s+npt L1 \[\s*\d+\] 0x[0-9a-f]+ leaf 4K hpa (0x[0-9a-f]+) (\S+)")
    assert leaf.group(2)[1] == "w", f"leaf not writable: {leaf.group(0)}"
    frame = field(out, r"^frame hpa (0x[0-9a-f]+) refcount (\d+) mapcount (\d+) flags (\S+)")
    assert int(frame.group(1), 16) == int(leaf.group(1), 16)
    assert int(frame.group(2)) >= 1 and "guest" in frame.group(4)
    assert f"{gpa:#x}" in field(out, r"^\s+rmap ").string.split()
    out = cmd(con, f"frame {frame.group(1)}")
    assert f"{gpa:#x}" in field(out, r"^\s+rmap ").string.split()
    field(cmd(con, "frame 0x10"), r"^frame: 0x10 is not in the frame pool")

    # x shows the bytes the guest wrote there.
    out = cmd(con, f"x {gpa + 16:#x} 48")
    rows = [ln for ln in out if re.match(r"^0x[0-9a-f]{12}:", ln)]
    assert len(rows) == 3, out
    first = re.match(r"^0x([0-9a-f]{12}):((?: [0-9a-f]{2}){16})  \|(.{16})\|", rows[0])
    assert int(first.group(1), 16) == gpa + 16
    assert bytes.fromhex(first.group(2).replace(" ", "")) == pattern.encode()[:16]
    assert first.group(3) == pattern[:16]
    field(cmd(con, "x 0xfff0000000 16"), r"no region \(open bus\)")

    out = cmd(con, "regs")
    field(out, r"^rax [0-9a-f]{16}  rcx [0-9a-f]{16}  rdx [0-9a-f]{16}  rbx [0-9a-f]{16}")
    rflags = int(field(out, r"^rip [0-9a-f]{16}  rflags ([0-9a-f]{16})  \(svm\)").group(1), 16)
    assert rflags & 0x2, "RFLAGS bit 1 always reads as one"
    cr0 = int(field(out, r"^cr0 ([0-9a-f]{16})  cr3 [0-9a-f]{16}  cr4").group(1), 16)
    assert cr0 & 0x80000001 == 0x80000001, "the guest runs with paging on"

    out = cmd(con, "swap")
    field(out, r"^swap device virtio-blk \S+ size 256 MiB slots \d+ used \d+ bad 0")
    field(out, r"^swap readahead cluster:8")
    field(out, r"^swap errors write 0 read 0 checksum 0")
    field(cmd(con, "ra auto"), r"^readahead auto")
    field(cmd(con, "swap"), r"^swap readahead auto")
    field(cmd(con, "ra sideways"), r"^ra: 'sideways': expected off")
    out = cmd(con, "lru")
    field(out, r"^lru active \d+ inactive \d+ cached \d+")
    field(out, r"^free \d+ watermarks min \d+ low \d+ high \d+")

    # reclaim 100: at least 100 more free frames afterwards.
    before = free_frames(con)
    field(cmd(con, "reclaim 100"), r"^reclaim freed \d+ of 100 frames")
    assert free_frames(con) >= before + 100

    # The fault trace as CSV with the declared columns.
    rows = list(csv.reader(io.StringIO("\n".join(cmd(con, "trace dump 20")))))
    assert rows[0] == TRACE_COLUMNS and len(rows) == 21, rows[:3]
    for r in rows[1:]:
        assert len(r) == len(TRACE_COLUMNS)
        int(r[0]), int(r[1]), int(r[2], 16), int(r[3], 16), int(r[8])
        assert r[5] in ("none", "present", "swap")
    seqs = [int(r[0]) for r in rows[1:]]
    assert seqs == sorted(seqs), "oldest first"
    field(cmd(con, "trace off"), r"^trace off")
    field(cmd(con, "trace clear"), r"^trace cleared")
    assert cmd(con, "trace dump") == [",".join(TRACE_COLUMNS)]
    field(cmd(con, "trace on"), r"^trace on \(ring of \d+ events, 0 held\)")

    field(cmd(con, "log debug"), r"^log debug")
    field(cmd(con, "log info"), r"^log info")
    field(cmd(con, "log loud"), r"^log: 'loud' is not a level")
    # Bad commands and arguments: one line, and the prompt back.
    assert cmd(con, "bogus") == ["unknown command 'bogus' ('help' lists the commands)"]
    assert cmd(con, "x") == ["usage: x ADDR LEN"]
    assert cmd(con, "gpa zz") == ["usage: gpa ADDR"]
    assert cmd(con, "reclaim") == ["usage: reclaim N"]

    con.child.sendline("continue")
    con.expect_line(r"\[pv\] monitor: guest resumed\r*\n")
    con.child.sendline("")
    con.expect_line(r"pvpattern: intact\r*\n")
    con.expect_line(SHELL)

    # Input typed around a monitor session reaches the guest whole.
    con.child.send("echo hel")
    con.expect_line(r"echo hel")
    open_monitor(con)
    con.child.sendline("continue")
    con.expect_line(r"\[pv\] monitor: guest resumed\r*\n")
    con.child.sendline("lo-world")
    con.expect_line(r"\nhello-world\r*\n")
    con.expect_line(SHELL)

    # The escape typed twice reaches the guest as one byte.
    con.child.sendline("read -r x; printf '%s' \"$x\" | od -An -tx1")
    con.expect_line(r"od -An -tx1\r*\n")
    con.child.send(ESC)
    con.expect_line(r"pv> ")
    con.child.send(ESC)
    con.expect_line(r"\[pv\] monitor: guest resumed \(Ctrl-\^ sent to the guest\)\r*\n")
    con.child.sendline("ab")
    con.expect_line(r"\n\s*1e 61 62\s*\r*\n")
    con.expect_line(SHELL)

    # quit: the final statistics block, power-off with success.
    open_monitor(con)
    con.child.sendline("quit")
    con.expect_line(r"\[pv\] vcpu: guest stopped: stopped from the monitor \(quit\)")
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    assert "[pv] error" not in con.output()


def test_telemetry_adds_up_to_the_final_statistics(qemu, make_esp, guest_kit, tmp_path):
    kernel, initrd = guest_kit
    esp = make_esp(guest_conf("256M", "48M", "quiet pv.check=memcheck pv.memcheck=45",
                              extra="telemetry 200,trace\n"),
                   add={kernel: "vmlinuz", initrd: "initrd.img"})
    swap_img = mkswap_image(os.path.join(E2E, "swap-telemetry.img"), "512M")
    con = qemu(esp, accel="tcg", mem="1G", swap=swap_img, timeout=900)
    con.expect_line(r"\[pv\] telemetry: a sample every 200 ms of guest time, fault events too")
    con.expect_line(r"memcheck: PASS bytes=\d+", timeout=900)
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    final = stats(con.output())
    assert final[("swap", "ins")] > 0, "the guest must have swapped"

    out = tmp_path / "split"
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts/pvsplit.py"), con.log_path,
                    "-o", str(out)], check=True)
    with open(out / "sample.csv") as f:
        samples = list(csv.DictReader(f))
    assert len(samples) >= 2
    for col in ("swapins_major", "swapins_minor", "swapouts", "f_swap_in", "frames_used"):
        assert col in samples[0], col
    assert sum(int(s["swapins_major"]) for s in samples) == final[("swap", "ins")]
    assert sum(int(s["swapins_minor"]) for s in samples) == final[("swap", "ins-minor")]
    assert sum(int(s["swapouts"]) for s in samples) == final[("swap", "outs")]
    assert sum(int(s["f_swap_in"]) for s in samples) == final[("fault", "swap-in")]
    ms = [int(s["ms"]) for s in samples]
    assert ms == sorted(ms)
    with open(out / "fault.csv") as f:
        faults = list(csv.DictReader(f))
    assert faults and list(faults[0].keys()) == TRACE_COLUMNS
    # The guest's text and the hypervisor's log went to their own files.
    guest = (out / "guest.txt").read_text()
    hv = (out / "hypervisor.log").read_text()
    assert "memcheck: PASS" in guest and "[pv" not in guest
    assert "[pv] stats end" in hv
    assert not any(ln.startswith("[pvt]") for ln in hv.splitlines())


def test_monitor_on_a_console_of_its_own(qemu, make_esp, guest_kit):
    """`console com2`: the hypervisor's log and monitor on COM2 (here the
    terminal), the guest's ttyS0 (COM1, here a file) left to the guest.
    The escape comes while the guest is not reading COM2 at all: the input
    poll on exits finds it."""
    kernel, initrd = guest_kit
    esp = make_esp(guest_conf("256M", "256M", "quiet pv.check=meminfo", extra="console com2\n"),
                   add={kernel: "vmlinuz", initrd: "initrd.img"})
    guest_log = os.path.join(E2E, "monitor-own-console-com1.log")
    if os.path.exists(guest_log):
        os.unlink(guest_log)
    swap_img = mkswap_image(os.path.join(E2E, "swap-own-console.img"), "64M")
    con = qemu(esp, accel="tcg", mem="1G", swap=swap_img, serial=f"file:{guest_log}",
               extra=["-serial", "stdio"])
    con.expect_line(r"\[pv\] vcpu: entering the guest")
    open_monitor(con)
    field(cmd(con, "stats"), r"^exits total [1-9]\d* entries")
    con.child.sendline("continue")
    con.expect_line(r"\[pv\] monitor: guest resumed\r*\n")
    con.expect_line(r"\[pv\] vcpu: guest stopped: guest powered off \(ACPI S5\)")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    with open(guest_log, errors="replace") as f:
        guest = f.read()
    assert "pv-guest: checks done passed=1 failed=0" in guest
    assert "pv-guest" not in con.output() and "[pv] monitor" not in guest

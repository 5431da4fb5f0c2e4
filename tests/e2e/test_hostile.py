"""Hostile guests (QEMU TCG, SVM): a root process in the guest touches the
guest-physical address space up to the CPU's address width, spins in ring 0
with interrupts disabled, or triple-faults the CPU. pagevisor must stop or
contain
each with a message naming it, never fault itself, and never lose a page
the guest swapped. See docs/security.md, "Hostile guests"."""
from test_linux_svm import READY, stats
from test_swap_linux import mkswap_image
from conftest import E2E
import os
import re

from conftest import MONITOR_ESCAPE


def hostile_conf(checks, extra=""):
    return ("linux /vmlinuz\ninitrd /initrd.img\nmemory 512M\nframes 128M\nswap virtio\n"
            f"options console=ttyS0 panic=-1 quiet iomem=relaxed pv.check={checks} "
            f"pv.hostile_keep=60 {extra}\n")


def test_gpa_sweep_is_contained_and_loses_nothing(qemu, make_esp, guest_kit):
    kernel, initrd = guest_kit
    esp = make_esp(hostile_conf("gpa-sweep,memcheck", "pv.memcheck=70"),
                   add={kernel: "vmlinuz", initrd: "initrd.img"})
    img = mkswap_image(os.path.join(E2E, "swap-hostile.img"), size="512M")
    con = qemu(esp, mem="1G", swap=img, timeout=1500)
    con.expect_line(READY, timeout=600)
    m = con.expect_line(r"hostile: gpa-sweep: physical address width (\d+) bits", timeout=600)
    assert int(m.group(1)) >= 36
    m = con.expect_line(r"hostile: gpa-sweep: probes=(\d+) ram=(\d+) refused=(\d+) "
                        r"devices=(\d+) holes=(\d+)\r*\n", timeout=1200)
    assert int(m.group(5)) > 100, "the sweep must reach the holes of the address space"
    con.expect_line(r"hostile: gpa-sweep: PASS kept=\d+ MiB intact", timeout=1200)
    con.expect_line(r"memcheck: PASS bytes=(\d+) ", timeout=1500)
    con.expect_line(r"pv-guest: checks done passed=2 failed=0")
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    s = stats(con.output())
    assert s[("swap", "outs")] > 0 and s[("swap", "ins")] > 0, "the kept pages never swapped"
    assert s.get(("fault", "open-bus"), 0) > 100, "the sweep's holes must be open bus"


def test_triple_fault_stops_the_guest_by_name(qemu, make_esp, guest_kit):
    kernel, initrd = guest_kit
    esp = make_esp(hostile_conf("triple-fault", "reboot=t"),
                   add={kernel: "vmlinuz", initrd: "initrd.img"})
    img = mkswap_image(os.path.join(E2E, "swap-triple.img"), size="256M")
    con = qemu(esp, mem="1G", swap=img)
    con.expect_line(READY, timeout=600)
    con.expect_line(r"hostile: triple-fault: rebooting")
    con.expect_line(r"\[pv\] error: guest triple fault \(shutdown\)")
    con.expect_line(r"\[pv\] vcpu: guest stopped: guest triple fault\r*\n")
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 1")
    assert con.wait_exit() == 1
    assert "pv-guest: checks done" not in con.output()


def test_interrupts_off_spin_is_named_and_contained(qemu, make_esp, guest_kit):
    """kexec into a ring-0 loop with IF=0 that exits on every read of port
    0x64: pagevisor's watchdog names it after 20 s of guest time, the
    hypervisor stays responsive (the monitor opens, `regs` shows IF clear at
    the loop), and `quit` ends the machine cleanly."""
    kernel, initrd = guest_kit
    esp = make_esp(hostile_conf("kexec-spin"), add={kernel: "vmlinuz", initrd: "initrd.img"})
    img = mkswap_image(os.path.join(E2E, "swap-irqoff.img"), size="256M")
    con = qemu(esp, mem="1G", swap=img)
    con.expect_line(READY, timeout=600)
    m = con.expect_line(r"hostile: kexec-spin: jumping to a port-0x64 loop at 0x([0-9a-f]+) "
                        r"with interrupts disabled\r*\n")
    loop = int(m.group(1), 16)
    m = con.expect_line(r"\[pv\] warn: irq watchdog: the guest has run (\d+) s with interrupts "
                        r"disabled \(every exit since rip 0x([0-9a-f]+) saw IF=0; now at rip "
                        r"0x([0-9a-f]+)\): [^\r\n]*\r*\n", timeout=300)
    assert int(m.group(1)) >= 20
    assert loop <= int(m.group(3), 16) < loop + 6, "the warning names the spinning loop"
    con.child.send(MONITOR_ESCAPE)
    con.expect_line(r"pv> ")
    con.child.sendline("regs")
    m = con.expect_line(r"rip ([0-9a-f]{16})  rflags ([0-9a-f]{16})  \(svm\)")
    assert loop <= int(m.group(1), 16) < loop + 6
    assert not int(m.group(2), 16) & (1 << 9), "IF is clear while the guest spins"
    con.expect_line(r"pv> ")
    con.child.sendline("quit")
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    assert "pv-guest: checks done" not in con.output()
    assert not re.search(r"\[pv\] error", con.output())

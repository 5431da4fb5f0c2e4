"""Isolation: a root process in the guest reaches nothing pagevisor did not
give it (docs/security.md). The guest kit's probe (tests/guest/probe.c)
scans the port space, memory above guest RAM, the ECAM window and the swap
disk's BARs, reads and writes the MSRs pagevisor keeps, and executes the
virtualization instructions; every finding fails the test. On the same
boot an overcommitted memcheck then proves the swap disk the probe tried
to reach still works and lost nothing.

QEMU TCG (SVM) here, with the swap disk attached as a transitional virtio
device: its legacy I/O BAR is the easiest way in. The Bochs (VMX, ATA swap)
run is in the batched boot of tests/e2e/test_linux_vmx.py."""
import os
import re

from conftest import E2E
from test_linux_svm import stats
from test_swap_linux import mkswap_image

MONITOR_PROMPT = r"\(qemu\) "
VIRTIO_BLK = ("1af4:1001", "1af4:1042")   # transitional, modern


def monitor(con, command, timeout=60):
    """Run one QEMU monitor command over the stdio mux (Ctrl-A c toggles
    between the serial console and the monitor); return its output."""
    con.child.send("\x01c")
    con.child.expect(MONITOR_PROMPT, timeout=timeout)
    con.child.send(command + "\r")
    # (the readline echo is full of cursor moves: the output is what comes
    # before the next prompt, echo included)
    con.child.expect(MONITOR_PROMPT, timeout=timeout)
    out = con.child.before
    con.child.send("\x01c")
    return out


def swap_disk_bars(info_pci):
    """[(kind, base, size)] of the virtio-blk function in `info pci`."""
    blocks = re.split(r"\n\s*Bus\s+\d+, device", info_pci)
    for b in blocks:
        if any(ident in b for ident in VIRTIO_BLK):
            bars = []
            for kind, base, last in re.findall(
                    r"BAR\d+: (I/O|(?:32|64) bit (?:prefetchable )?memory) at "
                    r"(0x[0-9a-f]+) \[(0x[0-9a-f]+)\]", b):
                bars.append((kind, int(base, 16), int(last, 16) - int(base, 16) + 1))
            return bars
    raise AssertionError(f"no virtio-blk function in `info pci`:\n{info_pci}")


def test_guest_root_reaches_nothing_then_swaps_intact(qemu, make_esp, guest_kit):
    kernel, initrd = guest_kit
    conf = ("linux /vmlinuz\ninitrd /initrd.img\nmemory 1G\nframes 256M\nswap virtio\n"
            "readahead cluster:8\n"
            "options console=ttyS0 panic=-1 quiet pv.check=probe,memcheck pv.memcheck=92 "
            "pv.probe=ask\n")
    esp = make_esp(conf, add={kernel: "vmlinuz", initrd: "initrd.img"})
    swap_img = mkswap_image(os.path.join(E2E, "swap-isolation.img"))
    con = qemu(esp, accel="tcg", mem="1G", swap=swap_img, timeout=1500,
               swap_transitional=True)
    con.expect_line(r"\[pv\] swap: virtio-blk \S+: 1024 MiB")
    con.expect_line(r"\[pv\] vcpu: entering the guest")
    # Where the swap disk really is, from QEMU itself (not from pagevisor).
    bars = swap_disk_bars(monitor(con, "info pci"))
    io_bars = [b for b in bars if b[0] == "I/O"]
    mem_bars = [b for b in bars if b[0] != "I/O"]
    assert io_bars, f"the swap disk is not transitional (no I/O BAR): {bars}"
    assert mem_bars, f"the swap disk has no memory BAR: {bars}"
    m = re.search(r"([0-9a-f]{16})-[0-9a-f]{16} \(prio -?\d+, i/o\): pcie-mmcfg-mmio",
                  monitor(con, "info mtree"))
    assert m, "no ECAM (pcie-mmcfg-mmio) in `info mtree`"
    targets = [f"mmio:{base:x}+{size:x}" for _, base, size in mem_bars]
    targets.append(f"ecam:{int(m.group(1), 16):x}")

    # (the monitor exchange may have consumed these lines from the stream:
    # look in the log first)
    if "pv-guest: probe targets?" not in con.output():
        con.expect_line(r"pv-guest: probe targets\?\r*\n", timeout=600)
    con.child.sendline(" ".join(targets))
    m = con.expect_line(r"probe: (PASS checks=\d+|FAIL [^\r\n]*)\r*\n", timeout=900)
    out = con.output()
    findings = re.findall(r"probe: FINDING [^\r\n]*", out)
    assert not findings and m.group(1).startswith("PASS"), \
        "the guest reached what it must not:\n" + "\n".join(findings or [m.group(0)])
    for section in ("ports", "pci", "mmio", "ecam", "bar", "msr", "insn"):
        assert f"probe: {section}: " in out, f"probe section {section} did not run"
    # every memory BAR of the swap disk was read and written
    for _, base, _ in mem_bars:
        assert re.search(rf"probe: bar: 0x{base:x} \(", out), f"BAR 0x{base:x} not probed"
    con.expect_line(r"pv-guest: check probe: PASS")

    # Same boot: swapping still works and loses nothing.
    m = con.expect_line(r"memcheck: PASS bytes=(\d+) ", timeout=1500)
    assert int(m.group(1)) >= 768 * 1024 * 1024, "memcheck must cover 768 MiB of the 1G"
    con.expect_line(r"pv-guest: checks done passed=2 failed=0")
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    out = con.output()
    assert "[pv] error" not in out, re.findall(r"\[pv\] error[^\r\n]*", out)[:5]
    assert "device marked failed" not in out
    s = stats(out)
    assert s[("swap", "outs")] > 0 and s[("swap", "ins")] > 0
    # the hypervisor's side of the story: the scan was denied and counted,
    # rate-limited (a few dozen lines for ~60000 ports)
    assert s[("io", "denied-reads")] > 60000 and s[("io", "denied-writes")] > 60000
    assert s[("io", "denied-ports")] > 0
    assert s[("msr", "denied-reads")] > 0 and s[("msr", "denied-writes")] > 0
    # the kernel's early PCI scans (every slot of every bus, the swap disk's
    # included) took the one-exit path (vmm/io_fuse.c), which answers through
    # the same filter: the guest still found nothing of the disk (above)
    assert s[("io", "fused-pci-reads")] > 0
    assert len(re.findall(r"\[pv\] warn: io: ", out)) < 200
    assert "[pv] warn: insn: guest executed VMRUN" in out, "VMRUN's #GP was not turned into #UD"

"""Disk faults on the swap disk, injected by QEMU's blkdebug driver
(QEMU TCG, SVM): a Linux guest overcommitted 4:1 swaps to a virtio-blk disk
whose chosen sectors fail. See docs/decisions.md, "Swap devices"."""
import os
import re

from conftest import E2E
from test_linux_svm import READY, stats
from test_swap_linux import mkswap_image

SECTORS_PER_SLOT = 8  # 4 KiB slots, 512-byte sectors


def blkdebug_conf(name, iotype, slots):
    """A rule file failing every request of iotype that touches one of the
    slots' first sector. The rules arm at the first read (pagevisor reads
    the swap header before any slot)."""
    path = os.path.join(E2E, f"blkdebug-{name}.conf")
    with open(path, "w") as f:
        for s in slots:
            f.write('[inject-error]\nevent = "read_aio"\n'
                    f'iotype = "{iotype}"\nerrno = "5"\n'
                    f'sector = "{s * SECTORS_PER_SLOT}"\nonce = "off"\n\n')
    return path


def overcommit_conf(checks="memcheck", pct=80):
    return ("linux /vmlinuz\ninitrd /initrd.img\nmemory 512M\nframes 128M\nswap virtio\n"
            "readahead cluster:8\n"
            f"options console=ttyS0 panic=-1 quiet pv.check={checks} pv.memcheck={pct}\n")


def test_write_errors_leave_pages_resident_and_slots_bad(qemu, make_esp, guest_kit):
    kernel, initrd = guest_kit
    bad = [2, 5, 9, 17]
    rules = blkdebug_conf("write", "write", bad)
    esp = make_esp(overcommit_conf(), add={kernel: "vmlinuz", initrd: "initrd.img"})
    img = mkswap_image(os.path.join(E2E, "swap-write-errors.img"), size="512M")
    con = qemu(esp, mem="1G", swap=img, blkdebug=rules, timeout=1500)
    con.expect_line(READY, timeout=600)
    con.expect_line(r"memcheck: PASS bytes=(\d+) ", timeout=1500)
    con.expect_line(r"pv-guest: checks done passed=1 failed=0")
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    out = con.output()
    marked = sorted({int(s) for s in re.findall(
        r"\[pv\] warn: swap: write of slot (\d+) on virtio-blk \S+ failed: slot marked bad", out)})
    assert marked == bad, f"slots marked bad {marked}, injected {bad}"
    s = stats(out)
    assert s[("swap", "write-errors")] == len(bad)
    assert s[("swap", "outs")] > 0 and s[("swap", "ins")] > 0
    m = re.search(r"\[pv\] stats swap device \S+ \S+ slots (\d+) used (\d+) bad (\d+)", out)
    assert m and int(m.group(3)) == len(bad), "the stats must count the bad slots"


def test_read_errors_stop_the_faulting_page_and_drop_readahead(qemu, make_esp, guest_kit):
    kernel, initrd = guest_kit
    bad = list(range(1, 128, 2))   # odd slots: readahead windows always cover some
    rules = blkdebug_conf("read", "read", bad)
    esp = make_esp(overcommit_conf(), add={kernel: "vmlinuz", initrd: "initrd.img"})
    img = mkswap_image(os.path.join(E2E, "swap-read-errors.img"), size="512M")
    con = qemu(esp, mem="1G", swap=img, blkdebug=rules, timeout=1500)
    con.expect_line(READY, timeout=600)
    m = con.expect_line(r"\[pv\] error: swap: gpa (0x[0-9a-f]+): slot (\d+) on virtio-blk \S+: "
                        r"read error: page not handed to the guest\r*\n", timeout=1500)
    gpa, slot = int(m.group(1), 16), int(m.group(2))
    assert slot in bad and gpa % 4096 == 0
    con.expect_line(r"\[pv\] vcpu: guest stopped: .*slot %d .*read error" % slot)
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 1")
    con.wait_exit()
    out = con.output()
    assert "memcheck: PASS" not in out and "checks done passed=1" not in out
    # Only the faulting page is reported: earlier failures were read-ahead
    # pages, dropped quietly, and the guest ran on after them.
    assert len(re.findall(r"\[pv\] error: swap: gpa .*page not handed to the guest", out)) == 1
    s = stats(out)
    assert s[("swap", "read-errors")] >= 2, "no read-ahead page failed before the stop"
    assert s[("swap", "ins")] > 0

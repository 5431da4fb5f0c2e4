"""Overcommit: a Linux guest given 1 GiB of RAM backed by 256 MiB of host
frames, swapping to a virtio-blk disk prepared with mkswap (QEMU TCG, SVM).
The guest writes a distinct pattern over ~3/4 of its RAM, reads it back
twice and verifies it: nothing may be lost."""
import os
import subprocess

from conftest import E2E
from test_linux_svm import READY, stats


def mkswap_image(path, size="1G"):
    os.makedirs(E2E, exist_ok=True)
    if os.path.exists(path):
        os.unlink(path)
    subprocess.run(["truncate", "-s", size, path], check=True)
    mkswap = "/sbin/mkswap" if os.path.exists("/sbin/mkswap") else "mkswap"
    subprocess.run([mkswap, "-q", path], check=True, stdout=subprocess.DEVNULL)
    return path


def test_overcommitted_guest_swaps_and_loses_nothing(qemu, make_esp, guest_kit):
    kernel, initrd = guest_kit
    conf = ("linux /vmlinuz\ninitrd /initrd.img\nmemory 1G\nframes 256M\nswap virtio\n"
            "readahead cluster:8\n"
            "options console=ttyS0 panic=-1 quiet pv.check=memcheck pv.memcheck=92\n")
    esp = make_esp(conf, add={kernel: "vmlinuz", initrd: "initrd.img"})
    swap_img = mkswap_image(os.path.join(E2E, "swap-overcommit.img"))
    con = qemu(esp, accel="tcg", mem="1G", swap=swap_img, timeout=1500)
    con.expect_line(r"\[pv\] config memory=1G frames=256M overcommit=yes")
    con.expect_line(r"\[pv\] swap: virtio-blk \S+: 1024 MiB")
    m = con.expect_line(READY, timeout=600)
    assert int(m.group(2)) * 1024 > 900 * 1024 * 1024, "the guest must see its 1G"
    m = con.expect_line(r"memcheck: PASS bytes=(\d+) ", timeout=1500)
    assert int(m.group(1)) >= 768 * 1024 * 1024, "memcheck must cover 768 MiB of the 1G"
    con.expect_line(r"pv-guest: checks done passed=1 failed=0")
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    s = stats(con.output())
    assert s[("swap", "outs")] > 0 and s[("swap", "ins")] > 0
    assert s[("swap", "readahead-hits")] > 0
    # frames 256M = 65536 frames, plus the shared zero frame
    assert s[("frames", "total")] == 256 * 256 + 1
    assert s[("frames", "peak")] <= 256 * 256 + 1, "more frames used than configured"
    zero = s.get(("swap", "zero-recovered"), s.get(("swap", "zero-pages"), 0))
    assert zero > 0, "no all-zero pages recovered without I/O"
    # code tracking on real nested paging: fetches taught it the guest's
    # code (execute granted on first fetch), and reclaim kept code back
    assert s[("fault", "exec")] > 0 and s[("frames", "code")] > 0
    assert s[("swap", "code-kept")] > 0


def test_swap_disk_without_signature_is_refused(qemu, make_esp, guest_kit):
    kernel, initrd = guest_kit
    conf = ("linux /vmlinuz\ninitrd /initrd.img\nmemory 512M\nframes 128M\nswap virtio\n"
            "options console=ttyS0\n")
    esp = make_esp(conf, add={kernel: "vmlinuz", initrd: "initrd.img"})
    blank = os.path.join(E2E, "swap-blank.img")
    subprocess.run(["truncate", "-s", "64M", blank], check=True)
    con = qemu(esp, accel="tcg", swap=blank)
    con.expect_line(r"\[pv\] error: .*no swap signature")
    con.expect_line(r"\[pv\] power off: status 1")
    assert "vcpu: entering the guest" not in con.output()

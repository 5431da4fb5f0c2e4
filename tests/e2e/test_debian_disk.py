"""A real Debian system (scripts/mkdebian.sh: bookworm, systemd, the
distribution's kernel and initramfs) booting from a disk (QEMU TCG).

Under pagevisor the guest gets 1 GiB of RAM on 256 MiB of frames and a swap
disk; its root file system is on the virtio-blk device pagevisor emulates
over a disk it owns (docs/guest-disk.md). The guest writes a few hundred
MiB of files of known content (tests/guest/debian/pv-diskcheck), drops its
page cache, reads them back and verifies them while the hypervisor swaps,
then powers off through systemd. On the host the image must then pass
`e2fsck -fn` and every file, read with debugfs, must have the checksum the
host computed itself.

The same image booted directly by QEMU (no pagevisor) is checked the same
way on a small file set: it validates the image and is the baseline the
disk bench (tests/bench/bench_disk.py) compares against."""
import os
import re
import subprocess
import sys

import pytest

from conftest import E2E, ROOT, Console, _missing
from test_linux_svm import stats
from test_swap_linux import mkswap_image

sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import debian_guest as dg  # noqa: E402

BOOT_TIMEOUT = 900      # TCG; under pagevisor with overcommit it is slower still
CHECK_TIMEOUT = 1500


@pytest.fixture(scope="session")
def debian_image():
    missing = _missing("qemu-system-x86_64", "mmdebstrap", dg.debugfs(), dg.e2fsck())
    if missing:
        pytest.skip(f"Debian guest platform absent: {missing} not found "
                    f"(scripts/deps.sh debian installs it)")
    return dg.build_image()


@pytest.fixture
def direct(request):
    """direct(image, disk) -> Console of QEMU booting the image with no pagevisor."""
    consoles = []

    def boot(image, disk, timeout=BOOT_TIMEOUT + CHECK_TIMEOUT):
        c = Console(dg.direct_cmd(image, disk, accel="tcg", timeout=timeout),
                    f"e2e-{request.node.name}-{len(consoles)}.log", timeout)
        consoles.append(c)
        return c

    yield boot
    for c in consoles:
        c.close()


def run_diskcheck(con, mib, files):
    """Log in (autologin), wait for a fully booted system, run pv-diskcheck,
    power off through systemd; return {path: sha256} the guest printed."""
    con.expect_line(dg.PROMPT, timeout=BOOT_TIMEOUT)
    con.child.sendline("systemctl is-system-running --wait")
    con.expect_line(dg.RUNNING, timeout=BOOT_TIMEOUT)
    con.expect_line(dg.PROMPT)
    con.child.sendline(f"pv-diskcheck {mib} {files}")
    written = {}
    for _ in range(files):
        m = con.expect_line(dg.DISKCHECK_WROTE, timeout=CHECK_TIMEOUT)
        written[m.group(1)] = (int(m.group(2)), m.group(3))
    con.expect_line(r"pv-disk: synced; page cache dropped", timeout=CHECK_TIMEOUT)
    m = con.expect_line(dg.DISKCHECK_PASS, timeout=CHECK_TIMEOUT)
    assert int(m.group(1)) == files and int(m.group(2)) == sum(n for n, _ in written.values())
    con.expect_line(dg.PROMPT)
    con.child.sendline("systemctl poweroff")
    return written


def check_on_host(image, disk, written):
    """The image is clean and every file holds the bytes pvgen makes."""
    fsck = subprocess.run([dg.e2fsck(), "-fn", disk], capture_output=True, text=True)
    assert fsck.returncode == 0, f"e2fsck -fn {disk}: {fsck.returncode}\n{fsck.stdout}{fsck.stderr}"
    for path, (nbytes, guest_sum) in sorted(written.items()):
        seed = int(re.search(r"f(\d+)$", path).group(1))
        want = dg.expected_sha256(image["pvgen"], seed, nbytes)
        assert guest_sum == want, f"{path}: the guest wrote sha256 {guest_sum}, pvgen gives {want}"
        got = dg.debugfs_sha256(disk, path)
        assert got == want, f"{path} in {disk} (debugfs): sha256 {got}, expected {want}"


def test_debian_image_boots_directly_under_qemu(debian_image, direct):
    """The image on its own: QEMU's kernel loader, QEMU's virtio-blk."""
    disk = dg.copy_disk(debian_image["rootfs"], os.path.join(E2E, "debian-direct.img"))
    con = direct(debian_image, disk)
    written = run_diskcheck(con, mib=16, files=2)
    con.expect_line(r"reboot: Power down\r*\n", timeout=BOOT_TIMEOUT)
    assert con.wait_exit(timeout=60) == 0
    check_on_host(debian_image, disk, written)


def test_debian_under_pagevisor_keeps_its_files_while_swapping(debian_image, efi, qemu,
                                                               make_esp):
    missing = dg.device_model_missing(efi)
    if missing:
        pytest.skip(f"pagevisor cannot give the guest a disk yet: {missing} "
                    "(issue 13 items 1-3, docs/guest-disk.md)")
    disk = dg.copy_disk(debian_image["rootfs"], os.path.join(E2E, "debian-pagevisor.img"))
    esp = make_esp(dg.pagevisor_conf(memory="1G", frames="256M", swap="virtio"),
                   add={debian_image["vmlinuz"]: "vmlinuz", debian_image["initrd"]: "initrd.img"})
    swap = mkswap_image(os.path.join(E2E, "swap-debian.img"))
    con = qemu(esp, accel="tcg", mem="1G", swap=swap, guest_disk=disk,
               timeout=BOOT_TIMEOUT + 2 * CHECK_TIMEOUT)
    con.expect_line(r"\[pv\] config memory=1G frames=256M overcommit=yes")
    con.expect_line(r"\[pv\] swap: virtio-blk \S+: 1024 MiB")
    con.expect_line(r"\[pv\] disk: guest sees virtio-blk at 00:[0-9a-f]{2}\.0, [^\r\n]*\r*\n")
    written = run_diskcheck(con, mib=200, files=8)
    con.expect_line(r"\[pv\] vcpu: guest stopped: guest powered off \(ACPI S5\)",
                    timeout=BOOT_TIMEOUT)
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    s = stats(con.output())
    assert s[("swap", "outs")] > 0 and s[("swap", "ins")] > 0, \
        "the hypervisor never swapped: the test must overcommit its frames"
    assert s[("frames", "peak")] <= 256 * 256 + 1, "more frames used than configured"
    check_on_host(debian_image, disk, written)

"""The hypervisor finds its swap disk at boot, checks the mkswap header
through its own driver, and refuses clearly when it cannot use it.

QEMU (TCG): virtio-blk over modern virtio-pci. Bochs: an ATA PIO disk on
ata0-slave. With `log debug` pagevisor also reads the last slot through
the driver (one request of several segments; on virtio also several
requests in flight) and logs its CRC-32: the test writes a known pattern
there, so the CRC proves multi-sector reads return the right bytes. Nothing
is ever written to the disk by pagevisor."""
import os
import re
import shutil
import struct
import subprocess
import zlib

import pytest

from conftest import E2E

PAGE = 4096
SWAP_LINE = r"\[pv\] swap: ([^\r\n]+?): (\d+) MiB, (\d+) slots"
CRC_LINE = r"\[pv\] debug: swap: ([^\r\n]+?): self-check: slot (\d+) crc32 0x([0-9a-f]{8})"
# Bochs computes a flat disk's geometry with 16 heads and 63 sectors per
# track: a multiple of that cylinder size (also a multiple of 4 KiB) keeps
# the whole image addressable.
BOCHS_CYLINDER = 16 * 63 * 512


def mkswap_binary():
    for p in ("/sbin/mkswap", "/usr/sbin/mkswap", shutil.which("mkswap")):
        if p and os.path.exists(p):
            return p
    pytest.skip("mkswap not found (package util-linux)")


def swap_image(name, size):
    """A mkswap'd image of size bytes whose last page holds a pattern.
    Returns (path, last_page, nslots, crc32 of the last page)."""
    os.makedirs(E2E, exist_ok=True)
    path = os.path.join(E2E, name)
    if os.path.exists(path):
        os.unlink(path)
    with open(path, "wb") as f:
        f.truncate(size)
    subprocess.run([mkswap_binary(), "-q", path], check=True, capture_output=True)
    pattern = bytes((i * 13 + 7) & 0xFF for i in range(PAGE))
    with open(path, "r+b") as f:
        f.seek(1024)
        version, last_page, nr_bad = struct.unpack("<III", f.read(12))
        f.seek(last_page * PAGE)
        f.write(pattern)
    assert version == 1 and nr_bad == 0
    return path, last_page, last_page, zlib.crc32(pattern)


CONF = "memory 64M\nframes 48M\nswap virtio\nlog debug\n"


def test_virtio_swap_disk_is_checked(qemu, make_esp):
    img, last_page, nslots, crc = swap_image("swap-virtio.img", 64 << 20)
    con = qemu(make_esp(CONF), accel="tcg", swap=img)
    con.expect_line(r"\[pv\] core up")
    m = con.expect_line(SWAP_LINE)
    assert re.fullmatch(r"virtio-blk 00:[0-9a-f]{2}\.[0-7]", m.group(1)), m.group(1)
    assert int(m.group(2)) == 64
    assert int(m.group(3)) == nslots
    m = con.expect_line(CRC_LINE)
    assert int(m.group(2)) == last_page
    assert int(m.group(3), 16) == crc, f"slot {last_page} read back wrong"
    # the rest of the same line: the batched (in-flight) read agreed
    con.expect_line(r"the same as requests in flight[^\r\n]*\r*\n")
    con.expect_line(r"\[pv\] no guest to run")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0


def test_disk_without_swap_signature_is_refused(qemu, make_esp):
    img = os.path.join(E2E, "swap-zero.img")
    os.makedirs(E2E, exist_ok=True)
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    con = qemu(make_esp(CONF), accel="tcg", swap=img)
    con.expect_line(r"\[pv\] error: virtio-blk 00:[0-9a-f]{2}\.[0-7]: no swap signature "
                    r"\(SWAPSPACE2\)[^\r\n]*prepare it with mkswap")
    con.expect_line(r"\[pv\] power off: status 1 \(failure\)")
    out = con.output()
    assert "[pv] swap: " not in out and "no guest to run" not in out
    assert con.wait_exit() == 1
    # pagevisor never formats: the disk is still all zeros
    with open(img, "rb") as f:
        assert not any(f.read())


def test_swap_virtio_without_a_disk_is_refused(qemu, make_esp):
    con = qemu(make_esp(CONF), accel="tcg", swap="none")
    con.expect_line(r"\[pv\] error: swap virtio: no virtio-blk device")
    con.expect_line(r"\[pv\] power off: status 1 \(failure\)")
    assert con.wait_exit() == 1


def test_legacy_virtio_disk_is_refused_by_name(qemu, make_esp):
    img, _, _, _ = swap_image("swap-legacy.img", 16 << 20)
    extra = ["-drive", f"if=none,id=legacy,format=raw,file={img}",
             "-device", "virtio-blk-pci,drive=legacy,disable-modern=on"]
    con = qemu(make_esp(CONF), accel="tcg", swap="none", extra=extra)
    con.expect_line(r"\[pv\] error: virtio-blk 00:[0-9a-f]{2}\.[0-7]: no VIRTIO_F_VERSION_1 "
                    r"\(legacy device\); use disable-legacy=on")
    con.expect_line(r"\[pv\] power off: status 1 \(failure\)")
    assert con.wait_exit() == 1


@pytest.mark.parametrize("key", ["auto", "00:02.0"])
def test_auto_and_pci_address_take_the_virtio_disk(qemu, make_esp, key):
    # q35 puts the first -device after the VGA function: 00:02.0.
    img, _, nslots, _ = swap_image("swap-any.img", 32 << 20)
    con = qemu(make_esp(f"memory 64M\nswap {key}\n"), accel="tcg", swap=img)
    m = con.expect_line(SWAP_LINE)
    assert m.group(1) == "virtio-blk 00:02.0"
    assert (int(m.group(2)), int(m.group(3))) == (32, nslots)
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert "self-check" not in con.output()   # log info: no debug self-check
    assert con.wait_exit() == 0


def test_swap_ata_without_ide_is_refused(qemu, make_esp):
    # q35 has AHCI, no legacy IDE ports: nothing answers there.
    con = qemu(make_esp("memory 64M\nswap ata\n"), accel="tcg", swap="none")
    con.expect_line(r"\[pv\] error: swap ata: no ATA disk at ata0-slave, ata1-master or "
                    r"ata1-slave \(ata0-master is never used: it holds the boot disk\)")
    con.expect_line(r"\[pv\] power off: status 1 \(failure\)")
    assert con.wait_exit() == 1


def test_bochs_ata_swap_disk_is_checked(bochs, make_esp):
    img, last_page, nslots, crc = swap_image("swap-ata.img", 16 * BOCHS_CYLINDER)
    con = bochs(make_esp("memory 64M\nframes 32M\nswap ata\nlog debug\n"), disk=img)
    m = con.expect_line(SWAP_LINE)
    assert m.group(1) == "ata0-slave"
    assert int(m.group(2)) == (16 * BOCHS_CYLINDER) >> 20
    assert int(m.group(3)) == nslots
    m = con.expect_line(CRC_LINE)
    assert m.group(1) == "ata0-slave"
    assert int(m.group(2)) == last_page
    assert int(m.group(3), 16) == crc, f"slot {last_page} read back wrong"
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0

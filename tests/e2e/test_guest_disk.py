"""The guest's disk (docs/guest-disk.md) under QEMU TCG: pagevisor finds the
backing virtio-blk disk by its serial, shows the guest an emulated modern
virtio-blk function, and serves its requests. The default guest kit loads
Debian's virtio modules and reads and writes /dev/vda with checksums; a
read-only disk refuses writes the virtio way; a disk key naming no device is
refused by name before the guest starts."""
import hashlib
import os
import random
import re

from conftest import E2E

MiB = 1 << 20
DISK_BYTES = 8 * MiB
SERIAL = "pagevisor-disk"  # scripts/machine.env PV_GUEST_DISK_SERIAL
READY = r"pv-guest: ready uptime="
DONE = r"pv-guest: checks done passed=(\d+) failed=(\d+)\r*\n"


def disk_image(name):
    """An image of known random bytes; returns (path, sha256 of its first MiB)."""
    os.makedirs(E2E, exist_ok=True)
    path = os.path.join(E2E, name)
    data = random.Random(1234).randbytes(DISK_BYTES)
    with open(path, "wb") as f:
        f.write(data)
    return path, hashlib.sha256(data[:MiB]).hexdigest()


def conf(kit, disk_value, vdisk):
    vmlinuz, initrd = kit
    return ("linux /vmlinuz\ninitrd /initrd.img\nmemory 256M\n"
            f"disk {disk_value}\n"
            f"options console=ttyS0 quiet pv.check=vdisk pv.vdisk={vdisk}\n")


def boot(qemu, make_esp, kit, disk_value, vdisk, image):
    vmlinuz, initrd = kit
    esp = make_esp(conf(kit, disk_value, vdisk), {vmlinuz: "/vmlinuz", initrd: "/initrd.img"})
    return qemu(esp, guest_disk=image)


def test_guest_disk_read_write(qemu, make_esp, guest_kit):
    path, head = disk_image("guest-disk-rw.img")
    c = boot(qemu, make_esp, guest_kit, f"serial={SERIAL}", "rw", path)
    c.expect_line(r"\[pv\] disk: serial=" + SERIAL + r": virtio-blk [^\r\n]*, 8 MiB, serial "
                  + SERIAL + r"\r*\n")
    c.expect_line(r"\[pv\] disk: guest sees virtio-blk at 00:[0-9a-f]{2}\.0, BAR0 0x[0-9a-f]+, "
                  r"16384 sectors\r*\n")
    c.expect_line(READY)
    c.expect_line(r"pv-guest: vdisk sectors=16384 ro=0 head_sha256=" + head + r"\r*\n")
    m = c.expect_line(r"pv-guest: vdisk wrote sha256=([0-9a-f]{64}) at MiB 1\r*\n")
    wrote = m.group(1)
    c.expect_line(r"pv-guest: check vdisk: PASS\r*\n")
    c.expect_line(DONE)
    assert c.wait_exit() == 0, c.tail()
    # Linux used MSI-X: the INTx line never fired
    assert "vblk: INTx mode" not in c.output()
    with open(path, "rb") as f:
        f.seek(MiB)
        assert hashlib.sha256(f.read(MiB)).hexdigest() == wrote


def test_guest_disk_read_only(qemu, make_esp, guest_kit):
    path, head = disk_image("guest-disk-ro.img")
    before = open(path, "rb").read()
    c = boot(qemu, make_esp, guest_kit, f"serial={SERIAL},ro", "ro", path)
    c.expect_line(r"\[pv\] disk: guest sees virtio-blk at [^\r\n]*, read-only\r*\n")
    c.expect_line(r"pv-guest: vdisk sectors=16384 ro=1 head_sha256=" + head + r"\r*\n")
    c.expect_line(r"pv-guest: vdisk write refused: [^\r\n]+\r*\n")
    c.expect_line(r"pv-guest: check vdisk: PASS\r*\n")
    c.expect_line(DONE)
    assert c.wait_exit() == 0, c.tail()
    assert open(path, "rb").read() == before


def test_guest_disk_naming_no_device_is_refused(qemu, make_esp, guest_kit):
    path, _ = disk_image("guest-disk-none.img")
    c = boot(qemu, make_esp, guest_kit, "serial=nosuchdisk", "rw", path)
    c.expect_line(r"\[pv\] error: disk serial=nosuchdisk: no virtio-blk device has that serial "
                  r"\(found: " + SERIAL + r"\)\r*\n")
    assert c.wait_exit() == 1, c.tail()
    assert READY not in c.output()


def test_guest_disk_beside_swap_under_overcommit(qemu, make_esp, guest_kit):
    """Both virtio-blk disks at once: swap (found first) and the guest's
    (found by serial); the guest's disk I/O lands in pages the hypervisor
    swaps, and memcheck then verifies memory under swapping."""
    from test_swap_linux import mkswap_image
    path, head = disk_image("guest-disk-swap.img")
    swap_img = mkswap_image(os.path.join(E2E, "guest-disk-swap-swap.img"), "256M")
    vmlinuz, initrd = guest_kit
    esp = make_esp("linux /vmlinuz\ninitrd /initrd.img\nmemory 256M\nframes 96M\nswap virtio\n"
                   f"disk serial={SERIAL}\n"
                   "options console=ttyS0 quiet pv.check=vdisk,memcheck pv.memcheck=80\n",
                   {vmlinuz: "/vmlinuz", initrd: "/initrd.img"})
    c = qemu(esp, swap=swap_img, guest_disk=path)
    c.expect_line(r"\[pv\] swap: virtio-blk [0-9a-f:.]+: 256 MiB, \d+ slots\r*\n")
    c.expect_line(r"pv-guest: vdisk sectors=16384 ro=0 head_sha256=" + head + r"\r*\n")
    wrote = c.expect_line(r"pv-guest: vdisk wrote sha256=([0-9a-f]{64}) at MiB 1\r*\n").group(1)
    c.expect_line(r"pv-guest: check vdisk: PASS\r*\n")
    c.expect_line(r"pv-guest: check memcheck: PASS\r*\n")
    c.expect_line(r"pv-guest: checks done passed=2 failed=0\r*\n")
    assert c.wait_exit() == 0, c.tail()
    out = c.output()
    assert "[pv] error" not in out
    outs = re.search(r"\[pv\] stats swap outs (\d+)", out)
    assert outs and int(outs.group(1)) > 0, "the hypervisor never swapped"
    with open(path, "rb") as f:
        f.seek(MiB)
        assert hashlib.sha256(f.read(MiB)).hexdigest() == wrote


def test_guest_disk_intx(qemu, make_esp, guest_kit):
    """With pci=nomsi Linux's virtio_pci falls back to INTx: pagevisor routes
    the function's INTA through the firmware's _PRT to a GSI, reads the RTE
    the guest programmed for it on the (passed-through) IOAPIC and sends
    that vector; the vdisk check's reads and writes complete by interrupt."""
    path, head = disk_image("guest-disk-intx.img")
    vmlinuz, initrd = guest_kit
    esp = make_esp("linux /vmlinuz\ninitrd /initrd.img\nmemory 256M\n"
                   f"disk serial={SERIAL}\n"
                   "options console=ttyS0 quiet pci=nomsi pv.check=vdisk pv.vdisk=rw\n",
                   {vmlinuz: "/vmlinuz", initrd: "/initrd.img"})
    c = qemu(esp, guest_disk=path)
    gsi = int(c.expect_line(r"\[pv\] disk: guest's device INTA -> GSI (\d+) \(IOAPIC pin \d+\)"
                            r"\r*\n").group(1))
    # The whole line: the first interrupt (Linux's first read of the disk)
    # went out as the vector of the RTE the guest programmed for the GSI.
    m = c.expect_line(r"(?m)^\[pv\] vblk: INTx mode \(gsi (\d+) vector 0x([0-9a-f]{2})\)\r*\n")
    assert int(m.group(1)) == gsi
    assert int(m.group(2), 16) >= 0x20
    c.expect_line(r"pv-guest: vdisk sectors=16384 ro=0 head_sha256=" + head + r"\r*\n")
    wrote = c.expect_line(r"pv-guest: vdisk wrote sha256=([0-9a-f]{64}) at MiB 1\r*\n").group(1)
    c.expect_line(r"pv-guest: check vdisk: PASS\r*\n")
    c.expect_line(r"pv-guest: checks done passed=1 failed=0\r*\n")
    assert c.wait_exit() == 0, c.tail()
    out = c.output()
    assert "INTx on gsi" not in out, "an INTx message was refused"
    with open(path, "rb") as f:
        f.seek(MiB)
        assert hashlib.sha256(f.read(MiB)).hexdigest() == wrote

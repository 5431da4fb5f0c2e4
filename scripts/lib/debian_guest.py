"""The Debian guest (scripts/mkdebian.sh), shared by its e2e test
(tests/e2e/test_debian_disk.py) and the disk bench (tests/bench/bench_disk.py).

It boots two ways on the same kind of disk:
  - directly under QEMU (-kernel/-initrd, the disk as virtio-blk): the baseline;
  - under pagevisor, which owns the disk and emulates a virtio-blk device for
    the guest (pagevisor.conf `disk serial=...`, docs/guest-disk.md).
Both log root in on ttyS0 automatically; PROMPT is the shell's prompt."""
import hashlib
import os
import shutil
import subprocess

from machine_env import machine_facts, qemu_cpu_args

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "build", "debian")

# root's bash prompt on the console (hostname set by mkdebian.sh)
PROMPT = r"root@pvdebian:~# "
# kernel command line for both boots: the root file system on the only virtio disk
CMDLINE = "root=/dev/vda console=ttyS0 quiet panic=-1"
# Under pagevisor the same: QEMU's fw_cfg device (ACPI QEMU0002, ports
# 0x510/0x511) is not the guest's; udev loads its driver, whose `rep insb`
# reads get the empty bus (docs/security.md).
PAGEVISOR_CMDLINE = CMDLINE
# `systemctl is-system-running --wait` prints this once boot finished with no failed unit
RUNNING = r"\nrunning\r*\n"
# the workload's verdict lines (tests/guest/debian/pv-diskcheck)
DISKCHECK_WROTE = r"pv-disk: wrote (/var/pvcheck/f\d+) bytes=(\d+) sha256=([0-9a-f]{64})\r*\n"
DISKCHECK_PASS = r"pv-disk: verify PASS files=(\d+) bytes=(\d+)\r*\n"


# The line pagevisor logs when it gives the guest its disk (docs/guest-disk.md).
DISK_LINE = "disk: guest sees"


def device_model_missing(efi):
    """Why the pagevisor binary `efi` cannot give the guest a disk, or None.
    (Issue 13 items 1-3: the Debian test and bench need them.)"""
    with open(efi, "rb") as f:
        if DISK_LINE.encode() not in f.read():
            return (f"{os.path.relpath(efi, ROOT)} never logs '{DISK_LINE}': the emulated "
                    "virtio-blk device is not wired into pagevisor's start-up")
    return None


def build_image():
    """Build (or reuse) the image; return {'rootfs', 'vmlinuz', 'initrd', 'pvgen'}."""
    subprocess.run([os.path.join(ROOT, "scripts", "mkdebian.sh"), OUT], check=True)
    return {"rootfs": os.path.join(OUT, "rootfs.img"),
            "vmlinuz": os.path.join(OUT, "vmlinuz"),
            "initrd": os.path.join(OUT, "initrd.img"),
            "pvgen": os.path.join(OUT, "pvgen")}


def copy_disk(image, dest):
    """A private, writable copy of the pristine image (sparse)."""
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if os.path.exists(dest):
        os.unlink(dest)
    subprocess.run(["cp", "--sparse=always", image, dest], check=True)
    return dest


def direct_cmd(image, disk, accel="tcg", mem="1G", timeout=0):
    """QEMU booting the Debian kernel directly on `disk` (no pagevisor, no
    firmware): the same machine type, CPU model and disk device as under
    pagevisor, the console on stdio."""
    m = machine_facts()
    cmd = ["qemu-system-x86_64", "-machine", m["PV_MACHINE"], *qemu_cpu_args(accel, m),
           "-m", mem, "-smp", m["PV_CPUS"],
           "-kernel", image["vmlinuz"], "-initrd", image["initrd"], "-append", CMDLINE,
           "-drive", f"if=none,id=disk,format=raw,file={disk}",
           "-device", f"virtio-blk-pci,drive=disk,disable-legacy=on,serial={m['PV_GUEST_DISK_SERIAL']}",
           "-nic", "none", "-display", "none", "-no-reboot",
           "-chardev", "stdio,id=ser0,signal=off", "-serial", "chardev:ser0", "-monitor", "none"]
    if timeout:
        cmd = ["timeout", "--foreground", str(timeout)] + cmd
    return cmd


def pagevisor_conf(memory="1G", frames=None, swap="none", readonly=False):
    """pagevisor.conf booting the image's kernel with the disk QEMU attaches
    with serial PV_GUEST_DISK_SERIAL (scripts/run-qemu.sh --guest-disk)."""
    serial = machine_facts()["PV_GUEST_DISK_SERIAL"]
    conf = ("linux /vmlinuz\ninitrd /initrd.img\n"
            f"options {PAGEVISOR_CMDLINE}\nmemory {memory}\nswap {swap}\n"
            f"disk serial={serial}{',ro' if readonly else ''}\n")
    if frames:
        conf += f"frames {frames}\n"
    return conf


def expected_sha256(pvgen, seed, nbytes):
    """sha256 of `pvgen SEED BYTES`, computed on the host."""
    h = hashlib.sha256()
    with subprocess.Popen([pvgen, str(seed), str(nbytes)], stdout=subprocess.PIPE) as p:
        for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
            h.update(chunk)
    if p.returncode != 0:
        raise RuntimeError(f"{pvgen} {seed} {nbytes} exited with {p.returncode}")
    return h.hexdigest()


def debugfs_sha256(disk, path):
    """sha256 of a file inside the ext4 image, read with debugfs (no mount)."""
    h = hashlib.sha256()
    with subprocess.Popen([debugfs(), "-R", f"cat {path}", disk], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL) as p:
        for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def debugfs():
    return shutil.which("debugfs") or "/sbin/debugfs"


def e2fsck():
    return shutil.which("e2fsck") or "/sbin/e2fsck"

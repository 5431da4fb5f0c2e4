"""Fixtures for end-to-end tests: build pagevisor, make ESP images, boot
them under QEMU (TCG or nested KVM) or Bochs, and read the serial console
with pexpect.

A test whose platform is missing is skipped with the reason; it never
passes without having booted anything."""
import fcntl
import os
import re
import shutil
import subprocess
import sys

import pexpect
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
E2E = os.path.join(BUILD, "e2e")
LOGS = os.path.join(BUILD, "logs")
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
from machine_env import qemu_cpu_args  # noqa: E402

QEMU_TIMEOUT = int(os.environ.get("PV_QEMU_TIMEOUT", "180"))
BOCHS_TIMEOUT = int(os.environ.get("PV_BOCHS_TIMEOUT", "1200"))

# The console monitor (docs/monitor.md): its escape byte (Ctrl-^, as
# vmm/console.h's CONSOLE_ESCAPE), prompt, the boot line announcing it, and
# a line `stats` always prints. Tests that open the monitor use these.
MONITOR_ESCAPE = "\x1e"
MONITOR_PROMPT = r"pv> "
MONITOR_BANNER = r"\[pv\] monitor: press Ctrl-\^ on the console to open it\r*\n"
MONITOR_STATS_LINE = r"frames total \d+ free \d+ used \d+ peak \d+\r*\n"


def _missing(*paths_or_cmds):
    for p in paths_or_cmds:
        if p.startswith("/"):
            if not os.path.exists(p):
                return p
        elif shutil.which(p) is None:
            return p
    return None


def accel_decision():
    out = subprocess.run([os.path.join(ROOT, "scripts/detect-accel.sh")],
                         capture_output=True, text=True, check=True).stdout.strip()
    mode, _, reason = out.partition(" ")
    return mode, reason


@pytest.fixture(scope="session")
def efi():
    # Session scope is per process: under pytest-xdist (scripts/run-tests.sh
    # runs the files on two workers) every worker builds, so one make at a
    # time; the second finds everything up to date and rewrites nothing.
    os.makedirs(BUILD, exist_ok=True)
    with open(os.path.join(BUILD, ".e2e-make.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(["make", "-C", ROOT, "--no-print-directory", "all"], check=True,
                       stdout=subprocess.DEVNULL)
    return os.path.join(BUILD, "pagevisor.efi")


def pytest_collection_modifyitems(config, items):
    """Consoles (build/logs/e2e-NAME-N.log) and ESP images (build/e2e/NAME-N.img)
    are named by the test's name, and files run side by side under
    pytest-xdist: two files must not share a test name."""
    seen = {}
    for item in items:
        other = seen.setdefault(item.name, item)
        if other.fspath != item.fspath:
            raise pytest.UsageError(
                f"e2e test name {item.name!r} is in both {other.nodeid} and {item.nodeid}: "
                f"its logs and images would collide; rename one")


@pytest.fixture
def make_esp(efi, request):
    """make_esp(conf_text, add={src: dest}) -> path of a fresh ESP image."""
    os.makedirs(E2E, exist_ok=True)
    counter = [0]

    def make(conf, add=None):
        counter[0] += 1
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
        conf_path = os.path.join(E2E, f"{base}-{counter[0]}.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        img = os.path.join(E2E, f"{base}-{counter[0]}.img")
        cmd = [os.path.join(ROOT, "scripts/mkesp.sh"), img, "--efi", efi, "--conf", conf_path]
        for src, dest in (add or {}).items():
            cmd += ["--add", f"{src}:{dest}"]
        subprocess.run(cmd, check=True)
        return img

    return make


class Console:
    """A booted machine's serial console."""

    def __init__(self, cmd, logname, timeout):
        os.makedirs(LOGS, exist_ok=True)
        self.log_path = os.path.join(LOGS, logname)
        self.log = open(self.log_path, "w")
        self.child = pexpect.spawn(cmd[0], cmd[1:], cwd=ROOT, encoding="utf-8",
                                   codec_errors="replace", timeout=timeout,
                                   logfile=self.log, dimensions=(50, 200))
        self.lines = []

    def expect_line(self, pattern, timeout=None):
        """Wait for a '[pv]' console line matching the regex; return the match."""
        try:
            self.child.expect(pattern, timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            raise AssertionError(
                f"console never showed {pattern!r} ({type(e).__name__}); "
                f"log: {self.log_path}\n--- last output ---\n{self.tail()}") from None
        return self.child.match

    def features(self):
        """Wait for the backend decision; return {name: value} of the
        '[pv] feature NAME VALUE' lines printed before it."""
        self.expect_line(r"\[pv\] (virtualization: using|error: no usable hardware virtualization)"
                         r"[^\r\n]*\r*\n")
        return dict(re.findall(r"\[pv\] feature (\S+) ([^\r\n]+)\r*\n", self.output()))

    def tail(self, n=40):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def wait_exit(self, timeout=None):
        try:
            self.child.expect(pexpect.EOF, timeout=timeout)
        except pexpect.TIMEOUT:
            raise AssertionError(f"machine did not stop; log: {self.log_path}\n{self.tail()}")
        self.child.close()
        return self.child.exitstatus

    def output(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def close(self):
        if self.child.isalive():
            self.child.terminate(force=True)
        self.log.close()


@pytest.fixture
def qemu(request):
    """qemu(esp, accel='tcg', extra=[...]) -> Console; QEMU stopped at teardown."""
    missing = _missing("qemu-system-x86_64", "/usr/share/OVMF/OVMF_CODE_4M.fd")
    if missing:
        pytest.skip(f"QEMU platform absent: {missing} not found")
    consoles = []

    def boot(esp, accel="tcg", extra=(), mem="1G", swap="none", timeout=QEMU_TIMEOUT,
             blkdebug=None, swap_transitional=False, serial="stdio", guest_disk=None):
        # swap: a disk image attached as a modern virtio-blk device (or a
        # transitional one, with its legacy I/O BAR), or "none";
        # blkdebug: a blkdebug rule file the swap disk is attached through;
        # serial: COM1 on pexpect's terminal ("stdio") or "file:PATH"
        cmd = [os.path.join(ROOT, "scripts/run-qemu.sh"), "--esp", esp, "--serial", serial,
               "--accel", accel, "--mem", mem, "--swap", swap,
               "--timeout", str(timeout)]
        if blkdebug:
            cmd += ["--swap-blkdebug", blkdebug]
        if swap_transitional:
            cmd.append("--swap-transitional")
        if guest_disk:  # IMG[,ro]: the guest's disk (docs/guest-disk.md)
            cmd += ["--guest-disk", guest_disk]
        cmd += ["--", *extra]
        c = Console(cmd, f"e2e-{request.node.name}-{len(consoles)}.log", timeout)
        consoles.append(c)
        return c

    yield boot
    for c in consoles:
        c.close()


@pytest.fixture
def direct_qemu(request):
    """direct_qemu(kernel, initrd, append, mem='512', timeout=120) -> Console of
    the kernel booted directly by QEMU TCG (no pagevisor); stopped at teardown."""
    consoles = []

    def boot(kernel, initrd, append, mem="512", timeout=120):
        cmd = ["qemu-system-x86_64", *qemu_cpu_args("tcg"), "-m", mem,
               "-kernel", kernel, "-initrd", initrd, "-append", append,
               "-nographic", "-no-reboot", "-nic", "none"]
        c = Console(cmd, f"e2e-{request.node.name}-{len(consoles)}.log", timeout)
        consoles.append(c)
        return c

    yield boot
    for c in consoles:
        c.close()


@pytest.fixture
def bochs(request):
    """bochs(esp, cpu=...) -> Console streaming COM1; Bochs stopped at teardown."""
    missing = _missing("bochs-bin", "script", "/usr/share/ovmf/OVMF.fd",
                       "/usr/share/vgabios/vgabios.bin")
    if missing:
        pytest.skip(f"Bochs platform absent: {missing} not found")
    consoles = []

    def boot(esp, cpu="corei7_skylake_x", megs=512, disk=None, console=False, guest_disk=None):
        # disk: a second ATA disk image (ata0-slave), e.g. for swap
        # console: COM1 takes input too (con.child.send reaches the machine)
        serial = os.path.join(LOGS, f"bochs-{request.node.name}-{len(consoles)}.serial")
        cmd = [os.path.join(ROOT, "scripts/run-bochs.sh"), "--esp", esp, "--cpu", cpu,
               "--megs", str(megs), "--serial", serial, "--timeout", str(BOCHS_TIMEOUT)]
        if disk:
            cmd += ["--disk", disk]
        if guest_disk:  # ata1-master, for `disk ata1-master` (docs/guest-disk.md)
            cmd += ["--guest-disk", guest_disk]
        if console:
            cmd += ["--console"]
        # Bochs's own log (e.g. why the CPU refused a VM entry) beside the serial log
        cmd += ["--keep-log", serial[:-len(".serial")] + ".bochs.log"]
        c = Console(cmd, f"e2e-{request.node.name}-{len(consoles)}.log", BOCHS_TIMEOUT)
        consoles.append(c)
        return c

    yield boot
    for c in consoles:
        c.close()


@pytest.fixture(scope="session")
def guest_kit():
    """(vmlinuz, initrd.img) of the default guest (scripts/guest-kit.sh)."""
    missing = _missing("qemu-system-x86_64")
    if missing:
        pytest.skip(f"QEMU absent: {missing} not found")
    out = os.path.join(ROOT, "build", "guest")
    subprocess.run([os.path.join(ROOT, "scripts", "guest-kit.sh"), out], check=True)
    return os.path.join(out, "vmlinuz"), os.path.join(out, "initrd.img")

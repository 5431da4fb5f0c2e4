"""scripts/lib/disk_aio.py: the disks' I/O mode (io_uring where the host
allows it, QEMU's thread pool otherwise), the override and its bad values,
and that the probe agrees with what QEMU itself can open on this host."""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "lib", "disk_aio.py")
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import disk_aio  # noqa: E402


def test_override_wins_over_the_probe():
    def probe():
        raise AssertionError("an explicit mode must not probe")
    for mode in disk_aio.MODES:
        assert disk_aio.aio_decision({"PV_DISK_AIO": mode}, probe) == (mode, f"PV_DISK_AIO={mode}")


@pytest.mark.parametrize("env", [{}, {"PV_DISK_AIO": "auto"}, {"PV_DISK_AIO": ""}])
def test_auto_follows_the_probe_and_says_why(env):
    assert disk_aio.aio_decision(env, lambda: (True, "yes")) == ("io_uring", "yes")
    assert disk_aio.aio_decision(env, lambda: (False, "seccomp")) == ("threads", "seccomp")


def test_a_bad_override_is_named():
    with pytest.raises(disk_aio.DiskAioError, match="PV_DISK_AIO='native'"):
        disk_aio.aio_decision({"PV_DISK_AIO": "native"})
    r = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True,
                       env=dict(os.environ, PV_DISK_AIO="uring"))
    assert r.returncode == 2 and "PV_DISK_AIO='uring'" in r.stderr and r.stdout == ""


def test_the_command_prints_mode_then_reason():
    r = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True,
                       env=dict(os.environ, PV_DISK_AIO="auto"), check=True)
    mode, _, reason = r.stdout.strip().partition(" ")
    assert mode in disk_aio.MODES and reason


def qemu_opens(img, aio):
    """QEMU's exit status and stderr opening img with aio, then quitting."""
    r = subprocess.run(["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display",
                        "none", "-monitor", "stdio", "-drive",
                        f"if=none,id=d,format=raw,file={img},aio={aio}"],
                       input="quit\n", capture_output=True, text=True, timeout=60)
    return r.returncode, r.stderr


def test_the_probe_agrees_with_qemu(tmp_path):
    """What the probe decides is what QEMU can open here: io_uring when the
    probe finds it, and when it does not, QEMU refuses io_uring and the
    fallback opens."""
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 not installed (scripts/deps.sh)")
    img = tmp_path / "disk.img"
    img.write_bytes(b"\0" * 65536)
    ok, reason = disk_aio.probe_io_uring()
    rc, err = qemu_opens(img, "io_uring")
    if ok:
        assert rc == 0, f"probe: {reason}; QEMU: {err}"
    else:
        assert rc != 0 and "io_uring" in err, f"probe: {reason}; QEMU rc {rc}: {err}"
        rc, err = qemu_opens(img, "threads")
        assert rc == 0, err


def test_run_qemu_and_mkdomain_name_a_bad_override(tmp_path):
    """A bad PV_DISK_AIO stops run-qemu.sh (exit 2) and mkdomain.py before
    QEMU or libvirt is involved, naming the variable and its value."""
    esp = tmp_path / "esp.img"
    esp.write_bytes(b"\0" * 4096)
    env = dict(os.environ, PV_DISK_AIO="fast")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "mkdomain.py"),
                        "--esp", str(esp), "--swap", "none", "--accel", "qemu",
                        "--out", str(tmp_path / "d.xml")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "PV_DISK_AIO='fast'" in r.stderr, r.stderr
    assert not (tmp_path / "d.xml").exists()
    if not os.path.exists("/usr/share/OVMF/OVMF_CODE_4M.fd"):
        pytest.skip("OVMF not installed: run-qemu.sh stops earlier, on that (scripts/deps.sh)")
    r = subprocess.run([os.path.join(ROOT, "scripts", "run-qemu.sh"), "--esp", str(esp),
                        "--swap", "none", "--accel", "tcg", "--serial", f"file:{tmp_path}/s.log"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "PV_DISK_AIO='fast'" in r.stderr, r.stderr

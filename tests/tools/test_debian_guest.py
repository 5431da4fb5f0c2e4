"""The Debian guest's host-side pieces: scripts/lib/debian_guest.py (machine
facts, the two boot commands, the pagevisor configuration) and the
generator tests/guest/debian/pvgen.c whose stream the e2e test checks files
against (built here with gcc)."""
import hashlib
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import debian_guest as dg  # noqa: E402


@pytest.fixture(scope="module")
def pvgen(tmp_path_factory):
    out = tmp_path_factory.mktemp("pvgen") / "pvgen"
    subprocess.run(["gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(out),
                    os.path.join(ROOT, "tests", "guest", "debian", "pvgen.c")], check=True)
    return str(out)


def test_machine_facts_name_the_guest_disk_without_trailing_comments():
    facts = dg.machine_facts()
    serial = facts["PV_GUEST_DISK_SERIAL"]
    assert serial and " " not in serial and "#" not in serial
    assert serial != facts["PV_SWAP_SERIAL"]


def test_pagevisor_conf_selects_the_disk_qemu_attaches():
    conf = dg.pagevisor_conf(memory="1G", frames="256M", swap="virtio").splitlines()
    serial = dg.machine_facts()["PV_GUEST_DISK_SERIAL"]
    assert f"disk serial={serial}" in conf
    assert "frames 256M" in conf and "memory 1G" in conf and "swap virtio" in conf
    options = next(line for line in conf if line.startswith("options "))
    assert "root=/dev/vda" in options and "console=ttyS0" in options
    assert f"disk serial={serial},ro" in dg.pagevisor_conf(readonly=True).splitlines()
    assert not any(line.startswith("frames") for line in dg.pagevisor_conf().splitlines())


def test_direct_boot_uses_the_same_disk_device_and_cpu_model():
    image = {"vmlinuz": "/k", "initrd": "/i"}
    facts = dg.machine_facts()
    cmd = dg.direct_cmd(image, "/d.img", accel="tcg", mem="384M")
    assert cmd[cmd.index("-cpu") + 1] == facts["PV_TCG_CPU"]
    assert cmd[cmd.index("-machine") + 1] == facts["PV_MACHINE"]
    assert cmd[cmd.index("-m") + 1] == "384M"
    dev = cmd[cmd.index("-device") + 1]
    assert "virtio-blk-pci" in dev and "disable-legacy=on" in dev
    assert f"serial={facts['PV_GUEST_DISK_SERIAL']}" in dev
    assert "file=/d.img" in cmd[cmd.index("-drive") + 1]
    assert cmd[cmd.index("-append") + 1] == dg.CMDLINE
    assert dg.direct_cmd(image, "/d.img", timeout=60)[:3] == ["timeout", "--foreground", "60"]


def test_pvgen_stream_is_deterministic_per_seed(pvgen):
    a = subprocess.run([pvgen, "7", "100000"], capture_output=True, check=True).stdout
    assert len(a) == 100000
    assert a == subprocess.run([pvgen, "7", "100000"], capture_output=True, check=True).stdout
    b = subprocess.run([pvgen, "8", "100000"], capture_output=True, check=True).stdout
    assert a != b
    # a prefix of a longer stream: the size only cuts it
    assert subprocess.run([pvgen, "7", "70001"], capture_output=True,
                          check=True).stdout == a[:70001]
    assert dg.expected_sha256(pvgen, 7, 100000) == hashlib.sha256(a).hexdigest()


@pytest.mark.parametrize("args", [[], ["0", "10"], ["1"], ["x", "10"], ["1", "-5"], ["1", "10x"]])
def test_pvgen_refuses_bad_usage(pvgen, args):
    r = subprocess.run([pvgen, *args], capture_output=True, text=True)
    assert r.returncode == 2 and "usage: pvgen" in r.stderr and r.stdout == ""

"""scripts/mkdomain.py: the libvirt domain for both accelerator choices
passes virt-xml-validate and carries the facts scripts/machine.env gives
scripts/run-qemu.sh; bad arguments are refused by name."""
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MKDOMAIN = os.path.join(ROOT, "scripts", "mkdomain.py")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import mkdomain  # noqa: E402

FACTS = mkdomain.machine_facts()


def generate(tmp_path, *args):
    esp = tmp_path / "esp.img"
    esp.write_bytes(b"\0" * 4096)
    out = tmp_path / "domain.xml"
    r = subprocess.run([sys.executable, MKDOMAIN, "--esp", str(esp), "--swap",
                        str(tmp_path / "swap.img"), "--log", str(tmp_path / "serial.log"),
                        "--out", str(out), *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out, ET.parse(out).getroot(), r.stderr


def validate(path):
    if shutil.which("virt-xml-validate") is None:
        pytest.skip("virt-xml-validate not installed (scripts/deps.sh libvirt)")
    r = subprocess.run(["virt-xml-validate", str(path), "domain"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "validates" in r.stdout + r.stderr


def test_validator_rejects_a_broken_domain(tmp_path):
    """The check above can fail: <graphics type='none'/> is not valid."""
    path, dom, _ = generate(tmp_path, "--accel", "qemu")
    ET.SubElement(dom.find("devices"), "graphics", type="none")
    ET.ElementTree(dom).write(path)
    if shutil.which("virt-xml-validate") is None:
        pytest.skip("virt-xml-validate not installed (scripts/deps.sh libvirt)")
    r = subprocess.run(["virt-xml-validate", str(path), "domain"], capture_output=True, text=True)
    assert r.returncode != 0


def common_facts(dom, tmp_path):
    assert dom.find("os/type").get("machine") == FACTS["PV_MACHINE"]
    loader = dom.find("os/loader")
    assert loader.text == FACTS["PV_OVMF_CODE"] and loader.get("type") == "pflash"
    assert loader.get("readonly") == "yes"
    nvram = dom.find("os/nvram")
    assert nvram.get("template") == FACTS["PV_OVMF_VARS"]
    assert nvram.text.endswith("pagevisor_VARS.fd")  # a per-domain copy
    assert dom.find("vcpu").text == FACTS["PV_CPUS"]
    assert int(dom.find("memory").text) * 1024 == mkdomain.parse_size(FACTS["PV_MEM"])
    disks = dom.findall("devices/disk")
    esp = [d for d in disks if d.find("target").get("bus") == "sata"]
    assert len(esp) == 1 and esp[0].find("boot").get("order") == "1"
    swap = [d for d in disks if d.find("target").get("bus") == "virtio"]
    assert len(swap) == 1
    # modern-only virtio-blk: libvirt's non-transitional model (no legacy BAR)
    assert swap[0].get("model") == "virtio-non-transitional"
    assert swap[0].find("serial").text == FACTS["PV_SWAP_SERIAL"]
    assert swap[0].find("source").get("file") == str(tmp_path / "swap.img")
    serial = dom.find("devices/serial")
    assert serial.get("type") == "pty"
    assert serial.find("log").get("file") == str(tmp_path / "serial.log")
    assert dom.find("devices/console").get("type") == "pty"
    assert dom.find("devices/graphics") is None
    assert dom.find("on_poweroff").text == "destroy"
    assert dom.find("on_reboot").text == "destroy"


def test_qemu_domain_validates(tmp_path):
    path, dom, err = generate(tmp_path, "--accel", "qemu")
    validate(path)
    assert dom.get("type") == "qemu"
    assert dom.find("cpu").get("mode") == "maximum"   # SVM + NPT under TCG
    assert dom.find("cpu/feature") is None
    common_facts(dom, tmp_path)
    assert "domain type qemu" in err


@pytest.mark.parametrize("feature", ["vmx", "svm"])
def test_kvm_domain_validates(tmp_path, feature):
    path, dom, err = generate(tmp_path, "--accel", "kvm", "--nested-feature", feature)
    validate(path)
    assert dom.get("type") == "kvm"
    cpu = dom.find("cpu")
    assert cpu.get("mode") == "host-passthrough"
    feats = cpu.findall("feature")
    assert [(f.get("policy"), f.get("name")) for f in feats] == [("require", feature)]
    common_facts(dom, tmp_path)


def test_auto_follows_detect_accel(tmp_path):
    decision = subprocess.run([os.path.join(ROOT, "scripts", "detect-accel.sh")],
                              capture_output=True, text=True, check=True).stdout
    path, dom, err = generate(tmp_path)
    assert dom.get("type") == ("kvm" if decision.startswith("kvm ") else "qemu")
    validate(path)


def test_guest_disk_and_no_swap(tmp_path):
    disk = tmp_path / "guest.img"
    disk.write_bytes(b"\0" * 4096)
    path, dom, _ = generate(tmp_path, "--accel", "qemu", "--disk", str(disk), "--swap", "none")
    validate(path)
    virtio = [d for d in dom.findall("devices/disk") if d.find("target").get("bus") == "virtio"]
    assert [d.find("source").get("file") for d in virtio] == [str(disk)]
    assert virtio[0].get("model") == "virtio-non-transitional"


@pytest.mark.parametrize("args, message", [
    (["--esp", "/nonexistent/esp.img"], "--esp /nonexistent/esp.img: no such file"),
    (["--mem", "12X"], "'12X': not a size"),
    (["--mem", "1M"], "at least 64M"),
    (["--name", "a b"], "letters, digits"),
])
def test_bad_arguments_are_named(tmp_path, args, message):
    esp = tmp_path / "esp.img"
    esp.write_bytes(b"\0")
    r = subprocess.run([sys.executable, MKDOMAIN, "--esp", str(esp), "--accel", "qemu", *args],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert message in r.stderr


@pytest.mark.parametrize("mode", ["io_uring", "threads"])
def test_disk_images_carry_the_io_mode(tmp_path, mode):
    disk = tmp_path / "guest.img"
    disk.write_bytes(b"\0" * 4096)
    path, dom, err = generate(tmp_path, "--accel", "qemu", "--disk", str(disk),
                              "--disk-aio", mode)
    validate(path)
    virtio = [d for d in dom.findall("devices/disk") if d.find("target").get("bus") == "virtio"]
    assert [d.find("driver").get("io") for d in virtio] == [mode, mode]
    assert f"disk I/O {mode}: PV_DISK_AIO={mode}" in err


def test_auto_disk_io_follows_the_probe(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
    import disk_aio
    want = "io_uring" if disk_aio.probe_io_uring()[0] else "threads"
    env_mode = os.environ.pop("PV_DISK_AIO", None)
    try:
        _, dom, _ = generate(tmp_path, "--accel", "qemu")
    finally:
        if env_mode is not None:
            os.environ["PV_DISK_AIO"] = env_mode
    swap = [d for d in dom.findall("devices/disk") if d.find("target").get("dev") == "vda"][0]
    assert swap.find("driver").get("io") == want

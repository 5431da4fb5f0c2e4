"""The guest kit's workloads (docs/workloads.md): the memory workloads'
stride and zipf phases, and the application workloads of apps.img (Debian's
redis-server + redis-benchmark, sqlite3), each verifying its own data.

Booted directly by QEMU (no pagevisor, as tests/e2e/test_guest_kit.py), with
initrd.img and apps.img concatenated, and once under pagevisor with its
memory overcommitted. The pv-result lines are checked for their keys and
for numbers, never for a timing value."""
import os
import re
import shutil

import pytest

from conftest import E2E
from test_linux_svm import READY, stats
from test_swap_linux import mkswap_image

BOOT_TIMEOUT = 600
NUM = r"\d+(?:\.\d+)?"


@pytest.fixture(scope="session")
def apps_kit(guest_kit):
    """(vmlinuz, initrd.img, combined initrd.img + apps.img) of the kit."""
    kernel, initrd = guest_kit          # guest-kit.sh also builds apps.img
    apps = os.path.join(os.path.dirname(initrd), "apps.img")
    assert os.path.exists(apps), "scripts/guest-kit.sh did not build apps.img"
    os.makedirs(E2E, exist_ok=True)
    combined = os.path.join(E2E, "initrd-apps.img")
    with open(combined, "wb") as out:
        for part in (initrd, apps):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)
    return kernel, initrd, combined


@pytest.fixture
def boot_direct(direct_qemu):
    """boot_direct(kernel, initrd, append) -> Console of a direct QEMU boot."""
    return lambda kernel, initrd, append, mem="512": \
        direct_qemu(kernel, initrd, append, mem=mem, timeout=BOOT_TIMEOUT)


def result_line(con, workload, test_key, test, keys):
    """Wait for the whole pv-result line of (workload, test) and return its
    {key: value}; every key in keys must be there with a number."""
    m = con.expect_line(rf"pv-result: workload={workload} {test_key}={re.escape(test)}"
                        r"((?: \w+=\S*)+)\r*\n")
    fields = dict(kv.split("=", 1) for kv in m.group(1).split())
    for k in keys:
        assert k in fields, f"pv-result {workload}/{test} has no {k}: {m.group(0)!r}"
        assert re.fullmatch(NUM, fields[k]), f"pv-result {workload}/{test} {k}={fields[k]!r}"
    return fields


def expect_redis(con, mib):
    keys = mib * 1024
    con.expect_line(rf"pv-guest: app redis mib={mib}: {keys} keys of 1024 bytes")
    con.expect_line(rf"apptool: redis-fill keys={keys} bytes={keys * 1024}: OK\r*\n")
    f = result_line(con, "redis", "test", "fill", ("secs", "ops_s", "mib_s", "keys"))
    assert int(f["keys"]) == keys
    f = result_line(con, "redis", "test", "GET", ("secs", "ops_s", "p50_ms", "p99_ms",
                                                   "requests"))
    assert int(f["requests"]) == keys
    assert float(f["ops_s"]) > 0
    con.expect_line(rf"apptool: redis-check keys={keys} sampled=\d+: PASS\r*\n")
    con.expect_line(r"pv-guest: check app: PASS\r*\n")


def expect_sqlite(con, mib):
    rows = mib * 1024
    con.expect_line(rf"pv-guest: app sqlite mib={mib}: {rows} rows of 1000 bytes on tmpfs")
    for test in ("insert", "index", "lookup", "scan"):
        f = result_line(con, "sqlite", "test", test, ("secs", "ops_s", "rows"))
        assert int(f["rows"]) == rows
    con.expect_line(rf"sqlite: {rows} rows, lookups, scan and integrity_check verified\r*\n")
    con.expect_line(r"pv-guest: check app: PASS\r*\n")


def expect_end(con):
    con.expect_line(r"pv-guest: checks done passed=1 failed=0\r*\n")
    con.expect_line(r"pv-guest: power off\r*\n")


@pytest.mark.parametrize("app,mib", [("redis", 16), ("sqlite", 16)])
def test_app_verifies_its_data_direct(boot_direct, apps_kit, app, mib):
    kernel, _, combined = apps_kit
    con = boot_direct(kernel, combined,
                      f"console=ttyS0 quiet pv.check=app pv.app={app} pv.appmib={mib}")
    con.expect_line(READY)
    (expect_redis if app == "redis" else expect_sqlite)(con, mib)
    expect_end(con)
    assert con.wait_exit(timeout=60) == 0
    assert "FAIL" not in con.output()


def test_app_without_apps_img_fails_clearly(boot_direct, apps_kit):
    kernel, initrd, _ = apps_kit
    con = boot_direct(kernel, initrd, "console=ttyS0 quiet pv.check=app pv.app=redis")
    con.expect_line(READY)
    con.expect_line(r"pv-guest: check app: FAIL no apps in this initramfs \(boot initrd.img"
                    r" \+ apps.img concatenated: scripts/guest-apps.sh\)\r*\n")
    con.expect_line(r"pv-guest: checks done passed=0 failed=1\r*\n")
    assert con.wait_exit(timeout=60) == 0


def test_app_unknown_name_fails_clearly(boot_direct, apps_kit):
    kernel, _, combined = apps_kit
    con = boot_direct(kernel, combined,
                      "console=ttyS0 quiet pv.check=app pv.app=nosuch pv.appmib=4")
    con.expect_line(READY)
    con.expect_line(r"pv-guest: check app: FAIL unknown pv.app=nosuch \(known: redis sqlite\)"
                    r"\r*\n")
    con.expect_line(r"pv-guest: checks done passed=0 failed=1\r*\n")
    assert con.wait_exit(timeout=60) == 0


def test_stride_and_zipf_phases_verify_and_report(boot_direct, apps_kit):
    kernel, initrd, _ = apps_kit
    con = boot_direct(kernel, initrd,
                      "console=ttyS0 quiet pv.check=workload pv.workload=32:write+stride+zipf")
    con.expect_line(READY)
    done = {}
    for phase in ("write", "stride", "zipf"):
        m = con.expect_line(rf"workload: phase {phase} bytes=(\d+) secs=[\d.]+ mib_s=[\d.]+\r*\n")
        # the run is named by its last phase
        f = result_line(con, "zipf", "phase", phase, ("secs", "mib_s", "bytes"))
        assert f["bytes"] == m.group(1)
        done[phase] = int(m.group(1))
    # write and stride touch every page once, zipf one access per 4 pages
    assert done == {"write": 32 << 20, "stride": 32 << 20, "zipf": 8 << 20}
    con.expect_line(r"workload: PASS verified_bytes=33554432\r*\n")
    con.expect_line(r"pv-guest: check workload: PASS\r*\n")
    assert con.wait_exit(timeout=60) == 0


@pytest.mark.parametrize("app", ["redis", "sqlite"])
def test_app_under_overcommitted_pagevisor(qemu, make_esp, apps_kit, app):
    """256M of guest memory on 96M of frames, swapping to a virtio disk:
    the app's 48 MiB of data, its programs and the kernel cannot all stay
    resident."""
    kernel, _, combined = apps_kit
    mib = 48
    conf = ("linux /vmlinuz\ninitrd /initrd.img\nmemory 256M\nframes 96M\nswap virtio\n"
            "readahead cluster:8\n"
            f"options console=ttyS0 panic=-1 quiet pv.check=app pv.app={app} pv.appmib={mib}\n")
    esp = make_esp(conf, add={kernel: "vmlinuz", combined: "initrd.img"})
    swap_img = mkswap_image(os.path.join(E2E, f"swap-apps-{app}.img"), size="512M")
    con = qemu(esp, accel="tcg", mem="1G", swap=swap_img, timeout=1500)
    con.expect_line(r"\[pv\] config memory=256M frames=96M overcommit=yes")
    con.expect_line(READY, timeout=600)
    (expect_redis if app == "redis" else expect_sqlite)(con, mib)
    expect_end(con)
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    s = stats(con.output())
    assert s[("swap", "outs")] > 0, "pagevisor never swapped: the run was not overcommitted"

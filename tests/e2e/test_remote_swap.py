"""Remote swap: an overcommitted Linux guest on pagevisor (QEMU TCG, SVM)
whose swap disk is served over NBD on loopback: QEMU's NBD client ->
scripts/nbd-swap.py's delaying relay (0.5 ms each way) -> qemu-nbd -> an
image prepared with mkswap (docs/remote-swap.md). The guest's memcheck
must pass while the hypervisor swaps out and back in through the network
path, and the relay and qemu-nbd must be gone afterwards."""
import importlib.util
import os
import shutil
import threading

import pytest

from conftest import E2E, ROOT
from test_linux_svm import READY, stats
from test_swap_linux import mkswap_image

spec = importlib.util.spec_from_file_location("nbd_swap",
                                              os.path.join(ROOT, "scripts", "nbd-swap.py"))
nbd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nbd)

LATENCY_MS = 0.5
CONF = ("linux /vmlinuz\ninitrd /initrd.img\nmemory 256M\nframes 96M\nswap virtio\n"
        "options console=ttyS0 panic=-1 quiet pv.check=memcheck pv.memcheck=80\n")


def test_overcommitted_guest_swaps_over_nbd_through_the_relay(qemu, make_esp, guest_kit):
    if shutil.which("qemu-nbd") is None:
        pytest.skip("qemu-nbd not installed (package qemu-utils; scripts/deps.sh)")
    kernel, initrd = guest_kit
    esp = make_esp(CONF, add={kernel: "vmlinuz", initrd: "initrd.img"})
    image = mkswap_image(os.path.join(E2E, "swap-nbd.img"), "256M")
    with nbd.NbdSwap(image, latency_ms=LATENCY_MS) as swap:
        server_pid = swap.server.pid
        assert swap.uri.startswith("nbd://127.0.0.1:")
        con = qemu(esp, accel="tcg", mem="1G", swap=swap.uri, timeout=1500)
        con.expect_line(r"\[pv\] config memory=256M frames=96M overcommit=yes")
        con.expect_line(r"\[pv\] swap: virtio-blk \S+: 256 MiB, \d+ slots\r*\n")
        con.expect_line(READY, timeout=600)
        m = con.expect_line(r"memcheck: PASS bytes=(\d+) ", timeout=1500)
        assert int(m.group(1)) > 96 * 1024 * 1024, "memcheck must cover more than the frames"
        con.expect_line(r"pv-guest: check memcheck: PASS\r*\n")
        con.expect_line(r"pv-guest: checks done passed=1 failed=0\r*\n")
        con.expect_line(r"\[pv\] stats end\r*\n")
        con.expect_line(r"\[pv\] power off: status 0 \(success\)")
        assert con.wait_exit() == 0
        carried = swap.relay.stats()
    out = con.output()
    assert "[pv] error" not in out
    s = stats(out)
    assert s[("swap", "outs")] > 0 and s[("swap", "ins")] > 0
    assert s[("frames", "peak")] <= 96 * 256 + 1, "more frames used than configured"
    # the swap traffic crossed the relay: at least a page per swap-out one
    # way and per swap-in the other (NBD headers come on top)
    assert carried["to_server"] >= s[("swap", "outs")] * 4096
    assert carried["to_client"] >= s[("swap", "ins")] * 4096
    assert not os.path.exists(f"/proc/{server_pid}"), "qemu-nbd outlived the run"
    # the relay's own threads only: pytest-xdist's workers start threads of
    # their own while a test runs
    left = [t for t in threading.enumerate() if t.name.startswith(nbd.THREAD_PREFIX)]
    assert not left, f"relay threads left running: {left}"

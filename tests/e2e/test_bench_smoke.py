"""Smoke version of the guest-level benchmark (scripts/bench-guest.py,
`make bench`): one workload at small sizes, under pagevisor (overcommitted,
swapping to its virtio disk) and booted directly (the guest swapping to its
own virtio disk). Asserts only that both complete with verified data and
that the harness reads its figures: never a timing."""
import importlib.util
import os
import types

import pytest

from conftest import BUILD, ROOT, _missing

HARNESS = os.path.join(ROOT, "scripts", "bench-guest.py")


def harness():
    spec = importlib.util.spec_from_file_location("bench_guest", HARNESS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_smoke_completes_with_verified_data(efi, guest_kit):
    missing = _missing("qemu-system-x86_64", "/usr/share/OVMF/OVMF_CODE_4M.fd")
    if missing:
        pytest.skip(f"QEMU platform absent: {missing} not found")
    kernel, initrd = guest_kit
    bg = harness()
    # 160 MiB written and read back in a guest of 256M: 128M of frames (or
    # of RAM, directly booted) cannot hold it, so both sides swap.
    cases = bg.plan(256, fractions=(50,), policies=("cluster:8",))
    cases = [c for c in cases if c.name in ("direct@50%", "pv@50%/cluster:8")]
    assert [c.mode for c in cases] == ["direct", "pv"]
    cfg = types.SimpleNamespace(efi=efi, kernel=kernel, initrd=initrd, accel="tcg",
                                mib=160, phases=["write", "read"], quiet=True,
                                workdir=os.path.join(BUILD, "e2e", "bench-smoke"),
                                swap_mib=512, timeout=900)
    results = [bg.run_case(c, cfg) for c in cases]
    for r in results:
        assert r.ok, f"{r.case.name}: {r.reason} (log {r.log})"
        assert set(r.phases) == {"write", "read"}, f"{r.case.name}: phases {r.phases}"
        assert r.uptime > 0, f"{r.case.name}: no 'pv-guest: ready' line (log {r.log})"
    direct, pv = results
    text = open(direct.log, errors="replace").read()
    assert "pv-guest: swapon vda: OK" in text, "the direct guest did not swap to its disk"
    assert pv.stats.get(("swap", "outs"), 0) > 0, f"pagevisor never swapped (log {pv.log})"
    assert pv.samples, f"no telemetry samples read (log {pv.log})"
    rows = bg.ratio_rows(results)
    assert {m for m, *_ in rows} == {"write MiB/s", "read MiB/s"}

#!/usr/bin/env python3
"""Guest disk throughput under pagevisor, as a ratio to the same guest booted
directly by QEMU: same Debian image (scripts/mkdebian.sh), same disk file,
same machine type, CPU model and accelerator, in the same run.

The guest runs tests/guest/debian/pv-diskbench: sequential 1 MiB and random
4 KiB requests, read and write, with O_DIRECT on a file of its ext4 root
(so every request reaches the virtio-blk device: QEMU's own in the
baseline, pagevisor's emulated one, backed by QEMU's through pagevisor's
driver, otherwise). Guest memory is not overcommitted here: the numbers are
the disk path's, not swapping's. Timings come from the guest's clock and are
printed, never checked.

usage: tests/bench/bench_disk.py [--mib N] [--randops N] [--accel auto|kvm|tcg]
Exit status 0 with the table; 1 when a boot or the workload failed (the
console log is named); 0 with a line saying why when this tree has no
guest disk device model to measure."""
import argparse
import os
import re
import subprocess
import sys

import pexpect

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import debian_guest as dg  # noqa: E402

BENCH = os.path.join(ROOT, "build", "bench")
LOGS = os.path.join(ROOT, "build", "logs")
# The guest's RAM, both ways. Not 512M: with `swap none` pagevisor then
# sizes its heap for 131072 frames while its pool holds 131073 (the shared
# zero frame), and the swap cache's power-of-two table no longer fits.
GUEST_MEM = "384M"
HOST_MEM = "1G"           # QEMU's machine under pagevisor (pagevisor + the guest's frames)
TIMEOUT = 1800
LINE = re.compile(r"pv-diskbench: (\S+) bs=(\d+) ops=(\d+) bytes=(\d+) usec=(\d+)\r*\n")
TESTS = ("seq-write", "seq-read", "rand-write", "rand-read")


class Failed(Exception):
    pass


def run_guest(cmd, logname, mib, randops):
    """Boot, run pv-diskbench, power off; {test: (bs, ops, bytes, usec)}."""
    os.makedirs(LOGS, exist_ok=True)
    log_path = os.path.join(LOGS, logname)
    with open(log_path, "w") as log:
        child = pexpect.spawn(cmd[0], cmd[1:], cwd=ROOT, encoding="utf-8",
                              codec_errors="replace", timeout=TIMEOUT, logfile=log,
                              dimensions=(50, 200))
        try:
            child.expect(dg.PROMPT)
            child.sendline("systemctl is-system-running --wait")
            child.expect(dg.PROMPT)
            child.sendline(f"pv-diskbench /root/pv-diskbench.dat {mib} {randops}")
            results = {}
            while len(results) < len(TESTS):
                i = child.expect([LINE, r"pv-diskbench: FAIL [^\r\n]*"])
                if i == 1:
                    raise Failed(child.after)
                bs, ops, nbytes, usec = (int(g) for g in child.match.groups()[1:])
                results[child.match.group(1)] = (bs, ops, nbytes, usec)
            child.expect(r"pv-diskbench: done")
            child.expect(dg.PROMPT)
            child.sendline("systemctl poweroff")
            child.expect(pexpect.EOF)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            raise Failed(f"{type(e).__name__} before the benchmark finished; log: {log_path}")
        finally:
            child.close(force=True)
    return results


def rate(test, r):
    bs, ops, nbytes, usec = r
    if test.startswith("seq"):
        return nbytes / (usec / 1e6) / (1 << 20), "MiB/s"
    return ops / (usec / 1e6), "IOPS"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=64, help="file size and sequential volume")
    ap.add_argument("--randops", type=int, default=2000, help="random 4 KiB requests per direction")
    ap.add_argument("--accel", default="auto", choices=("auto", "kvm", "tcg"))
    args = ap.parse_args()

    missing = dg.device_model_missing(os.path.join(ROOT, "build", "pagevisor.efi"))
    if missing:
        print(f"bench_disk: not measured: pagevisor cannot give the guest a disk yet: {missing}")
        return 0
    accel = args.accel
    if accel == "auto":
        accel = subprocess.run([os.path.join(ROOT, "scripts", "detect-accel.sh")],
                               capture_output=True, text=True, check=True).stdout.split()[0]
    image = dg.build_image()
    disk = dg.copy_disk(image["rootfs"], os.path.join(BENCH, "debian-disk.img"))
    conf = os.path.join(BENCH, "debian-bench.conf")
    with open(conf, "w") as f:
        f.write(dg.pagevisor_conf(memory=GUEST_MEM, swap="none"))
    esp = os.path.join(BENCH, "debian-bench-esp.img")
    subprocess.run([os.path.join(ROOT, "scripts", "mkesp.sh"), esp, "--conf", conf,
                    "--add", f"{image['vmlinuz']}:vmlinuz",
                    "--add", f"{image['initrd']}:initrd.img"], check=True)
    try:
        base = run_guest(dg.direct_cmd(image, disk, accel=accel, mem=GUEST_MEM),
                         "bench-disk-direct.log", args.mib, args.randops)
        pv = run_guest([os.path.join(ROOT, "scripts", "run-qemu.sh"), "--esp", esp,
                        "--guest-disk", disk, "--swap", "none", "--accel", accel,
                        "--mem", HOST_MEM, "--serial", "stdio"],
                       "bench-disk-pagevisor.log", args.mib, args.randops)
    except Failed as e:
        print(f"bench_disk: FAILED: {e}")
        return 1

    print(f"guest disk throughput: Debian guest ({GUEST_MEM} RAM), accelerator {accel}, "
          f"O_DIRECT on its ext4 root, {args.mib} MiB sequential, {args.randops} random ops; "
          f"one run each, same disk file")
    print(f"{'test':<11} {'request':>8} {'qemu-direct':>16} {'pagevisor':>16} {'ratio':>7}")
    for test in TESTS:
        b, unit = rate(test, base[test])
        p, _ = rate(test, pv[test])
        bs = base[test][0]
        req = f"{bs >> 20} MiB" if bs >= 1 << 20 else f"{bs >> 10} KiB"
        print(f"{test:<11} {req:>8} {b:>10.1f} {unit:<5} {p:>10.1f} {unit:<5} {p / b:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

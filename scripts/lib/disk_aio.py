#!/usr/bin/env python3
"""How QEMU should do the I/O of the disk images it attaches (pagevisor's swap
disk, the guest's disk, and the baseline guest's swap disk in the benchmark):
io_uring where this host lets a process use it, QEMU's thread pool otherwise.

Why (docs/performance.md, "The swap disk on io_uring"): pagevisor reads a
swapped page synchronously, spinning until the device answers. With QEMU's
default thread pool every request crosses two threads (a worker does the
read, the main loop completes it), about 90 µs a 4 KiB read on this kind of
machine; with io_uring a read the host's page cache holds completes in the
submitting call. A guest that swaps by itself halts during that wait, so the
choice matters most to pagevisor; the benchmark gives its baseline the same.

io_uring can be missing (a kernel before 5.1), switched off
(kernel.io_uring_disabled) or filtered (a container's seccomp profile); QEMU
would then refuse to start, so the decision is a probe: create a ring as QEMU
does and close it. PV_DISK_AIO=threads|io_uring overrides the probe (auto,
or unset, probes).

    disk_aio.py          prints "<mode> <reason>" (mode: io_uring | threads)
"""
import ctypes
import errno
import os
import sys

MODES = ("io_uring", "threads")
SYS_IO_URING_SETUP = 425     # x86-64 (and every architecture's new-syscall number)
IO_URING_PARAMS_SIZE = 120   # struct io_uring_params
QEMU_RING_ENTRIES = 128      # QEMU's block/io_uring.c MAX_ENTRIES


class DiskAioError(ValueError):
    """PV_DISK_AIO names no mode: the message says which value and why."""


def probe_io_uring(entries=QEMU_RING_ENTRIES):
    """(True, reason) when this process can create an io_uring of entries
    entries, (False, reason naming the errno) when it cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError as e:
        return False, f"no C library to probe io_uring with ({e})"
    params = ctypes.create_string_buffer(IO_URING_PARAMS_SIZE)
    fd = libc.syscall(ctypes.c_long(SYS_IO_URING_SETUP), ctypes.c_uint(entries), params)
    if fd >= 0:
        os.close(fd)
        return True, "the host kernel offers io_uring to this process"
    err = ctypes.get_errno()
    why = {errno.ENOSYS: "the kernel has no io_uring (before 5.1, or built without it)",
           errno.EPERM: "io_uring is forbidden here (kernel.io_uring_disabled, or a "
                        "seccomp filter such as a container's)",
           errno.ENOMEM: "no memory for a ring (RLIMIT_MEMLOCK on kernels before 5.12)"}
    return False, why.get(err, f"io_uring_setup failed: {os.strerror(err)} (errno {err})")


def aio_decision(env=None, probe=probe_io_uring):
    """(mode, reason): the explicit PV_DISK_AIO, or the probe's answer."""
    env = os.environ if env is None else env
    want = env.get("PV_DISK_AIO", "auto") or "auto"
    if want in MODES:
        return want, f"PV_DISK_AIO={want}"
    if want != "auto":
        raise DiskAioError(f"PV_DISK_AIO={want!r}: expected auto, io_uring or threads")
    ok, reason = probe()
    return ("io_uring" if ok else "threads"), reason


def main():
    try:
        mode, reason = aio_decision()
    except DiskAioError as e:
        print(f"disk_aio.py: {e}", file=sys.stderr)
        return 2
    print(mode, reason)
    return 0


if __name__ == "__main__":
    sys.exit(main())

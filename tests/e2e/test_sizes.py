"""Every size boots (issue 10, item 4): a Linux guest under SVM + NPT (QEMU
TCG) at guest memory sizes from the smallest Linux runs in to beyond 4 GiB,
sizes that are not powers of two and sizes one page past one, each with
`frames` equal to `memory` (no swap) and at a quarter of it (swap on a
virtio disk), passes memcheck.

Each case is one boot; memcheck's share is kept small on the big cases
(TCG writes and verifies a few hundred MiB a minute) so the whole matrix
stays within a few minutes. QEMU's -m is what the case needs: the frames,
the hypervisor's own memory (frame descriptors, heap, page tables) and
the firmware's. Frames beyond what one free range of the firmware's
memory map holds come from several ranges (below and above the PCI hole):
the 2G case on a 3G machine needs both.
"""
import os
import re

import pytest

from conftest import E2E
from test_linux_svm import READY, stats
from test_swap_linux import mkswap_image

MIB = 1024 * 1024
PAGE = 4096


def size_bytes(s):
    m = re.fullmatch(r"(\d+)([KMG])", s)
    return int(m.group(1)) << {"K": 10, "M": 20, "G": 30}[m.group(2)]


# (id, memory, frames, qemu -m, memcheck % of MemAvailable)
CASES = [
    # the smallest guest the guest kit's kernel boots in (it is loaded at
    # 16M and asks for 64M of init_size); 24M of frames is overcommit 4:1
    ("96M-all", "96M", "96M", "512M", 50),
    ("96M-quarter", "96M", "24M", "512M", 30),
    # was: heap: no room for swap metadata (swap cache sized for 2^k frames,
    # the core asked for 2^k + 1)
    ("512M-all", "512M", "512M", "1G", 10),
    ("700M-all", "700M", "700M", "1G", 10),
    ("700M-quarter", "700M", "175M", "512M", 30),  # swaps: ~190M checked
    # one page past a power of two: the zero frame makes it 2^18 + 2 frames
    ("1G+4K-all", "1048580K", "1048580K", "2G", 5),
    ("1000M-quarter", "1000M", "250M", "1G", 10),
    # frames beyond the largest free range: below and above the PCI hole
    ("2G-all", "2G", "2G", "3G", 3),
    # guest RAM above 4 GiB (the layout puts what does not fit below 3G at
    # 4G and up)
    ("5G-quarter", "5G", "1280M", "2G", 2),
    ("5G-all", "5G", "5G", "6G", 1),
]


def test_memory_below_what_the_kernel_needs_is_refused_by_name(qemu, make_esp, guest_kit):
    """16M, the smallest `memory` accepted, holds no Debian kernel: the
    guest is refused before it starts, naming the range the kernel needs."""
    kernel, initrd = guest_kit
    conf = ("linux /vmlinuz\ninitrd /initrd.img\nmemory 16M\nswap none\n"
            "options console=ttyS0\n")
    esp = make_esp(conf, add={kernel: "vmlinuz", initrd: "initrd.img"})
    con = qemu(esp, accel="tcg", mem="512M")
    con.expect_line(r"\[pv\] core up: frame pool 16 MiB, 4097 frames")
    con.expect_line(r"\[pv\] error: guest: memory 16M: the kernel needs \[0x[0-9a-f]+, "
                    r"0x[0-9a-f]+\) but usable RAM below 3G ends at 0x[0-9a-f]+\r*\n")
    con.expect_line(r"\[pv\] power off: status 1")
    assert "vcpu: entering the guest" not in con.output()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_size_boots_and_passes_memcheck(qemu, make_esp, guest_kit, case):
    name, memory, frames, qemu_mem, pct = case
    kernel, initrd = guest_kit
    overcommit = frames != memory
    conf = (f"linux /vmlinuz\ninitrd /initrd.img\nmemory {memory}\nframes {frames}\n"
            f"swap {'virtio' if overcommit else 'none'}\n"
            f"options console=ttyS0 panic=-1 quiet pv.check=memcheck pv.memcheck={pct}\n")
    esp = make_esp(conf, add={kernel: "vmlinuz", initrd: "initrd.img"})
    swap = "none"
    if overcommit:
        swap = mkswap_image(os.path.join(E2E, f"swap-sizes-{name}.img"), memory)
    con = qemu(esp, accel="tcg", mem=qemu_mem, swap=swap, timeout=900)
    con.expect_line(r"\[pv\] core up: frame pool \d+ MiB, (\d+) frames [^\r\n]*\r*\n")
    con.expect_line(r"\[pv\] vcpu: entering the guest")
    m = con.expect_line(READY, timeout=600)
    memtotal = int(m.group(2)) * 1024
    # MemTotal: the configured RAM less the kernel's image and reservations
    assert memtotal <= size_bytes(memory), f"MemTotal {memtotal} above memory {memory}"
    # less the kernel's image and init_size (~64M) and its reservations
    # (struct pages alone are 1/64 of RAM)
    assert memtotal > size_bytes(memory) * 15 // 16 - 72 * MIB, f"MemTotal {memtotal} too low"
    con.expect_line(r"memcheck: PASS bytes=(\d+) ", timeout=900)
    con.expect_line(r"pv-guest: checks done passed=1 failed=0")
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    s = stats(con.output())
    # `frames` exactly, plus the shared zero frame
    assert s[("frames", "total")] == size_bytes(frames) // PAGE + 1
    assert s[("frames", "peak")] <= size_bytes(frames) // PAGE + 1
    high = re.search(r"\[pv\] guest ram below-4g=\S+ above-4g=(\S+)\r*\n", con.output())
    assert high and (high.group(1) != "0") == (size_bytes(memory) > 3 * 1024 * MIB)

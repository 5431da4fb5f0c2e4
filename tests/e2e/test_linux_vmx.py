"""The same unmodified Debian Linux guest on pagevisor's Intel VMX + EPT
backend: under Bochs (VMX with EPT emulated) everywhere, and under nested
KVM where the host offers VMX. Every guest RAM page comes through the
stage-2 (EPT-violation) fault path.

Bochs runs about 50 MIPS: a boot takes minutes (most of it the kernel
decompressing itself), so every VMX scenario shares one boot."""
import hashlib
import random
import re
import subprocess

import pytest

from conftest import accel_decision

# the number ends at the newline, or where a kernel message cut in (the
# kernel's printk and /init's write can interleave on the console)
READY = r"pv-guest: ready uptime=(\d+\.\d+) memtotal_kb=(\d+)(?:\r*\n|\[)"
MIB = 1024 * 1024
# Bochs models the UART's baud rate: at Linux's default 9600 baud the boot
# log alone costs minutes, and output still queued when the guest halts is
# lost. 115200 keeps both small.
BOCHS_CONSOLE = "console=ttyS0,115200"
HALTED = r"guest halted with interrupts disabled \(power-off without ACPI\)"


# A multiple of Bochs's cylinder (16 heads x 63 sectors) keeps it all addressable.
GUEST_DISK_BYTES = 16 * 63 * 512 * 16


GUEST_DISK_FILE = "KNOWN.BIN"


def guest_disk_image(path):
    """The guest's disk: a FAT file system (made with dosfstools and mtools,
    no mount) holding GUEST_DISK_FILE, known random bytes. Returns (path,
    sha256 of the image's first MiB, sha256 of the file)."""
    known = random.Random(1234).randbytes(256 * 1024)
    src = path + ".file"
    with open(src, "wb") as f:
        f.write(known)
    with open(path, "wb") as f:
        f.truncate(GUEST_DISK_BYTES)
    subprocess.run(["/sbin/mkfs.fat", path], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["mcopy", "-i", path, src, "::" + GUEST_DISK_FILE], check=True)
    with open(path, "rb") as f:
        head = hashlib.sha256(f.read(MIB)).hexdigest()
    return path, head, hashlib.sha256(known).hexdigest()


def linux_conf(memory, console="console=ttyS0", memcheck=80, extra="",
               checks="meminfo,cpus,memcheck"):
    """The default guest kit: boot, run every check, power off."""
    return (f"linux /vmlinuz\ninitrd /initrd.img\nmemory {memory}\n"
            f"options {console} panic=-1 pv.check={checks} "
            f"pv.memcheck={memcheck}\n{extra}")


def stats(output):
    """{('exit', 'cpuid'): 12, ('fault', 'zero-map'): 40, ...} from the final block."""
    return {(group, name): int(value) for group, name, value in
            re.findall(r"\[pv\] stats (\S+) (\S+) (\d+)\r*\n", output)}


def monitor_session(con):
    """The monitor on VMX: opened while the guest kernel boots (its UART
    driver is not reading yet: the escape is found by the input poll after
    exits, stage-2 faults here, the preemption timer when the guest runs
    without them), `stats` and `gpa`, then continue."""
    con.child.send("\x1e")  # Ctrl-^
    con.expect_line(r"\[pv\] monitor: guest paused[^\r\n]*\r*\n")
    con.expect_line(r"pv> ")
    con.child.sendline("stats")
    con.expect_line(r"frames total \d+ free \d+ used \d+ peak \d+\r*\n")
    m = re.search(r"exit stage2-fault (\d+)\r*\n", con.child.before)
    assert m and int(m.group(1)) > 0, "stats shows no stage-2 fault exits"
    con.expect_line(r"pv> ")
    # The kernel's first page: mapped from the staged image, read-only.
    con.child.sendline("gpa 0x1000000")
    con.expect_line(r"gpa 0x1000000 region \[0x0001000000-0x[0-9a-f]+\) rwx file-private kernel")
    con.expect_line(r"ept L4 \[  0\] 0x[0-9a-f]+ table")
    con.expect_line(r"pv> ")
    con.child.sendline("continue")
    con.expect_line(r"\[pv\] monitor: guest resumed\r*\n")


def check_guest_run(con, memory_mib, stop_reason, probe=False, monitor=False, vdisk=False):
    """From the guest's entry to the machine's power-off: the checks pass
    (with probe: the isolation probe too, before memcheck; with monitor: a
    monitor session while the kernel boots), the guest stops the way its
    platform allows, the statistics show the fault path at work. Returns the
    statistics."""
    con.expect_line(r"\[pv\] vcpu: entering the guest at rip 0x[0-9a-f]+ \(vmx\)")
    if monitor:
        monitor_session(con)
    m = con.expect_line(READY)
    memtotal = int(m.group(2)) * 1024
    # MemTotal is what the kernel got minus its own image and early
    # reservations: below what was configured, never above.
    assert memtotal <= memory_mib * MIB and memtotal > memory_mib * MIB // 2, \
        f"MemTotal {memtotal} for memory {memory_mib}M"
    con.expect_line(r"pv-guest: check meminfo: PASS")
    con.expect_line(r"pv-guest: check cpus: PASS")
    if probe:
        # tests/e2e/test_isolation.py: nothing reachable the guest was not
        # given (ports, PCI, MMIO, MSRs, VMX/SVM instructions)
        m = con.expect_line(r"probe: (PASS checks=\d+|FAIL [^\r\n]*)\r*\n")
        findings = re.findall(r"probe: FINDING [^\r\n]*", con.output())
        assert not findings and m.group(1).startswith("PASS"), \
            "the guest reached what it must not:\n" + "\n".join(findings or [m.group(0)])
        con.expect_line(r"pv-guest: check probe: PASS")
    if vdisk:
        con.expect_line(r"pv-guest: check vdisk: PASS")
    con.expect_line(r"memcheck: PASS bytes=(\d+) ")
    con.expect_line(r"pv-guest: checks done passed=%d failed=0" % (3 + probe + vdisk))
    con.expect_line(r"\[pv\] vcpu: guest stopped: " + stop_reason)
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    out = con.output()
    assert "[pv] error" not in out, re.findall(r"\[pv\] error[^\r\n]*", out)[:5]
    s = stats(out)
    # Demand paging through EPT violations: zero-page maps for reads,
    # fresh frames for writes, the kernel image mapped from the ESP copy.
    assert s.get(("exit", "stage2-fault"), 0) > 0
    assert s.get(("fault", "zero-map"), 0) > 0, "no zero-page mappings recorded"
    assert s.get(("fault", "anon-new"), 0) + s.get(("fault", "anon-huge"), 0) > 0
    assert s.get(("fault", "file-map"), 0) > 0, "kernel image never mapped from the ESP copy"
    assert s.get(("exit", "cpuid"), 0) > 0 and s.get(("exit", "io"), 0) > 0
    assert s[("frames", "peak")] > 0
    return s


def test_linux_boots_under_bochs_vmx(bochs, make_esp, guest_kit):
    # One boot for every VMX scenario, overcommit included: 128M of guest
    # RAM on 80M of host frames, swapping to an ATA disk made with mkswap;
    # the guest's disk (docs/guest-disk.md) on ata1-master behind pagevisor's
    # emulated virtio-blk, read and written by the guest.
    from test_swap_linux import mkswap_image
    from conftest import E2E
    import os
    kernel, initrd = guest_kit
    # The isolation probe runs before memcheck: swapping to the ATA disk it
    # tried to reach must still work afterwards.
    esp = make_esp(linux_conf("128M", console=BOCHS_CONSOLE,
                              extra="frames 80M\nswap ata\nreadahead auto\ndisk ata1-master\n",
                              checks="meminfo,cpus,probe,vdisk,memcheck")
                   .replace("pv.check=", f"pv.vdisk_file={GUEST_DISK_FILE} pv.check="),
                   add={kernel: "vmlinuz", initrd: "initrd.img"})
    gdisk, head, file_sha = guest_disk_image(os.path.join(E2E, "guest-disk-ata.img"))
    con = bochs(esp, disk=mkswap_image(os.path.join(E2E, "swap-ata.img"), "64M"),
                console=True, guest_disk=gdisk)
    con.expect_line(r"\[pv\] virtualization: using vmx\+ept")
    # Bochs's OVMF leaves IA32_FEATURE_CONTROL unlocked: pagevisor locks it.
    con.expect_line(r"\[pv\] vmx: IA32_FEATURE_CONTROL was unlocked \(0x0\): "
                    r"locked with VMX outside SMX")
    con.expect_line(r"\[pv\] vmx: in VMX root operation \(VMCS revision 0x[0-9a-f]+")
    # The Bochs model has EPT A/D, VPID, unrestricted guest and the HLT
    # activity state: all are used.
    con.expect_line(r"\[pv\] vmx: eptp 0x[0-9a-f]+ \(A/D on\), vpid 1, unrestricted guest yes, "
                    r"rdtscp/invpcid/xsaves on/on/on, HLT activity yes")
    # No ACPI under Bochs's OVMF: Linux powers off by halting with
    # interrupts disabled, which pagevisor takes as the guest's end.
    s = check_guest_run(con, 128, HALTED, probe=True, monitor=True, vdisk=True)
    # The guest's disk: its known first MiB read back, the file system
    # mounted and the known file read from it, 1 MiB written at MiB 1 found
    # on the host image afterwards.
    out = con.output()
    assert "[pv] disk: guest sees virtio-blk at 00:" in out
    assert f"pv-guest: vdisk sectors={GUEST_DISK_BYTES // 512} ro=0 head_sha256={head}" in out
    assert f"pv-guest: vdisk file {GUEST_DISK_FILE} sha256={file_sha}" in out
    wrote = re.search(r"pv-guest: vdisk wrote sha256=([0-9a-f]{64}) at MiB 1", out).group(1)
    with open(gdisk, "rb") as f:
        f.seek(MIB)
        assert hashlib.sha256(f.read(MIB)).hexdigest() == wrote
    # The guest's XSETBV (always an exit under VMX) was run for it, and its
    # idle HLTs were resumed in the HLT activity state (the final HLT is the
    # one that stopped it).
    assert s.get(("exit", "xsetbv"), 0) >= 1
    assert s.get(("exit", "hlt"), 0) >= 1
    assert "[pv] acpi: host has no RSDP: guest gets no ACPI tables" in con.output()
    # Overcommit on the ATA swap disk: pages went out and came back intact
    # (memcheck verified them), within the configured frame budget.
    assert "[pv] swap: ata0-slave" in con.output()
    assert s[("swap", "outs")] > 0 and s[("swap", "ins")] > 0
    assert s[("frames", "peak")] <= 80 * 256 + 1
    # code tracking on EPT: the guest's first fetches granted execute
    assert s[("fault", "exec")] > 0 and s[("frames", "code")] > 0
    # the probe's scan was denied and counted (the IDE ports, the PIIX
    # bus-master block at 0xC000 among them)
    assert s[("io", "denied-reads")] > 60000 and s[("msr", "denied-writes")] > 0
    # Background reclaim ran on its tick, bounded by the VMX-preemption
    # timer even while the guest ran without exiting.
    assert "[pv] vmx: preemption timer every 10 ms" in con.output()
    assert s.get(("exit", "preemption-timer"), 0) > 0
    assert re.search(r"\[pv\] stats swap reclaim direct \d+ urgent \d+ ticks [1-9]", con.output())


def test_linux_boots_under_nested_kvm(qemu, make_esp, guest_kit):
    mode, reason = accel_decision()
    if mode != "kvm":
        pytest.skip(f"nested KVM unavailable: {reason}")
    if "VMX" not in reason:
        pytest.skip(f"nested KVM offers SVM, not VMX ({reason}); "
                    "tests/e2e/test_linux_svm.py covers that backend")
    kernel, initrd = guest_kit
    esp = make_esp(linux_conf("256M", memcheck=85),
                   add={kernel: "vmlinuz", initrd: "initrd.img"})
    con = qemu(esp, accel="kvm", mem="1G")
    con.expect_line(r"\[pv\] virtualization: using vmx\+ept")
    con.expect_line(r"\[pv\] vmx: eptp 0x[0-9a-f]+ ")
    # QEMU publishes ACPI tables: the guest powers off through S5.
    check_guest_run(con, 256, r"guest powered off \(ACPI S5\)")

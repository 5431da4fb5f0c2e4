"""pagevisor boots under QEMU + OVMF and reaches its own core.

TCG offers SVM with nested paging (no VMX), so these tests see the AMD
backend chosen. Nested KVM is tested when the host offers it."""
import pytest

from conftest import accel_decision

CORE_UP = r"\[pv\] core up: frame pool (\d+) MiB, (\d+) frames \((\d+) free\)"


def check_start(con):
    con.expect_line(r"\[pv\] pagevisor \S+ starting")
    con.expect_line(r"\[pv\] config memory=64M frames=48M overcommit=yes")


def check_core_boot(con, backend):
    assert f"[pv] virtualization: using {backend}" in con.output()
    con.expect_line(r"\[pv\] memmap: \d+ entries conventional=\d+M")
    con.expect_line(r"\[pv\] exiting boot services")
    con.expect_line(r"\[pv\] boot services exited after \d attempt")
    con.expect_line(r"\[pv\] paging: identity map of \d+ GiB")
    m = con.expect_line(CORE_UP)
    frames = int(m.group(2))
    # 48M of frames were asked for: the pool must hold at least that many.
    # frames 48M: exactly that many frames, plus the shared zero frame
    assert frames == 48 * 256 + 1, f"pool has {frames} frames, config asked for {48 * 256}"
    assert int(m.group(3)) == frames - 1, "only the zero frame may be in use at core up"
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    return con.wait_exit()


CONF = "memory 64M\nframes 48M\nlog info\n"


def test_tcg_core_up_svm(qemu, make_esp):
    con = qemu(make_esp(CONF), accel="tcg")
    check_start(con)
    f = con.features()
    assert f["vendor"] == "AuthenticAMD" and f["vmx"] == "no"
    assert f["svm"] == "yes" and f["svm-disabled"] == "no" and f["npt"] == "yes"
    for name in ("nrip-save", "decode-assists", "flush-by-asid"):
        assert f[name] in ("yes", "no")
    assert check_core_boot(con, "svm+npt") == 0
    out = con.output()
    # the core found ACPI (QEMU publishes tables) and S5 for power-off
    assert "[pv] acpi: xsdt at" in out and "s5 found" in out


def test_tcg_without_virtualization_is_refused(qemu, make_esp):
    # qemu64 without svm: neither VMX+EPT nor SVM+NPT; QEMU uses the last -cpu.
    con = qemu(make_esp(CONF), accel="tcg", extra=["-cpu", "qemu64,-svm"])
    f = con.features()
    assert f["vmx"] == "no" and f["svm"] == "no"
    assert ("[pv] error: no usable hardware virtualization: vmx: not offered by the CPU; "
            "svm: not offered by the CPU") in con.output()
    con.expect_line(r"\[pv\] error: not started; returning to the firmware")
    assert "exiting boot services" not in con.output()


def test_nested_kvm_core_up(qemu, make_esp):
    mode, reason = accel_decision()
    if mode != "kvm":
        pytest.skip(f"nested KVM unavailable: {reason}")
    con = qemu(make_esp(CONF), accel="kvm")
    check_start(con)
    con.features()
    backend = "vmx+ept" if "VMX" in reason else "svm+npt"
    assert check_core_boot(con, backend) == 0


def test_hypervisor_exception_is_reported_with_registers(qemu, make_esp):
    # `selftest exception` makes the core execute UD2 right after "core up":
    # the exception report must name it, give every register, and stop.
    con = qemu(make_esp("memory 64M\nselftest exception\n"), accel="tcg")
    con.expect_line(r"\[pv\] core up:")
    con.expect_line(r"\[pv\] selftest: raising an invalid-opcode exception")
    m = con.expect_line(r"\[pv\] error: EXCEPTION #UD invalid opcode \(vector 6\) "
                        r"error=0x0 at rip=(0x[0-9a-f]+)")
    for regs in ("rax=.* rbx=.* rcx=.* rdx=", "rsi=.* rdi=.* rbp=.* rsp=",
                 "r8 =.* r9 =.* r10=.* r11=", "r12=.* r13=.* r14=.* r15=",
                 "rip=.* cs=0008 rflags=", "cr0=.* cr2=.* cr3=.* cr4=.* efer="):
        con.expect_line(r"\[pv\] error:   " + regs)
    con.expect_line(r"\[pv\] power off: status 1 \(failure\)")
    assert con.wait_exit() == 1
    assert int(m.group(1), 16) != 0

"""pagevisor boots under Bochs (Intel VMX with EPT emulated) and reaches
its own core; a CPU model without EPT is refused by name."""

CONF = "memory 64M\nframes 32M\n"


def test_bochs_core_up_vmx(bochs, make_esp):
    con = bochs(make_esp(CONF))
    con.expect_line(r"\[pv\] pagevisor \S+ starting")
    f = con.features()
    assert f["vendor"] == "GenuineIntel" and f["vmx"] == "yes" and f["svm"] == "no"
    for name in ("ept", "ept-2m", "ept-1g", "ept-ad", "vpid", "unrestricted-guest",
                 "preemption-timer"):
        assert f[name] == "yes", f"feature {name}: {f.get(name)}"
    assert f["invept"] == "single,all"
    assert "[pv] virtualization: using vmx+ept" in con.output()
    con.expect_line(r"\[pv\] exiting boot services")
    m = con.expect_line(r"\[pv\] core up: frame pool \d+ MiB, (\d+) frames .*backend vmx\+ept")
    assert int(m.group(1)) == 32 * 256 + 1
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0


def test_bochs_cpu_without_ept_is_refused(bochs, make_esp):
    # Penryn has VMX but no EPT (no secondary controls).
    con = bochs(make_esp(CONF), cpu="core2_penryn_t9600")
    f = con.features()
    assert f["vmx"] == "yes" and f["ept"] == "no"
    assert "error: no usable hardware virtualization: vmx: no EPT" in con.output()
    con.expect_line(r"\[pv\] error: not started; returning to the firmware")
    assert con.wait_exit() == 1

"""The guest's console output without an exit per byte (config
`console-data`, vmm/console.h), under QEMU TCG (SVM + NPT): the same
verbose Linux boot in the default mode (`pass`: the data port is passed
while nothing waits for the guest) and in `console-data trap` (every byte
an exit), compared by the exits at the console's data port in the final
statistics block. Counts only, never a timing."""
import re

from test_linux_svm import linux_conf

DATA_PORT = "0x3f8"


def io_ports(output):
    """{'0x3f8': 22375, ...}: the final block's busiest ports (the top
    few are listed; the rest are summed as 'other')."""
    return {port: int(n) for port, n in
            re.findall(r"\[pv\] stats io-port (0x[0-9a-f]+) (\d+)\r*\n", output)}


def verbose_boot(qemu, make_esp, guest_kit, extra=""):
    kernel, initrd = guest_kit
    esp = make_esp(linux_conf(checks="meminfo") + extra,
                   add={kernel: "vmlinuz", initrd: "initrd.img"})
    con = qemu(esp, accel="tcg", mem="1G")
    con.expect_line(r"\[pv\] vcpu: entering the guest")
    # The kernel's own log reached the console whole, either way.
    con.expect_line(r"Run /init as init process\r*\n")
    con.expect_line(r"pv-guest: checks done passed=1 failed=0\r*\n")
    con.expect_line(r"\[pv\] vcpu: guest stopped: guest powered off \(ACPI S5\)")
    con.expect_line(r"\[pv\] stats end")
    con.expect_line(r"\[pv\] power off: status 0 \(success\)")
    assert con.wait_exit() == 0
    assert "[pv] error" not in con.output()
    return con.output()


def test_console_output_passes_without_exits(qemu, make_esp, guest_kit):
    strict = verbose_boot(qemu, make_esp, guest_kit, extra="console-data trap\n")
    assert "[pv] config console-data=trap" in strict
    trapped = io_ports(strict)
    # every byte of the kernel log: thousands of exits at the data port
    assert trapped.get(DATA_PORT, 0) > 5000, trapped

    out = verbose_boot(qemu, make_esp, guest_kit)
    assert "console-data" not in out  # the default: pass
    ports = io_ports(out)
    assert ports, "no io-port lines in the final statistics block"
    # The data port may have dropped out of the busiest ports listed: then
    # it took at most as many exits as the least busy port listed.
    passed = ports.get(DATA_PORT, min(ports.values()))
    assert passed * 10 < trapped[DATA_PORT], (passed, trapped[DATA_PORT])

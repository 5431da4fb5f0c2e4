"""The default guest kit (scripts/guest-kit.sh) boots on its own.

These tests boot the Debian kernel + initramfs directly under QEMU TCG,
without pagevisor, so that a failure in pagevisor's guest tests can be told
apart from a broken kit. Lines matched here are the contract documented in
tests/guest/init."""
import pytest


BOOT_TIMEOUT = 120
# the number ends at the newline, or where a kernel message cut in (the
# kernel's printk and /init's write can interleave on the console)
READY = r"pv-guest: ready uptime=(\d+\.\d+) memtotal_kb=(\d+)(?:\r*\n|\[)"
PROMPT = "pv-guest# "


@pytest.fixture
def boot_kit(guest_kit, direct_qemu):
    """boot_kit(append) -> Console on the serial port of a direct QEMU boot."""
    return lambda append: direct_qemu(*guest_kit, append, timeout=BOOT_TIMEOUT)


def expect_ready(con):
    m = con.expect_line(READY)
    assert float(m.group(1)) > 0
    assert int(m.group(2)) > 0, "MemTotal reported as 0"


def expect_power_off(con):
    con.expect_line(r"pv-guest: power off\r*\n")
    con.expect_line(r"reboot: Power down")
    assert con.wait_exit(timeout=30) == 0, "QEMU did not exit cleanly after power-off"


def test_checks_pass_and_power_off(boot_kit):
    con = boot_kit("console=ttyS0 pv.check=meminfo,cpus,memcheck pv.memcheck=50")
    expect_ready(con)
    m = con.expect_line(r"meminfo: MemTotal=(\d+) kB MemFree=(\d+) kB")
    assert int(m.group(1)) > 0 and int(m.group(2)) > 0
    con.expect_line(r"pv-guest: check meminfo: PASS\r*\n")
    con.expect_line(r"cpus: 1 processor\(s\)")
    con.expect_line(r"pv-guest: check cpus: PASS\r*\n")
    m = con.expect_line(r"memcheck: (\d+) bytes \(\d+ MiB\) = 50% of MemAvailable (\d+) kB")
    # 50% of MemAvailable, rounded down to a page (memcheck's arithmetic)
    assert int(m.group(1)) == int(m.group(2)) * 1024 // 100 * 50 // 4096 * 4096
    con.expect_line(r"memcheck: verify2 \d+ MiB in [\d.]+ s \(\d+ MiB/s\): 0 bad words")
    con.expect_line(r"memcheck: PASS bytes=\d+ write=\d+ MiB/s read=\d+ MiB/s")
    con.expect_line(r"pv-guest: check memcheck: PASS\r*\n")
    con.expect_line(r"pv-guest: checks done passed=3 failed=0\r*\n")
    expect_power_off(con)
    assert "FAIL" not in con.output()


def test_shell_without_checks_powers_off_on_exit(boot_kit):
    con = boot_kit("console=ttyS0 quiet")
    expect_ready(con)
    con.expect_line(r"pv-guest: shell \(exit to power off\)")
    con.expect_line(PROMPT)
    con.child.sendline("echo sum=$((6 * 7)) ctty=$(tty)")
    con.expect_line(r"sum=42 ctty=/dev/ttyS0")
    con.expect_line(PROMPT)
    # cttyhack gave the shell a controlling tty: job control is on.
    assert "job control turned off" not in con.output()
    con.child.sendline("exit")
    expect_power_off(con)
    assert "checks done" not in con.output()


def test_failed_check_reported_then_shell(boot_kit):
    con = boot_kit("console=ttyS0 quiet pv.check=meminfo,nosuch pv.shell=1")
    expect_ready(con)
    con.expect_line(r"pv-guest: check meminfo: PASS\r*\n")
    con.expect_line(r"pv-guest: check nosuch: FAIL unknown check[^\r\n]*\r*\n")
    con.expect_line(r"pv-guest: checks done passed=1 failed=1\r*\n")
    con.expect_line(PROMPT)
    con.child.sendline("exit")
    expect_power_off(con)

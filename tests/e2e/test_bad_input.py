"""Bad input is refused with a message naming the problem, before anything
is changed: the app returns to the firmware and never exits boot services.
These do not depend on the vendor, so they run on the fast QEMU platform."""
import pytest


def refused(con, message_regex):
    m = con.expect_line(r"\[pv\] error: " + message_regex)
    con.expect_line(r"\[pv\] error: not started; returning to the firmware")
    assert "exiting boot services" not in con.output()
    return m


@pytest.mark.parametrize("conf,message", [
    ("memory 64M\nmemroy 128M\n", r"pagevisor\.conf:2: unknown key 'memroy'"),
    ("memory 64M\nframes 3X\n", r"pagevisor\.conf:2: frames 3X: not a size"),
    ("memory 64M\nframes 128M\n", r"pagevisor\.conf:2: frames 128M exceeds memory 64M"),
    ("readahead sometimes\n", r"pagevisor\.conf:1: readahead 'sometimes'"),
], ids=["unknown-key", "bad-size", "frames-over-memory", "bad-readahead"])
def test_bad_config_is_named(qemu, make_esp, conf, message):
    refused(qemu(make_esp(conf)), message)


def test_missing_kernel_is_named_by_path(qemu, make_esp):
    con = qemu(make_esp("memory 64M\nlinux /no/such/vmlinuz\n"))
    refused(con, r"pagevisor\.conf:2: linux /no/such/vmlinuz: file not found on the ESP")


def test_frames_larger_than_the_machine_is_refused(qemu, make_esp):
    # 512 MiB machine, 1 GiB of frames asked for: the pool cannot be allocated.
    con = qemu(make_esp("memory 1G\nframes 1G\n"), mem="512M")
    refused(con, r"frames 1G: needs 1024 MiB of host memory for the frame pool, but only "
                 r"\d+ MiB is free")

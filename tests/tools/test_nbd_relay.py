"""scripts/nbd-swap.py: the delaying relay keeps bytes and their order
exactly in both directions (latency 0 and > 0, with and without a rate
cap), forwards half-closes, follows peers that close, and stops without
leaving a thread or a process; qemu-nbd behind it round-trips data written
and read through nbd:// by qemu-io and qemu-img. No timing is asserted."""
import importlib.util
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "nbd-swap.py")

spec = importlib.util.spec_from_file_location("nbd_swap", SCRIPT)
nbd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nbd)

MIB = 1024 * 1024
IO_TIMEOUT = 60  # seconds a test socket may block before the test fails
needs_qemu_utils = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("qemu-nbd", "qemu-io", "qemu-img")),
    reason="qemu-nbd/qemu-io/qemu-img not installed (package qemu-utils; scripts/deps.sh)")


def recv_all(sock):
    """Everything until EOF."""
    parts = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(parts)
        parts.append(data)


class Upstream:
    """A one-connection server on a unix socket running handler(conn)."""

    def __init__(self, tmp_path, handler):
        self.path = str(tmp_path / "up.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.sock.settimeout(IO_TIMEOUT)
        self.result = {}
        self.thread = threading.Thread(target=self._serve, args=(handler,), daemon=True)
        self.thread.start()

    def _serve(self, handler):
        try:
            conn, _ = self.sock.accept()
            conn.settimeout(IO_TIMEOUT)
            with conn:
                handler(conn, self.result)
        except Exception as e:  # reported by join()
            self.result["error"] = e

    def join(self):
        self.thread.join(IO_TIMEOUT)
        assert not self.thread.is_alive(), "upstream handler never finished"
        self.sock.close()
        if "error" in self.result:
            raise self.result["error"]
        return self.result


def client_for(relay):
    c = socket.create_connection(("127.0.0.1", relay.port), timeout=IO_TIMEOUT)
    return c


def relay_threads():
    """The relay's live threads (named THREAD_PREFIX-...); threads of
    pytest or its plugins do not count."""
    return {t for t in threading.enumerate() if t.name.startswith(nbd.THREAD_PREFIX)}


@pytest.fixture
def relay_factory():
    made = []
    before = relay_threads()

    def make(upstream, latency_ms=0.0, bandwidth_mib_s=None):
        r = nbd.Relay(upstream, latency_ms, bandwidth_mib_s).start()
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()
    leftover = {t for t in relay_threads() - before if t.is_alive()}
    assert not leftover, f"relay threads still running after stop: {leftover}"


@pytest.mark.parametrize("latency_ms,cap", [(0.0, None), (2.0, None), (0.5, 64.0)])
def test_large_random_payloads_cross_both_ways_at_once(tmp_path, relay_factory, latency_ms, cap):
    rng = random.Random(1)
    up_data = rng.randbytes(6 * MIB + 123)      # client -> server
    down_data = rng.randbytes(5 * MIB + 77)     # server -> client

    def server(conn, result):
        sender = threading.Thread(target=lambda: (conn.sendall(down_data),
                                                  conn.shutdown(socket.SHUT_WR)))
        sender.start()
        result["got"] = recv_all(conn)
        sender.join()

    up = Upstream(tmp_path, server)
    relay = relay_factory(up.path, latency_ms, cap)
    c = client_for(relay)
    sender = threading.Thread(target=lambda: (c.sendall(up_data), c.shutdown(socket.SHUT_WR)))
    sender.start()
    got_down = recv_all(c)
    sender.join()
    c.close()
    got_up = up.join()["got"]
    assert len(got_up) == len(up_data) and got_up == up_data
    assert len(got_down) == len(down_data) and got_down == down_data
    st = relay.stats()
    assert (st["to_server"], st["to_client"]) == (len(up_data), len(down_data))


@pytest.mark.parametrize("latency_ms", [0.0, 1.0])
def test_many_small_writes_are_echoed_in_order(tmp_path, relay_factory, latency_ms):
    rng = random.Random(2)
    messages = [i.to_bytes(4, "little") + rng.randbytes(rng.randrange(0, 60))
                for i in range(3000)]
    sent = b"".join(messages)

    def echo(conn, result):
        while True:
            data = conn.recv(4096)
            if not data:
                conn.shutdown(socket.SHUT_WR)
                return
            conn.sendall(data)

    up = Upstream(tmp_path, echo)
    relay = relay_factory(up.path, latency_ms)
    c = client_for(relay)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    echoed = {}
    reader = threading.Thread(target=lambda: echoed.setdefault("data", recv_all(c)))
    reader.start()
    for m in messages:
        c.sendall(m)                      # one small segment each
    c.shutdown(socket.SHUT_WR)
    reader.join(IO_TIMEOUT)
    c.close()
    up.join()
    assert echoed["data"] == sent


@pytest.mark.parametrize("latency_ms", [0.0, 3.0])
def test_half_close_is_forwarded_and_the_reply_still_flows(tmp_path, relay_factory, latency_ms):
    request = b"tell me everything" * 100
    reply = random.Random(3).randbytes(2 * MIB)

    def server(conn, result):
        result["request"] = recv_all(conn)   # returns only once the EOF came through
        conn.sendall(reply)                  # this direction is still open
        conn.shutdown(socket.SHUT_WR)

    up = Upstream(tmp_path, server)
    relay = relay_factory(up.path, latency_ms)
    c = client_for(relay)
    c.sendall(request)
    c.shutdown(socket.SHUT_WR)
    assert recv_all(c) == reply
    c.close()
    assert up.join()["request"] == request


def test_upstream_closing_closes_the_client_side(tmp_path, relay_factory):
    def server(conn, result):
        result["first"] = conn.recv(5)
        # close with unread data pending: the kernel resets the connection

    up = Upstream(tmp_path, server)
    relay = relay_factory(up.path, 1.0)
    c = client_for(relay)
    c.sendall(b"hello" + b"x" * 100000)
    try:
        rest = recv_all(c)
    except ConnectionResetError:
        rest = b""
    assert rest == b""
    c.close()
    assert up.join()["first"] == b"hello"
    for _ in range(100):             # the relay notices asynchronously
        if relay.stats()["open"] == 0:
            break
        threading.Event().wait(0.05)
    assert relay.stats()["open"] == 0


def test_unreachable_upstream_closes_the_client(tmp_path, relay_factory):
    relay = relay_factory(str(tmp_path / "nobody.sock"))
    c = client_for(relay)
    try:
        assert recv_all(c) == b""
    except ConnectionResetError:
        pass
    c.close()


def test_stop_tears_down_open_connections(tmp_path, relay_factory):
    def server(conn, result):
        result["got"] = recv_all(conn)   # ends when the relay shuts the connection

    up = Upstream(tmp_path, server)
    relay = relay_factory(up.path, 5.0)
    c = client_for(relay)
    c.sendall(b"partial")
    for _ in range(100):
        if relay.stats()["open"] == 1 and relay.stats()["to_server"] == 7:
            break
        threading.Event().wait(0.05)
    # the accept thread and a reader and a writer per direction, all named
    # so that relay_threads() finds them (the leftover checks rely on it)
    for _ in range(100):
        if len({t for t in relay_threads() if t.is_alive()}) >= 5:
            break
        threading.Event().wait(0.05)
    assert len({t for t in relay_threads() if t.is_alive()}) >= 5, relay_threads()
    relay.stop()                         # the fixture checks no thread is left
    assert relay.stats()["open"] == 0
    assert recv_all(c) == b""
    c.close()
    up.join()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", relay.port), timeout=IO_TIMEOUT)


def test_relay_refuses_bad_parameters(tmp_path):
    with pytest.raises(nbd.NbdSwapError, match="negative"):
        nbd.Relay(str(tmp_path / "x"), latency_ms=-1)
    with pytest.raises(nbd.NbdSwapError, match="positive"):
        nbd.Relay(str(tmp_path / "x"), bandwidth_mib_s=0)


def test_qemu_drive_args():
    assert nbd.qemu_drive_args("nbd://127.0.0.1:10809") == [
        "-drive", "if=none,id=swap,format=raw,file=nbd://127.0.0.1:10809",
        "-device", "virtio-blk-pci,drive=swap,disable-legacy=on,serial=pagevisor-swap"]
    args = nbd.qemu_drive_args("nbd+unix:///?socket=/tmp/a.sock", serial="s1",
                               drive_id="d1", modern_only=False)
    assert args[3] == "virtio-blk-pci,drive=d1,serial=s1"
    for bad in ("/tmp/swap.img", "nbd://h:1,cache=none", "http://x"):
        with pytest.raises(nbd.NbdSwapError, match="not an NBD URI"):
            nbd.qemu_drive_args(bad)


def gone(pid):
    return not os.path.exists(f"/proc/{pid}")


@needs_qemu_utils
@pytest.mark.parametrize("latency_ms", [0.0, 1.0])
def test_nbd_round_trip_through_the_relay(tmp_path, latency_ms):
    image = str(tmp_path / "swap.img")
    blob = random.Random(4).randbytes(MIB)
    src = tmp_path / "blob.bin"
    src.write_bytes(blob)
    with nbd.NbdSwap(image, size=16 * MIB, latency_ms=latency_ms) as swap:
        assert swap.uri.startswith("nbd://127.0.0.1:")
        pid, sockdir = swap.server.pid, swap.server.dir
        subprocess.run(["qemu-io", "-f", "raw", "-c", "write -P 0x5a 8M 1M",
                        "-c", f"write -s {src} 4M 1M", swap.uri],
                       check=True, capture_output=True, timeout=IO_TIMEOUT)
        # qemu-io's read -P fails when a byte differs from the pattern
        r = subprocess.run(["qemu-io", "-f", "raw", "-c", "read -P 0x5a 8M 1M",
                            "-c", "read -P 0 12M 1M", swap.uri],
                           capture_output=True, text=True, timeout=IO_TIMEOUT)
        assert r.returncode == 0 and "Pattern verification failed" not in r.stdout, r.stdout
        copy = tmp_path / "copy.img"
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "raw", swap.uri, str(copy)],
                       check=True, capture_output=True, timeout=IO_TIMEOUT)
        st = swap.relay.stats()
        assert st["to_server"] > 2 * MIB and st["to_client"] > 2 * MIB  # it went through the relay
    data = copy.read_bytes()
    assert len(data) == 16 * MIB
    assert data[4 * MIB:5 * MIB] == blob
    assert data[8 * MIB:9 * MIB] == b"\x5a" * MIB
    with open(image, "rb") as f:             # and it reached the image itself
        f.seek(4 * MIB)
        assert f.read(MIB) == blob
    assert data[4096:4096 + 10] == b"\0" * 10 and b"SWAPSPACE2" in data[:4096]
    assert gone(pid), "qemu-nbd still running after close"
    assert not os.path.exists(sockdir)


@needs_qemu_utils
def test_cli_wraps_a_command_and_returns_its_status(tmp_path):
    image = str(tmp_path / "swap.img")
    r = subprocess.run([sys.executable, SCRIPT, "--image", image, "--size", "8M",
                        "--latency-ms", "0.5", "--",
                        "sh", "-c", 'qemu-io -f raw -c "write -P 0x33 0 64k" "$NBD_SWAP_URI" '
                        '&& qemu-io -f raw -c "read -P 0x33 0 64k" {uri} '
                        # QEMU's older nbd:HOST:PORT form names the same export
                        '&& qemu-io -f raw -c "read -P 0x33 0 64k" "nbd:127.0.0.1:${NBD_SWAP_URI##*:}" '
                        '&& exit 3'],
                       capture_output=True, text=True, timeout=IO_TIMEOUT)
    assert r.returncode == 3, r.stderr
    pid = int(r.stderr.split("qemu-nbd pid ")[1].split()[0])
    assert gone(pid)
    assert "relay carried" in r.stderr
    with open(image, "rb") as f:
        assert f.read(65536) == b"\x33" * 65536


@needs_qemu_utils
def test_cli_serves_until_sigterm(tmp_path):
    image = str(tmp_path / "swap.img")
    p = subprocess.Popen([sys.executable, SCRIPT, "--image", image, "--size", "8M"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        uri = p.stdout.readline().strip()
        assert uri.startswith("nbd://127.0.0.1:"), uri
        subprocess.run(["qemu-io", "-f", "raw", "-c", "read -P 0 1M 64k", uri],
                       check=True, capture_output=True, timeout=IO_TIMEOUT)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=IO_TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    pid = int(err.split("qemu-nbd pid ")[1].split()[0])
    assert gone(pid)


def test_cli_rejects_bad_arguments(tmp_path):
    image = str(tmp_path / "swap.img")
    for args, msg in ((["--latency-ms", "-1"], "must not be negative"),
                      (["--bandwidth-mib-s", "0"], "must be positive"),
                      (["--size", "12Q"], "expected a number"),
                      (["--no-relay", "--latency-ms", "1"], "need the relay")):
        r = subprocess.run([sys.executable, SCRIPT, "--image", image, *args],
                           capture_output=True, text=True, timeout=IO_TIMEOUT)
        assert r.returncode == 2 and msg in r.stderr, (args, r.stderr)


@needs_qemu_utils
def test_cli_reports_a_command_it_cannot_run(tmp_path):
    r = subprocess.run([sys.executable, SCRIPT, "--image", str(tmp_path / "swap.img"),
                        "--size", "8M", "--", str(tmp_path / "no-such-command")],
                       capture_output=True, text=True, timeout=IO_TIMEOUT)
    assert r.returncode == 127 and "cannot run" in r.stderr, r.stderr
    assert gone(int(r.stderr.split("qemu-nbd pid ")[1].split()[0]))


@pytest.mark.skipif(not os.path.exists("/usr/share/OVMF/OVMF_CODE_4M.fd"),
                    reason="OVMF not installed (package ovmf)")
@pytest.mark.parametrize("extra,msg", [
    (["--swap", "nbd://127.0.0.1:1,cache=none"], "must not contain commas"),
    (["--swap", "nbd://127.0.0.1:1", "--swap-blkdebug", "/dev/null"], "needs an image file"),
])
def test_run_qemu_refuses_nbd_uris_it_cannot_attach(tmp_path, extra, msg):
    esp = tmp_path / "esp.img"
    esp.write_bytes(b"")
    r = subprocess.run([os.path.join(ROOT, "scripts", "run-qemu.sh"), "--esp", str(esp),
                        "--accel", "tcg", *extra], capture_output=True, text=True,
                       timeout=IO_TIMEOUT)
    assert r.returncode == 2 and msg in r.stderr, r.stderr

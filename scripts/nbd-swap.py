#!/usr/bin/env python3
"""Serve a swap disk over NBD on loopback, optionally through a delaying relay.

    QEMU's NBD client --TCP 127.0.0.1:PORT--> relay --unix socket--> qemu-nbd --> IMAGE

qemu-nbd (Debian's qemu-utils) exports IMAGE on a unix socket in a private
temporary folder. The relay listens on TCP 127.0.0.1 (a port the kernel
picks, so two runs never race for one) and forwards every connection to
qemu-nbd, holding each chunk of bytes back by a fixed one-way latency per
direction and, when asked, pacing it to a bandwidth cap. QEMU attaches the
printed URI (nbd://127.0.0.1:PORT) as pagevisor's virtio-blk swap disk
through its own NBD client: `scripts/run-qemu.sh --swap URI`.

Why a relay in user space: these machines' kernels have no netem qdisc, so
`tc ... netem delay` is not available even inside a network namespace.
QEMU's throttle filter (-object throttle-group, iops/bps limits) only caps
rates: a request waits for budget, it is never delayed by a fixed time, so
it cannot model a network's round trip. The relay adds latency (and
optionally a rate cap) on the byte stream itself, where a network would.

Latency model (docs/remote-swap.md): every chunk read from one side is
delivered to the other side `latency` after it arrived (a delay line, not
store-and-forward: chunks in flight overlap, so pipelined NBD requests stay
pipelined). A request/reply round trip therefore gains 2 x latency. With a
bandwidth cap a chunk first waits for the link to be free and then takes
len/rate to leave; the latency is added after that. Ordering and bytes are
kept exactly; a half-close (EOF one way) is forwarded after the same delay
and the other direction keeps flowing; a reset on either side closes both.

usage:
  nbd-swap.py --image IMG [--size 1G] [--latency-ms MS] [--bandwidth-mib-s N]
              [--no-relay] [-- COMMAND ARG...]

Without COMMAND: prints the URI on stdout (one line) and serves until
SIGINT or SIGTERM. With COMMAND: runs it with every argument `{uri}`
replaced by the URI and NBD_SWAP_URI in its environment, tears everything
down when it exits, and exits with its status. For example:

  scripts/nbd-swap.py --image build/swap-nbd.img --latency-ms 1 -- \\
      scripts/run-qemu.sh --esp build/esp.img --swap {uri}

--no-relay: QEMU talks to qemu-nbd's unix socket directly
(nbd+unix:///?socket=PATH); --latency-ms and --bandwidth-mib-s need the
relay. IMG is created with mkswap when missing. Only loopback is used.

As a module: NbdSwap(image, latency_ms=...) is a context manager with .uri;
qemu_drive_args(uri) gives QEMU's -drive/-device arguments for a virtio-blk
disk on that URI (for runners that build the QEMU command line themselves).
"""
import argparse
import ctypes
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
from machine_env import machine_facts  # noqa: E402
LOOPBACK = "127.0.0.1"
CHUNK = 64 * 1024            # bytes read from a socket at a time
QUEUE_CHUNKS = 256           # chunks held per direction before the reader waits
POLL_S = 0.1                 # how often blocked threads look at the stop flag
READY_TIMEOUT_S = 10.0       # qemu-nbd must accept connections within this
STOP_TIMEOUT_S = 5.0         # qemu-nbd must exit within this after SIGTERM
PR_SET_PDEATHSIG = 1         # prctl(2): signal a child when its parent dies
MIB = 1024 * 1024
THREAD_PREFIX = "nbd-relay"  # every relay thread's name starts with it (tests count them)
URI_RE = re.compile(r"(nbd|nbd\+tcp|nbd\+unix)://[^,\s]*|nbd:[^,\s]+")


class NbdSwapError(Exception):
    """A problem the user can fix (missing tool, bad argument, server failed)."""


def qemu_drive_args(uri, serial=None, drive_id="swap", modern_only=True):
    """QEMU arguments attaching the NBD export at uri as a virtio-blk disk
    through QEMU's NBD client; serial defaults to pagevisor's swap serial
    (PV_SWAP_SERIAL), modern_only drops the legacy I/O BAR as run-qemu.sh
    does (pagevisor speaks virtio 1.0 only; Linux takes either)."""
    if not URI_RE.fullmatch(uri):
        raise NbdSwapError(f"'{uri}' is not an NBD URI (nbd://HOST:PORT[/EXPORT], "
                           "nbd+unix:///EXPORT?socket=PATH or nbd:HOST:PORT; no commas)")
    if serial is None:
        serial = machine_facts()["PV_SWAP_SERIAL"]
    legacy = ",disable-legacy=on" if modern_only else ""
    return ["-drive", f"if=none,id={drive_id},format=raw,file={uri}",
            "-device", f"virtio-blk-pci,drive={drive_id}{legacy},serial={serial}"]


def parse_size(text):
    """'1G', '256M', '4096' -> bytes."""
    m = re.fullmatch(r"(\d+)([KMG]?)", text.strip().upper())
    if not m:
        raise NbdSwapError(f"size '{text}': expected a number with an optional K, M or G")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]


def make_swap_image(path, size):
    """Create path as a size-byte image prepared with mkswap unless it exists."""
    if os.path.exists(path):
        return
    mkswap = next((p for p in ("/sbin/mkswap", "/usr/sbin/mkswap", shutil.which("mkswap"))
                   if p and os.path.exists(p)), None)
    if mkswap is None:
        raise NbdSwapError("mkswap not found (package util-linux)")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)
    subprocess.run([mkswap, "-q", path], check=True, stdout=subprocess.DEVNULL)


_prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before any fork


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when the thread that started it
    ends (its process exiting, even by SIGKILL, included), so no qemu-nbd
    outlives its owner. Start NbdSwap from a thread that outlives it."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class _Link:
    """One direction's timing: when each chunk may be delivered."""

    def __init__(self, latency_s, rate_bps):
        self.latency_s = latency_s
        self.rate_bps = rate_bps
        self.free_at = 0.0  # when the paced link has sent everything before

    def due(self, nbytes):
        now = time.monotonic()
        if self.rate_bps:
            self.free_at = max(now, self.free_at) + nbytes / self.rate_bps
            now = self.free_at
        return now + self.latency_s


_EOF = object()  # queued when the source half-closed: shut down the sink's write side


class _Connection:
    """A client socket and its upstream socket with one pipe each way: a
    reader thread stamps each chunk with its due time and queues it, a
    writer thread waits until then and sends it. Sockets close when all
    four threads are done."""

    def __init__(self, relay, client, upstream):
        self.relay = relay
        self.socks = (client, upstream)
        self.aborted = threading.Event()
        self.lock = threading.Lock()
        self.running = 4
        self.threads = []
        for src, dst, key in ((client, upstream, "to_server"), (upstream, client, "to_client")):
            q = queue.Queue(QUEUE_CHUNKS)
            link = _Link(relay.latency_s, relay.rate_bps)
            self.threads.append(threading.Thread(target=self._read, args=(src, q, link, key),
                                                 name=f"{THREAD_PREFIX}-{key}-read",
                                                 daemon=True))
            self.threads.append(threading.Thread(target=self._write, args=(dst, q),
                                                 name=f"{THREAD_PREFIX}-{key}-write",
                                                 daemon=True))

    def start(self):
        for t in self.threads:
            t.start()

    def _put(self, q, item):
        while not self.aborted.is_set():
            try:
                q.put(item, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, src, q, link, key):
        try:
            while True:
                try:
                    data = src.recv(CHUNK)
                except OSError:
                    self.abort()
                    break
                if not data:
                    self._put(q, (link.due(0), _EOF))
                    break
                self.relay.count(key, len(data))
                if not self._put(q, (link.due(len(data)), data)):
                    break
        finally:
            self._done()

    def _write(self, dst, q):
        try:
            while True:
                try:
                    due, data = q.get(timeout=POLL_S)
                except queue.Empty:
                    if self.aborted.is_set():
                        break
                    continue
                wait = due - time.monotonic()
                if wait > 0 and self.aborted.wait(wait):
                    break
                try:
                    if data is _EOF:
                        dst.shutdown(socket.SHUT_WR)
                        break
                    dst.sendall(data)
                except OSError:
                    self.abort()
                    break
        finally:
            self._done()

    def abort(self):
        """Tear the connection down: unblock every thread."""
        if self.aborted.is_set():
            return
        self.aborted.set()
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _done(self):
        with self.lock:
            self.running -= 1
            last = self.running == 0
        if last:
            for s in self.socks:
                s.close()
            self.relay.forget(self)

    def join(self, timeout):
        for t in self.threads:
            t.join(timeout)


class Relay:
    """A delaying TCP relay on 127.0.0.1 in front of one upstream address
    (a unix socket path, or a (host, port) pair). latency_ms: one-way delay
    added in each direction; bandwidth_mib_s: a per-direction rate cap
    (None: none)."""

    def __init__(self, upstream, latency_ms=0.0, bandwidth_mib_s=None, port=0):
        if latency_ms < 0:
            raise NbdSwapError(f"latency {latency_ms} ms: must not be negative")
        if bandwidth_mib_s is not None and bandwidth_mib_s <= 0:
            raise NbdSwapError(f"bandwidth {bandwidth_mib_s} MiB/s: must be positive")
        self.upstream = upstream
        self.latency_s = latency_ms / 1000.0
        self.rate_bps = bandwidth_mib_s * MIB if bandwidth_mib_s else None
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((LOOPBACK, port))
        self.listener.listen(16)
        self.listener.settimeout(POLL_S)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.connections = set()
        self.totals = {"to_server": 0, "to_client": 0, "connections": 0}
        self.acceptor = threading.Thread(target=self._accept, name=f"{THREAD_PREFIX}-accept",
                                         daemon=True)

    def start(self):
        self.acceptor.start()
        return self

    def _connect_upstream(self):
        if isinstance(self.upstream, str):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            s.connect(self.upstream)
        except OSError:
            s.close()
            raise
        return s

    def _accept(self):
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            client.settimeout(None)
            # Nagle would hold small NBD replies back: its delay is not ours to add.
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                upstream = self._connect_upstream()
            except OSError as e:
                print(f"nbd-swap: relay: cannot reach the server {self.upstream}: {e}",
                      file=sys.stderr)
                client.close()
                continue
            conn = _Connection(self, client, upstream)
            with self.lock:
                if self.stopping.is_set():
                    client.close()
                    upstream.close()
                    break
                self.connections.add(conn)
                self.totals["connections"] += 1
            conn.start()

    def count(self, key, n):
        with self.lock:
            self.totals[key] += n

    def forget(self, conn):
        with self.lock:
            self.connections.discard(conn)

    def stats(self):
        with self.lock:
            return dict(self.totals, open=len(self.connections))

    def stop(self):
        """Stop accepting, tear down open connections, join every thread."""
        self.stopping.set()
        self.acceptor.join()
        self.listener.close()
        with self.lock:
            conns = list(self.connections)
        for c in conns:
            c.abort()
        for c in conns:
            c.join(STOP_TIMEOUT_S)


class NbdServer:
    """qemu-nbd exporting image (raw) on a unix socket in a private folder."""

    def __init__(self, image, clients=4):
        exe = shutil.which("qemu-nbd")
        if exe is None:
            raise NbdSwapError("qemu-nbd not found (package qemu-utils; scripts/deps.sh)")
        if not os.path.isfile(image):
            raise NbdSwapError(f"image '{image}': no such file")
        self.dir = tempfile.mkdtemp(prefix="pagevisor-nbd.")
        self.socket = os.path.join(self.dir, "nbd.sock")
        self.log_path = os.path.join(self.dir, "qemu-nbd.log")
        self.log = open(self.log_path, "w+")
        # -t: serve client after client; -e: the probe below and QEMU at once
        cmd = [exe, "--format=raw", "--socket", self.socket, "--persistent",
               "--shared", str(clients), os.path.abspath(image)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_die_with_parent)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise NbdSwapError(f"qemu-nbd exited with status {self.proc.returncode}: "
                                   f"{self._log_text()}")
            if os.path.exists(self.socket):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(self.socket)
                    return
                except OSError:
                    pass
                finally:
                    s.close()
            time.sleep(0.05)
        raise NbdSwapError(f"qemu-nbd did not listen on {self.socket} within "
                           f"{READY_TIMEOUT_S:.0f} s: {self._log_text()}")

    def _log_text(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read().strip() or "(no output)"

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class NbdSwap:
    """qemu-nbd on image plus, unless relay=False, the delaying relay in
    front of it. A context manager; .uri is what QEMU attaches."""

    def __init__(self, image, size=None, latency_ms=0.0, bandwidth_mib_s=None, relay=True):
        if not relay and (latency_ms or bandwidth_mib_s):
            raise NbdSwapError("latency and bandwidth need the relay (drop --no-relay)")
        if size is not None:
            make_swap_image(image, size)
        self.server = NbdServer(image)
        self.relay = None
        try:
            if relay:
                self.relay = Relay(self.server.socket, latency_ms, bandwidth_mib_s).start()
        except BaseException:
            self.server.stop()
            raise

    @property
    def uri(self):
        if self.relay:
            return f"nbd://{LOOPBACK}:{self.relay.port}"
        return f"nbd+unix:///?socket={self.server.socket}"

    def close(self):
        try:
            if self.relay:
                self.relay.stop()
        finally:
            self.server.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _parse_args(argv):
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1:]
    else:
        command = []
    p = argparse.ArgumentParser(
        prog="nbd-swap.py", usage="%(prog)s --image IMG [options] [-- COMMAND ARG...]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve a swap image over NBD on loopback (qemu-nbd), optionally "
                    "through a relay that adds one-way latency and a bandwidth cap.",
        epilog="After `--`: a command to run with `{uri}` replaced by the NBD URI "
               "(also in $NBD_SWAP_URI); the server stops when it exits and its "
               "status is returned. Without one: print the URI and serve until "
               "SIGINT/SIGTERM. See docs/remote-swap.md.")
    p.add_argument("--image", required=True, help="the swap image (raw)")
    p.add_argument("--size", default=machine_facts().get("PV_SWAP_SIZE", "1G"),
                   help="size of the image when it must be created with mkswap "
                        "(default: PV_SWAP_SIZE from scripts/machine.env)")
    p.add_argument("--latency-ms", type=float, default=0.0,
                   help="one-way latency the relay adds in each direction (default 0)")
    p.add_argument("--bandwidth-mib-s", type=float, default=None,
                   help="per-direction rate cap of the relay in MiB/s (default: none)")
    p.add_argument("--no-relay", action="store_true",
                   help="no relay: QEMU connects to qemu-nbd's unix socket")
    args = p.parse_args(argv)
    if args.latency_ms < 0:
        p.error(f"--latency-ms {args.latency_ms}: must not be negative")
    if args.bandwidth_mib_s is not None and args.bandwidth_mib_s <= 0:
        p.error(f"--bandwidth-mib-s {args.bandwidth_mib_s}: must be positive")
    try:
        args.size = parse_size(args.size)
    except NbdSwapError as e:
        p.error(str(e))
    return args, command


def _describe(swap):
    if swap.relay:
        r = swap.relay
        cap = f", cap {r.rate_bps / MIB:g} MiB/s" if r.rate_bps else ""
        return f"relay 127.0.0.1:{r.port} (+{r.latency_s * 1000:g} ms each way{cap})"
    return "no relay"


def main(argv):
    args, command = _parse_args(argv)
    stop = threading.Event()
    got = []

    def on_signal(signum, _frame):
        got.append(signum)
        stop.set()

    try:
        swap = NbdSwap(args.image, size=args.size, latency_ms=args.latency_ms,
                       bandwidth_mib_s=args.bandwidth_mib_s, relay=not args.no_relay)
    except NbdSwapError as e:
        print(f"nbd-swap: {e}", file=sys.stderr)
        return 2
    rc = 0
    try:
        print(f"nbd-swap: qemu-nbd pid {swap.server.pid} serving {args.image}, "
              f"{_describe(swap)}: {swap.uri}", file=sys.stderr)
        if not command:
            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
            print(swap.uri, flush=True)
            while not stop.wait(1.0):
                pass
        else:
            env = dict(os.environ, NBD_SWAP_URI=swap.uri)
            argv = [a.replace("{uri}", swap.uri) for a in command]
            try:
                child = subprocess.Popen(argv, env=env, preexec_fn=_die_with_parent)
            except OSError as e:
                print(f"nbd-swap: cannot run {argv[0]}: {e.strerror}", file=sys.stderr)
                return 127
            # The child shares our terminal: a Ctrl-C reaches it directly;
            # we wait for it. A SIGTERM sent to us is passed on.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, lambda s, f: child.send_signal(s))
            rc = child.wait()
            rc = 128 - rc if rc < 0 else rc
    finally:
        if swap.relay:
            st = swap.relay.stats()
            print(f"nbd-swap: relay carried {st['to_server']} bytes to the server and "
                  f"{st['to_client']} back over {st['connections']} connection(s)",
                  file=sys.stderr)
        swap.close()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

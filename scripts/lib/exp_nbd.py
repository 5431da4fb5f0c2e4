"""Remote swap for the experiment runner (issue 14 item 5, contract C):
the swap disk image served over NBD on loopback by scripts/nbd-swap.py,
and the stopping of the children the runner starts."""
import contextlib
import os
import re
import signal
import subprocess
import sys

NBD_SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "nbd-swap.py")
NBD_ADDRESS = re.compile(r"nbd(?::|://)\[?[\w.:-]+\]?:\d+\S*")


@contextlib.contextmanager
def nbd_swap(image, latency_ms, log):
    """Serve image over NBD on loopback with latency_ms of added one-way
    latency: runs `scripts/nbd-swap.py --image IMAGE --latency-ms MS`, which
    prints the address QEMU should use (nbd://HOST:PORT or nbd:HOST:PORT)
    and serves until it gets SIGTERM; yields that address."""
    if not os.path.exists(NBD_SCRIPT):
        raise RuntimeError(f"{NBD_SCRIPT} missing: --swap nbd needs it (issue 14 item 5)")
    errf = open(log, "w")
    proc = subprocess.Popen([sys.executable, NBD_SCRIPT, "--image", image,
                             "--latency-ms", str(latency_ms)],
                            stdout=subprocess.PIPE, stderr=errf, text=True,
                            start_new_session=True)
    try:
        addr = None
        for line in proc.stdout:   # the address is printed before it serves
            m = NBD_ADDRESS.search(line)
            if m:
                addr = m.group(0)
                break
        if addr is None:
            raise RuntimeError(f"nbd-swap.py printed no NBD address (exit {proc.wait()}; "
                               f"see {log})")
        yield addr
    finally:
        stop(proc)
        errf.close()


def stop(proc):
    """End a child this runner started (its own process group)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

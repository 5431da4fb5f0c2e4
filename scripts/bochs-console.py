#!/usr/bin/env python3
"""Relay an interactive console to Bochs's COM1 (used by run-bochs.sh
--console): connect to Bochs's socket-server serial port, copy what the
machine writes to LOG and to standard output, and what arrives on
standard input to the machine.

usage: bochs-console.py PORT LOG [CONNECT_SECONDS]

Bochs waits at start-up until a client connects; this retries for
CONNECT_SECONDS (default 120). A terminal on standard input is put in raw
mode (output processing kept) so single keys such as the monitor's Ctrl-^
go through at once, and restored at the end. Exits when Bochs closes the
port, with status 0; 2 with one line on stderr when it cannot connect.
"""
import os
import select
import signal
import socket
import sys
import termios
import time
import tty


def connect(port, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError as e:
            if time.monotonic() > deadline:
                print(f"bochs-console: cannot connect to COM1 on port {port}: {e.strerror}",
                      file=sys.stderr)
                sys.exit(2)
            time.sleep(0.2)


def main():
    if len(sys.argv) not in (3, 4):
        print("usage: bochs-console.py PORT LOG [CONNECT_SECONDS]", file=sys.stderr)
        return 2
    port, log = int(sys.argv[1]), sys.argv[2]
    # run-bochs.sh ends the relay with SIGTERM: leave the terminal as found.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = connect(port, float(sys.argv[3]) if len(sys.argv) == 4 else 120.0)
    sock.settimeout(None)
    stdin = sys.stdin.fileno()
    saved = None
    if os.isatty(stdin):
        saved = termios.tcgetattr(stdin)
        tty.setraw(stdin)
        mode = termios.tcgetattr(stdin)
        mode[1] = saved[1]  # keep output processing
        termios.tcsetattr(stdin, termios.TCSANOW, mode)
    sources = [sock, stdin]
    try:
        with open(log, "ab", buffering=0) as out:
            while True:
                ready, _, _ = select.select(sources, [], [])
                if sock in ready:
                    data = sock.recv(4096)
                    if not data:
                        break
                    out.write(data)
                    os.write(1, data)
                if stdin in ready:
                    data = os.read(stdin, 1024)
                    if data:
                        sock.sendall(data)
                    else:
                        sources.remove(stdin)
    except (ConnectionError, BrokenPipeError):
        pass
    finally:
        if saved is not None:
            termios.tcsetattr(stdin, termios.TCSANOW, saved)
    return 0


if __name__ == "__main__":
    sys.exit(main())

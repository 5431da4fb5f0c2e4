#!/usr/bin/env python3
"""Split a pagevisor console log (or a live console stream) into the
guest's text, the hypervisor's log and one CSV file per telemetry record
type (docs/monitor.md, "Telemetry").

usage: pvsplit.py [LOG] -o OUTDIR
       LOG      a console log file, or '-' / nothing for standard input
                (e.g. `scripts/run-qemu.sh ... | pvsplit.py -o out`): files
                are written line by line as the stream goes
       OUTDIR   created if missing; gets
                  guest.txt        every other console line (guest, firmware)
                  hypervisor.log   '[pv] ' lines and monitor sessions
                  TYPE.csv         '[pvt] TYPE,...' records, header from the
                                   stream's '[pvt] columns,TYPE,...' record

Lines end in LF or CR LF; terminal escape sequences at the start of a line
(firmware screen control) are ignored when classifying it. A monitor
session (from '[pv] monitor: guest paused' to '[pv] monitor: guest resumed'
or the end of the guest) is hypervisor output, prompts included.
Exit status: 0, or 2 with one line on stderr for a bad argument or a
log that cannot be read.
"""
import argparse
import csv
import os
import re
import sys

LOG_PREFIX = "[pv] "
CSV_PREFIX = "[pvt] "
MONITOR_OPEN = "[pv] monitor: guest paused"
MONITOR_CLOSE = ("[pv] monitor: guest resumed", "[pv] vcpu: guest stopped")
LEADING_ESCAPES = re.compile(r"^(?:\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9])*")


class Splitter:
    """Feed console lines; files appear under outdir as records arrive."""

    def __init__(self, outdir):
        os.makedirs(outdir, exist_ok=True)
        self.outdir = outdir
        self.guest = open(os.path.join(outdir, "guest.txt"), "w")
        self.hv = open(os.path.join(outdir, "hypervisor.log"), "w")
        self.columns = {}       # record type -> column names
        self.writers = {}       # record type -> (file, csv.writer)
        self.in_monitor = False
        self.counts = {}        # record type -> rows written

    def _writer(self, kind):
        if kind not in self.writers:
            name = re.sub(r"[^A-Za-z0-9_-]", "_", kind) or "unnamed"
            f = open(os.path.join(self.outdir, f"{name}.csv"), "w", newline="")
            w = csv.writer(f, lineterminator="\n")
            if kind in self.columns:
                w.writerow(self.columns[kind])
            self.writers[kind] = (f, w)
        return self.writers[kind]

    def _record(self, text):
        fields = next(csv.reader([text]))
        if not fields or not fields[0]:
            return
        kind, rest = fields[0], fields[1:]
        if kind == "columns":
            if rest:
                self.columns[rest[0]] = rest[1:]
            return
        f, w = self._writer(kind)
        w.writerow(rest)
        f.flush()
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def line(self, raw):
        text = raw.rstrip("\n").rstrip("\r")
        bare = LEADING_ESCAPES.sub("", text)
        if bare.startswith(CSV_PREFIX):
            self._record(bare[len(CSV_PREFIX):])
            return
        if bare.startswith(MONITOR_OPEN):
            self.in_monitor = True
        elif bare.startswith(MONITOR_CLOSE):
            self.in_monitor = False
        if bare.startswith(LOG_PREFIX) or self.in_monitor:
            self.hv.write(bare + "\n")
            self.hv.flush()
        else:
            self.guest.write(text + "\n")
            self.guest.flush()

    def close(self):
        self.guest.close()
        self.hv.close()
        for f, _ in self.writers.values():
            f.close()


def split_stream(stream, outdir):
    s = Splitter(outdir)
    try:
        for raw in stream:
            s.line(raw)
    finally:
        s.close()
    return s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log", nargs="?", default="-", help="console log, or - for stdin")
    ap.add_argument("-o", "--outdir", required=True, help="folder for the split files")
    args = ap.parse_args(argv)
    try:
        if args.log == "-":
            stream = io_stdin()
        else:
            stream = open(args.log, encoding="utf-8", errors="replace", newline="\n")
    except OSError as e:
        print(f"pvsplit: {args.log}: {e.strerror}", file=sys.stderr)
        return 2
    try:
        s = split_stream(stream, args.outdir)
    except OSError as e:
        print(f"pvsplit: {args.outdir}: {e.strerror}", file=sys.stderr)
        return 2
    summary = ", ".join(f"{k}.csv {n} rows" for k, n in sorted(s.counts.items()))
    print(f"pvsplit: {args.outdir}: guest.txt, hypervisor.log"
          + (f", {summary}" if summary else ""), file=sys.stderr)
    return 0


def io_stdin():
    import io
    return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="\n")


if __name__ == "__main__":
    sys.exit(main())

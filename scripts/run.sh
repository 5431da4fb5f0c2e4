#!/usr/bin/env bash
# `make run`: build the default guest (scripts/guest-kit.sh), put pagevisor,
# its configuration and the guest on an ESP image, and boot it under QEMU
# with the serial console on this terminal. Ctrl-A x quits QEMU; `exit` in
# the guest shell powers the guest off and pagevisor prints its statistics;
# Ctrl-^ opens pagevisor's monitor (docs/monitor.md).
# The console is also logged to build/logs/serial.log.
#   PAGEVISOR_CONF=FILE make run    boot with another configuration
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
conf=${PAGEVISOR_CONF:-scripts/default.conf}
mkdir -p build/logs
scripts/guest-kit.sh build/guest
scripts/mkesp.sh build/esp.img --conf "$conf" \
    --add build/guest/vmlinuz:vmlinuz --add build/guest/initrd.img:initrd.img
echo "run: booting build/esp.img (config $conf); serial log build/logs/serial.log; Ctrl-A x quits" >&2
cat >&2 <<'BANNER'
run: ------------------------------------------------------------------------
run:  Ctrl-^ (Ctrl-Shift-6) opens pagevisor's monitor: try `stats`, `swap`,
run:  `gpa 0x100000`, `help`; `continue` resumes the guest (docs/monitor.md).
run:  Make the guest swap (default config: 1 GiB guest on 256 MiB of frames):
run:      pv-guest# memcheck 40
run:  `exit` powers the guest off and prints pagevisor's statistics.
run: ------------------------------------------------------------------------
BANNER
exec scripts/run-qemu.sh --esp build/esp.img --log build/logs/serial.log "$@"

#!/usr/bin/env bash
# `make run`: build the ESP with the default configuration and boot it under
# QEMU with the serial console on this terminal (Ctrl-A x quits QEMU).
# The console is also logged to build/logs/serial.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
conf=${PAGEVISOR_CONF:-scripts/default.conf}
mkdir -p build/logs
scripts/mkesp.sh build/esp.img --conf "$conf"
echo "run: booting build/esp.img (config $conf); serial log build/logs/serial.log; Ctrl-A x quits" >&2
exec scripts/run-qemu.sh --esp build/esp.img --log build/logs/serial.log "$@"

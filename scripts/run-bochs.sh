#!/usr/bin/env bash
# Boot an ESP image with pagevisor under Bochs (Intel VMX + EPT emulated).
#
# usage: scripts/run-bochs.sh --esp IMG [options]
#   --esp IMG        the ESP image (attached as the ATA primary master)
#   --serial PATH    COM1 log file (default build/bochs/serial.log); it is
#                    also streamed to stdout while Bochs runs
#   --cpu MODEL      Bochs CPU model (default corei7_skylake_x: VMX+EPT+A/D)
#   --megs N         machine memory in MiB (default 512)
#   --disk IMG       a second ATA disk (ata0-slave), e.g. for swap
#   --guest-disk IMG an ATA disk at ata1-master, for pagevisor's
#                    `disk ata1-master` key (docs/guest-disk.md)
#   --timeout SECS   give up after SECS (default 900; exit 124)
#   --until REGEX    stop when the serial log matches (default: pagevisor's
#                    power-off or not-started line)
#   --keep-log PATH  copy Bochs's own log (CPU messages, e.g. why a VM entry
#                    failed) to PATH when Bochs is stopped
#   --console        COM1 is interactive: this script's standard input goes
#                    to the machine (e.g. the monitor's Ctrl-^), through a
#                    localhost socket (scripts/bochs-console.py); the serial
#                    log and the streaming to stdout are as without it
# Exit status: 0 if pagevisor powered off with success, 1 if it reported
# failure or did not start, 124 on timeout.
#
# Debian's bochs-bin has its debugger compiled in and stops before the
# first instruction unless told to continue (-rc with "c"), and its only
# display libraries need a terminal, so it runs under script(1) with no
# stdin. Bochs does not exit when the guest is done: this script ends it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
esp="" serial="$root/build/bochs/serial.log" cpu=corei7_skylake_x megs=512 disk="" gdisk=""
timeout=900 until='power off: status|not started; returning' keep_log="" console=0
while [ $# -gt 0 ]; do
    case "$1" in
        --esp) esp=$2; shift 2 ;;
        --serial) serial=$2; shift 2 ;;
        --cpu) cpu=$2; shift 2 ;;
        --megs) megs=$2; shift 2 ;;
        --disk) disk=$2; shift 2 ;;
        --guest-disk) gdisk=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --until) until=$2; shift 2 ;;
        --keep-log) keep_log=$2; shift 2 ;;
        --console) console=1; shift ;;
        *) echo "run-bochs.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ -f "$esp" ] || { echo "run-bochs.sh: --esp '$esp': no such image" >&2; exit 2; }
command -v bochs-bin >/dev/null || { echo "run-bochs.sh: bochs-bin missing (package bochs)" >&2; exit 2; }

dir=$(mktemp -d /tmp/pagevisor-bochs.XXXXXX)
mkdir -p "$(dirname "$serial")"
: >"$serial"
esp=$(realpath "$esp")
# Bochs locks disk images with IMG.lock and leaves the lock behind when it
# is killed; a lock no running Bochs holds is stale. Another Bochs may run
# at the same time (make test boots two e2e files at once): only one whose
# configuration names IMG holds its lock.
held_by_bochs() {
    local rc
    for rc in $(pgrep -a -x bochs-bin | grep -oE -- '-f [^ ]+' | cut -d' ' -f2); do
        grep -qF "path=$1," "$rc" 2>/dev/null && return 0
    done
    return 1
}
for img in "$esp" ${disk:+"$(realpath "$disk")"} ${gdisk:+"$(realpath "$gdisk")"}; do
    if [ -e "$img.lock" ] && ! held_by_bochs "$img"; then
        rm -f "$img.lock"
    elif [ -e "$img.lock" ]; then
        echo "run-bochs.sh: $img is in use by another Bochs ($img.lock)" >&2; exit 2
    fi
done
com1="com1: enabled=1, mode=file, dev=$serial"
if [ $console = 1 ]; then
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    com1="com1: enabled=1, mode=socket-server, dev=localhost:$port"
fi
cat >"$dir/bochsrc" <<RC
megs: $megs
cpu: model=$cpu, count=1, ips=200000000
romimage: file=/usr/share/ovmf/OVMF.fd, address=0xffe00000
vgaromimage: file=/usr/share/vgabios/vgabios.bin
display_library: term
pci: enabled=1, chipset=i440fx
ata0-master: type=disk, path=$esp, mode=flat
${disk:+ata0-slave: type=disk, path=$(realpath "$disk"), mode=flat}
${gdisk:+ata1: enabled=1, ioaddr1=0x170, ioaddr2=0x370, irq=15}
${gdisk:+ata1-master: type=disk, path=$(realpath "$gdisk"), mode=flat}
$com1
port_e9_hack: enabled=1
log: $dir/bochs.log
panic: action=fatal
RC
echo c >"$dir/rc"
echo "run-bochs: cpu $cpu, ${megs} MiB, serial log $serial, timeout ${timeout}s" >&2

setsid script -q -c "bochs-bin -q -f $dir/bochsrc -rc $dir/rc" /dev/null \
    </dev/null >"$dir/term.out" 2>&1 &
spid=$!
stop() {
    # script(1) does not pass its end on to Bochs: end bochs-bin itself.
    pkill -f -- "-f $dir/bochsrc" 2>/dev/null || true
    kill "$spid" 2>/dev/null || true
    sleep 0.5
    pkill -9 -f -- "-f $dir/bochsrc" 2>/dev/null || true
    rm -f "$esp.lock" ${disk:+"$(realpath "$disk").lock"} ${gdisk:+"$(realpath "$gdisk").lock"}
}
trap 'stop; [ -z "$keep_log" ] || cp "$dir/bochs.log" "$keep_log" 2>/dev/null || true; rm -rf "$dir"' EXIT
if [ $console = 1 ]; then
    # Bochs waits for this client before it starts; background jobs get
    # /dev/null as stdin unless told otherwise.
    exec 3<&0
    "$here/bochs-console.py" "$port" "$serial" <&3 &
else
    tail -n +1 -f --pid=$$ "$serial" 2>/dev/null &
fi
tpid=$!

rc=124
deadline=$(( $(date +%s) + timeout ))
while [ "$(date +%s)" -lt $deadline ]; do
    if grep -Eq -- "$until" "$serial"; then
        if grep -q 'power off: status 0' "$serial"; then rc=0; else rc=1; fi
        break
    fi
    if ! kill -0 $spid 2>/dev/null; then
        echo "run-bochs: Bochs exited before the expected line; its log:" >&2
        tail -n 20 "$dir/bochs.log" >&2 || true
        rc=1
        break
    fi
    sleep 1
done
sleep 1
kill $tpid 2>/dev/null || true
[ $rc = 124 ] && echo "run-bochs: timed out after ${timeout}s" >&2
exit $rc

#!/usr/bin/env bash
# `make run`: put pagevisor, its configuration and a guest on an ESP image,
# and boot it under QEMU with the serial console on this terminal. Ctrl-A x
# quits QEMU; Ctrl-^ opens pagevisor's monitor (docs/monitor.md).
# The console is also logged to build/logs/serial.log.
#
#   GUEST=kit (default)  the busybox initramfs guest (scripts/guest-kit.sh):
#                        `exit` in its shell powers off and pagevisor prints
#                        its statistics
#   GUEST=debian         Debian bookworm from a disk (scripts/mkdebian.sh,
#                        docs/guest-disk.md): root logs in on the console;
#                        `poweroff` ends it. Its disk, build/debian/disk.img,
#                        keeps what you change; it is made again from the
#                        image when the image is rebuilt.
#   PAGEVISOR_CONF=FILE make run    boot with another configuration
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
guest=${GUEST:-kit}
mkdir -p build/logs
case "$guest" in
kit) ;;
debian)
    conf=${PAGEVISOR_CONF:-scripts/debian.conf}
    scripts/mkdebian.sh build/debian
    disk=build/debian/disk.img
    if [ ! -f "$disk" ] || [ build/debian/rootfs.img -nt "$disk" ]; then
        echo "run: $disk: a fresh copy of build/debian/rootfs.img" >&2
        cp --sparse=always build/debian/rootfs.img "$disk"
    fi
    scripts/mkesp.sh build/esp.img --conf "$conf" \
        --add build/debian/vmlinuz:vmlinuz --add build/debian/initrd.img:initrd.img
    echo "run: booting build/esp.img (config $conf, disk $disk); serial log build/logs/serial.log; Ctrl-A x quits" >&2
    cat >&2 <<'BANNER'
run: ------------------------------------------------------------------------
run:  Debian from its disk: systemd boots to multi-user and root logs in on
run:  the console (root@pvdebian:~#). Try `lsblk`, `free -m`,
run:  `pv-diskcheck 200` (write, drop caches, verify 200 MiB of files),
run:  `pv-diskbench /root/b 64 2000`. Ctrl-^ opens pagevisor's monitor.
run:  `poweroff` shuts Debian down and pagevisor prints its statistics.
run: ------------------------------------------------------------------------
BANNER
    exec scripts/run-qemu.sh --esp build/esp.img --guest-disk "$disk" --log build/logs/serial.log "$@"
    ;;
*) echo "run: GUEST='$guest': expected kit or debian" >&2; exit 2 ;;
esac
conf=${PAGEVISOR_CONF:-scripts/default.conf}
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

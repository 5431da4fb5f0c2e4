#!/usr/bin/env bash
# Boot an ESP image with pagevisor under QEMU (q35 + OVMF).
#
# usage: scripts/run-qemu.sh --esp IMG [options] [-- extra qemu args]
#   --esp IMG        the ESP image (scripts/mkesp.sh)
#   --serial MODE    stdio (default; with Ctrl-A x to quit) | file:PATH
#   --log PATH       also copy the serial console to PATH (stdio mode)
#   --mem SIZE       machine memory (default 1G)
#   --swap IMG|URI|none  virtio-blk disk reserved for swap (default build/swap.img,
#                    created with mkswap if missing); an NBD URI
#                    (nbd://HOST:PORT[/EXPORT], nbd+unix:///EXPORT?socket=PATH,
#                    nbd:HOST:PORT) attaches a disk some NBD server exports,
#                    through QEMU's NBD client, as the same device
#                    (scripts/nbd-swap.py, docs/remote-swap.md)
#   --swap-blkdebug CONF  attach the swap disk through QEMU's blkdebug driver
#                    with this rule file ([inject-error] sections), to fail
#                    chosen sectors' reads or writes
#   --swap-transitional  attach that disk as a transitional virtio device
#                    (legacy I/O BAR too, QEMU's default) instead of modern-only
#   --guest-disk IMG[,ro]  a raw image attached as a modern virtio-blk device
#                    with serial=$PV_GUEST_DISK_SERIAL, for pagevisor's
#                    `disk serial=...` key (docs/guest-disk.md); ,ro: QEMU
#                    opens it read-only
#   --accel MODE     auto (default) | kvm | tcg
#   --timeout SECS   stop QEMU after SECS (exit 124)
# The swap and guest disk images use io_uring where the host allows it, else
# QEMU's thread pool: scripts/lib/disk_aio.py decides, PV_DISK_AIO=io_uring|
# threads overrides.
# Exit status: 0 when pagevisor powered off with success, 1 on its failure
# status (via QEMU's isa-debug-exit device), QEMU's own status otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/machine.env"   # the machine's facts, shared with scripts/mkdomain.py
. "$here/lib/swapimg.sh"
esp="" serial=stdio log="" mem=$PV_MEM swap="$root/build/swap.img" accel=auto timeout=0 blkdebug=
swap_legacy=",disable-legacy=on"
guest_disk=""
while [ $# -gt 0 ]; do
    case "$1" in
        --esp) esp=$2; shift 2 ;;
        --serial) serial=$2; shift 2 ;;
        --log) log=$2; shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --swap) swap=$2; shift 2 ;;
        --swap-blkdebug) blkdebug=$2; shift 2 ;;
        --swap-transitional) swap_legacy=""; shift ;;
        --guest-disk) guest_disk=$2; shift 2 ;;
        --accel) accel=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "run-qemu.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ -f "$esp" ] || { echo "run-qemu.sh: --esp '$esp': no such image" >&2; exit 2; }

ovmf_code=$PV_OVMF_CODE
ovmf_vars=$PV_OVMF_VARS
[ -f "$ovmf_code" ] || { echo "run-qemu.sh: $ovmf_code missing (package ovmf)" >&2; exit 2; }

decision=$("$here/detect-accel.sh")
case "$accel" in
    auto) mode=${decision%% *}; reason=${decision#* } ;;
    kvm|tcg) mode=$accel; reason="requested with --accel $accel" ;;
    *) echo "run-qemu.sh: --accel '$accel': expected auto, kvm or tcg" >&2; exit 2 ;;
esac
if [ "$mode" = kvm ]; then cpu=(-accel kvm -cpu "$PV_KVM_CPU"); else cpu=(-accel tcg -cpu "$PV_TCG_CPU"); fi
echo "run-qemu: accelerator $mode: $reason" >&2

# A private writable copy of the UEFI variable store for every run.
vars=$(mktemp /tmp/pagevisor-vars.XXXXXX)
trap 'rm -f "$vars"' EXIT
cp "$ovmf_vars" "$vars"

# The I/O of the image files behind the swap and guest disks: io_uring where
# this host allows it, else QEMU's thread pool (scripts/lib/disk_aio.py says
# why; PV_DISK_AIO overrides). pagevisor waits for each swap-in read, so the
# per-request latency is its cost (docs/performance.md, "The swap disk on
# io_uring").
aio_decision=$("$here/lib/disk_aio.py") || exit 2
aio=${aio_decision%% *}
echo "run-qemu: disk I/O $aio: ${aio_decision#* }" >&2

disks=(-drive "if=none,id=esp,format=raw,file=$esp" -device "ide-hd,drive=esp,bus=ide.0,bootindex=0")
if [ "$swap" != none ]; then
    case "$swap" in
        nbd:*|nbd+*:*)
            # QEMU parses the URI itself; a comma would end the -drive value
            case "$swap" in *,*) echo "run-qemu.sh: --swap '$swap': an NBD URI must not contain commas" >&2; exit 2 ;; esac
            [ -z "$blkdebug" ] || { echo "run-qemu.sh: --swap-blkdebug needs an image file, not the NBD URI '$swap'" >&2; exit 2; }
            ;;
        *) swap_image "$swap" "$PV_SWAP_SIZE"; swap_aio=",aio=$aio" ;;
    esac
    file="file=$swap${swap_aio:-}"
    if [ -n "$blkdebug" ]; then
        [ -f "$blkdebug" ] || { echo "run-qemu.sh: --swap-blkdebug '$blkdebug': no such file" >&2; exit 2; }
        file="file.driver=blkdebug,file.config=$blkdebug,file.image.filename=$swap${swap_aio:-}"
    fi
    disks+=(-drive "if=none,id=swap,format=raw,$file"
            -device "virtio-blk-pci,drive=swap${swap_legacy},serial=$PV_SWAP_SERIAL")
fi

if [ -n "$guest_disk" ]; then
    gd_file=${guest_disk%,ro} gd_ro=""
    [ "$gd_file" != "$guest_disk" ] && gd_ro=",readonly=on"
    [ -f "$gd_file" ] || { echo "run-qemu.sh: --guest-disk '$gd_file': no such image" >&2; exit 2; }
    disks+=(-drive "if=none,id=gdisk,format=raw,file=$gd_file$gd_ro,aio=$aio"
            -device "virtio-blk-pci,drive=gdisk,disable-legacy=on,serial=$PV_GUEST_DISK_SERIAL")
fi

case "$serial" in
    stdio) con=(-chardev "stdio,id=ser0,mux=on,signal=off${log:+,logfile=$log}"
                -serial chardev:ser0 -mon chardev=ser0,mode=readline) ;;
    file:*) con=(-serial "$serial" -monitor none) ;;
    *) echo "run-qemu.sh: --serial '$serial': expected stdio or file:PATH" >&2; exit 2 ;;
esac

cmd=(qemu-system-x86_64 -machine "$PV_MACHINE" "${cpu[@]}" -m "$mem" -smp "$PV_CPUS"
     -drive "if=pflash,format=raw,readonly=on,file=$ovmf_code"
     -drive "if=pflash,format=raw,file=$vars"
     "${disks[@]}" -nic none -display none -no-reboot
     -device "isa-debug-exit,iobase=$PV_DEBUG_EXIT_IOBASE,iosize=$PV_DEBUG_EXIT_IOSIZE"
     "${con[@]}" "$@")
[ "$timeout" != 0 ] && cmd=(timeout --foreground "$timeout" "${cmd[@]}")
set +e
"${cmd[@]}"
rc=$?
set -e
case $rc in
    "$PV_EXIT_SUCCESS") exit 0 ;;   # DEBUG_EXIT_SUCCESS (0x10 << 1 | 1)
    "$PV_EXIT_FAILURE") exit 1 ;;   # DEBUG_EXIT_FAILURE
    *) exit $rc ;;
esac

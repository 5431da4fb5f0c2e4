#!/usr/bin/env bash
# Build a FAT32 EFI system partition image with mtools (no loop mounts, no
# root). Layout:
#   EFI/BOOT/BOOTX64.EFI      pagevisor (the firmware's default boot path)
#   EFI/BOOT/pagevisor.conf   its configuration, beside the binary
#   /<name>                   extra files (guest kernel, initrd) at the root
#
# usage: scripts/mkesp.sh OUT.img [--efi FILE] [--conf FILE] [--add SRC[:DEST]]...
#   --efi   the binary (default build/pagevisor.efi)
#   --conf  the configuration (default: scripts/default.conf)
#   --add   copy SRC to /DEST on the ESP (DEST defaults to SRC's name)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: mkesp.sh OUT.img [--efi FILE] [--conf FILE] [--add SRC[:DEST]]...}
shift
efi=build/pagevisor.efi
conf="$here/default.conf"
adds=()
while [ $# -gt 0 ]; do
    case "$1" in
        --efi) efi=$2; shift 2 ;;
        --conf) conf=$2; shift 2 ;;
        --add) adds+=("$2"); shift 2 ;;
        *) echo "mkesp.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
for f in "$efi" "$conf"; do
    [ -f "$f" ] || { echo "mkesp.sh: $f: no such file" >&2; exit 1; }
done

# FAT32 needs at least ~33 MiB of clusters; 64 MiB is the smallest size
# OVMF reliably recognises. Grow to fit large guest files.
need=$(( $(stat -c %s "$efi") + 1048576 ))
for a in "${adds[@]+"${adds[@]}"}"; do
    src=${a%%:*}
    [ -f "$src" ] || { echo "mkesp.sh: $src: no such file" >&2; exit 1; }
    need=$(( need + $(stat -c %s "$src") ))
done
mib=$(( need / 1048576 * 2 + 16 ))
[ $mib -lt 64 ] && mib=64

tmp="$out.tmp"
rm -f "$tmp"
mkdir -p "$(dirname "$out")"
mkfs.vfat -F 32 -n PAGEVISOR -C "$tmp" $(( mib * 1024 )) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$tmp" ::/EFI ::/EFI/BOOT
mcopy -i "$tmp" "$efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$tmp" "$conf" ::/EFI/BOOT/pagevisor.conf
for a in "${adds[@]+"${adds[@]}"}"; do
    src=${a%%:*}
    dest=$([ "$a" = "$src" ] && basename "$src" || echo "${a#*:}")
    mcopy -i "$tmp" "$src" "::/${dest#/}"
done
mv "$tmp" "$out"

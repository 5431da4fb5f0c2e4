#!/usr/bin/env bash
# Build the Debian guest: a bookworm root filesystem from Debian packages
# (mmdebstrap, minbase + systemd), as an ext4 disk image, with the
# distribution's own kernel and initramfs beside it for pagevisor's ESP.
#
#   scripts/mkdebian.sh [OUTDIR]        (default OUTDIR: build/debian)
#
# Produces in OUTDIR:
#   rootfs.img   raw ext4 image (label pvroot, sparse, $PV_DEBIAN_DISK_SIZE);
#                boot with root=/dev/vda (a virtio disk) console=ttyS0.
#                Never booted here: callers boot a copy (it is the pristine one).
#   vmlinuz      the image's /boot/vmlinuz-*  (Debian's linux-image-amd64)
#   initrd.img   the image's /boot/initrd.img-* (initramfs-tools, MODULES=list:
#                virtio-pci/blk, ATA, ext4; udev loads them the ordinary way)
#   pvgen        host build of tests/guest/debian/pvgen.c (the test's checksums)
#   stamp        hash of this script and tests/guest/debian/*: the image is
#                rebuilt only when one of them changes (prints nothing then)
#
# What the guest holds: systemd as init, D-Bus (systemctl talks to logind),
# udev, e2fsprogs, procps, kmod; a serial getty on ttyS0 that logs root in
# automatically (root's password is empty, so other consoles log in with a
# bare Enter); hostname pvdebian;
# bracketed paste off (the console's prompt is plain text for tests);
# periodic apt/fstrim/e2scrub timers masked; unneeded kernel module trees
# (sound, GPU, media, wireless, InfiniBand, staging) removed; and in
# /usr/local/bin the test workloads from tests/guest/debian/: pvgen,
# pv-diskcheck, pv-diskbench (static binaries built here with gcc).
#
# Needs root (mmdebstrap's root mode and file ownership in the image; re-runs
# itself through sudo when not root), the network or an apt cache for the
# packages (the machine's apt sources), and: mmdebstrap, e2fsprogs, gcc,
# libc6-dev (scripts/deps.sh debian installs them). About 1.5 minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$root/build/debian}
src=$root/tests/guest/debian
size=${PV_DEBIAN_DISK_SIZE:-2G}
suite=bookworm
packages=systemd-sysv,dbus,udev,kmod,e2fsprogs,procps,linux-image-amd64,initramfs-tools

die() { echo "mkdebian: $*" >&2; exit 1; }
note() { echo "mkdebian: $*" >&2; }

key=$( (cat "$0"; echo "size=$size"; for f in "$src"/*; do echo "== ${f##*/}"; cat "$f"; done) |
       sha256sum | cut -d' ' -f1)
up_to_date() {
    [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$key" ] &&
        [ -f "$out/rootfs.img" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] &&
        [ -x "$out/pvgen" ]
}
up_to_date && exit 0

if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "needs root (mmdebstrap root mode, image file ownership); no sudo"
    exec sudo PV_DEBIAN_DISK_SIZE="$size" "$0" "$out"
fi
for cmd in mmdebstrap mkfs.ext4 gcc; do
    command -v "$cmd" >/dev/null || die "$cmd not found (scripts/deps.sh debian installs it)"
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
# One builder at a time per OUTDIR (a test session and `make run` may race).
exec 9>"$out/.lock"
flock 9
up_to_date && exit 0

work=$(mktemp -d "$out/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/root
mkdir -p "$tree" "$work/bin"

# The workload binaries, static so they need nothing from the image.
for prog in pvgen pv-diskbench; do
    gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o "$work/bin/$prog" "$src/$prog.c"
done

# initramfs-tools reads its configuration when the kernel package's hook
# builds the initramfs, so it must be in place before the kernel installs:
# the essential hook runs after the essential packages, before --include's.
initramfs_conf='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"
printf "MODULES=list\n" > "$1/etc/initramfs-tools/conf.d/pagevisor.conf"
printf "%s\n" virtio_pci virtio_blk ata_piix ahci sd_mod ext4 crc32c_generic \
    > "$1/usr/share/initramfs-tools/modules.d/pagevisor"'

note "building $suite ($packages) with mmdebstrap"
mmdebstrap --variant=minbase --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --essential-hook="$initramfs_conf" \
    "$suite" "$tree" >"$work/mmdebstrap.log" 2>&1 ||
    { tail -20 "$work/mmdebstrap.log" >&2; die "mmdebstrap failed (log above)"; }

kernels=("$tree"/boot/vmlinuz-*)
[ ${#kernels[@]} -eq 1 ] && [ -f "${kernels[0]}" ] ||
    die "expected one kernel in the image's /boot, found: ${kernels[*]}"
kver=${kernels[0]##*/vmlinuz-}
[ -f "$tree/boot/initrd.img-$kver" ] || die "no initrd.img-$kver in the image's /boot"

# --- configuration -----------------------------------------------------------
echo pvdebian > "$tree/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tpvdebian\n' > "$tree/etc/hosts"
printf 'LABEL=pvroot\t/\text4\terrors=remount-ro\t0\t1\n' > "$tree/etc/fstab"
chroot "$tree" passwd -dq root
chroot "$tree" systemd-machine-id-setup >/dev/null 2>&1  # no first-boot prompts
getty=$tree/etc/systemd/system/serial-getty@ttyS0.service.d
mkdir -p "$getty"
cat > "$getty/autologin.conf" <<'EOF'
# Log root in on the serial console without a prompt (scripts/mkdebian.sh).
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 - $TERM
EOF
echo 'set enable-bracketed-paste off' >> "$tree/etc/inputrc"
for unit in apt-daily.timer apt-daily-upgrade.timer fstrim.timer e2scrub_all.timer \
            e2scrub_reap.service; do
    ln -sf /dev/null "$tree/etc/systemd/system/$unit"
done

# Kernel modules no pagevisor guest loads: a smaller image copies faster.
moddir=$tree/usr/lib/modules/$kver/kernel
rm -rf "$moddir/sound" "$moddir/drivers/gpu" "$moddir/drivers/media" \
       "$moddir/drivers/net/wireless" "$moddir/drivers/infiniband" \
       "$moddir/drivers/staging" "$moddir/net/wireless" "$moddir/net/mac80211" \
       "$moddir/drivers/bluetooth" "$moddir/net/bluetooth"
chroot "$tree" depmod -a "$kver"

install -m 0755 "$work/bin/pvgen" "$work/bin/pv-diskbench" "$src/pv-diskcheck" \
    "$tree/usr/local/bin/"

# --- outputs ------------------------------------------------------------------
note "making the ext4 image ($size)"
truncate -s "$size" "$work/rootfs.img"  # mkfs then says nothing about creating it
mkfs.ext4 -q -F -L pvroot -d "$tree" "$work/rootfs.img" "$size"
cp "${kernels[0]}" "$work/vmlinuz"
cp "$tree/boot/initrd.img-$kver" "$work/initrd.img"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$work/pvgen" "$src/pvgen.c"
for f in rootfs.img vmlinuz initrd.img pvgen; do mv "$work/$f" "$out/$f"; done
echo "$kver" > "$out/kernel.version"
echo "$key" > "$out/stamp"
note "done: $out/rootfs.img (kernel $kver, initrd $(( $(stat -c %s "$out/initrd.img") / 1048576 )) MiB)"

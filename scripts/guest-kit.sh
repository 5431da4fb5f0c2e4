#!/usr/bin/env bash
# Build the default guest kit: a stock Debian 12 kernel and a small busybox
# initramfs that runs pagevisor's guest-side checks.
#
#   scripts/guest-kit.sh [OUTDIR]      (default OUTDIR: build/guest)
#
# Produces OUTDIR/vmlinuz and OUTDIR/initrd.img, and through
# scripts/guest-apps.sh OUTDIR/apps.img (docs/workloads.md). Idempotent: when all are up
# to date it prints nothing and exits 0. Everything comes from Debian packages:
#   - kernel: the versioned package linux-image-amd64 depends on (resolved with
#     apt-cache, e.g. linux-image-6.1.0-NN-amd64), fetched with `apt-get
#     download` (works without root), unpacked into OUTDIR/cache, never
#     installed. The network is needed only for that download; `apt-get update`
#     runs only when the package lists are missing (root or sudo required then).
#     A new Debian kernel ABI is picked up on the next run after an apt update.
#   - initramfs: /bin/busybox from busybox-static, tests/guest/init as /init,
#     tests/guest/memcheck.c, probe.c, hostile.c, pvpattern.c (the
#     monitor tests' known pattern) and workload.c (the guest-level
#     benchmark) built with `gcc -static` (libc6-dev), the kernel's own
#     msr.ko (for the probe's /dev/cpu/0/msr) and virtio-blk modules (a
#     directly booted guest's own swap disk, pv.swapon), packed with
#     cpio (newc) + gzip. /dev/console is written as a hand-made cpio entry so
#     no root (mknod) is needed.
# Packages: scripts/deps.sh installs all of them.
#
# Booting the kit (pagevisor's config `options`, or QEMU's -append):
#   console=ttyS0 pv.check=meminfo,cpus,memcheck pv.memcheck=50
# See tests/guest/init for the kernel parameters and the console lines; add
# `quiet` to keep the kernel log off a slow serial console.
# Direct boot without pagevisor (what tests/e2e/test_guest_kit.py does):
#   qemu-system-x86_64 -accel tcg -cpu max -m 512 -nographic -no-reboot \
#     -nic none -kernel build/guest/vmlinuz -initrd build/guest/initrd.img \
#     -append 'console=ttyS0 pv.check=meminfo,cpus,memcheck pv.memcheck=50'
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$root/build/guest}
cache=$out/cache
src=$root/tests/guest
busybox=/bin/busybox
self=$here/guest-kit.sh

die() { echo "guest-kit: $*" >&2; exit 1; }
note() { echo "guest-kit: $*" >&2; }

mkdir -p "$cache"
out=$(cd "$out" && pwd)
cache=$out/cache
# One builder at a time per OUTDIR (parallel test runs share build/guest).
exec 9>"$out/.lock"
flock 9

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root or sudo for: $*"; fi
}

# --- kernel ---------------------------------------------------------------

# Name of the versioned kernel package behind linux-image-amd64, or nothing.
kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

refresh_lists() {
    note "$1; running apt-get update"
    as_root apt-get update -qq >&2
}

# Were the package lists updated since OUTDIR's kernel was resolved?
lists=/var/lib/apt/lists/
eval "$(apt-config shell lists Dir::State::Lists/d 2>/dev/null)" || true
lists_changed() {
    [ -n "$(find "$lists" -maxdepth 1 -name '*Packages*' -newer "$out/kernel.version" \
            2>/dev/null | head -n 1)" ]
}

# Download the .deb of $kpkg into $1 (apt-get download needs no root).
download() {
    local aptopt=()
    # as root, apt drops to the _apt user, which cannot write into a private dir
    if [ "$(id -u)" -eq 0 ]; then aptopt=(-o APT::Sandbox::User=root); fi
    (cd "$1" && apt-get download -qq "${aptopt[@]}" "$kpkg") >&2
}

have=""
if [ -f "$out/vmlinuz" ] && [ -f "$out/kernel.version" ]; then have=$(cat "$out/kernel.version"); fi
# apt-cache takes most of a second: resolve again only when there is no
# kernel yet or after an apt-get update.
if [ -n "$have" ] && ! lists_changed; then
    kpkg=$have
else
    kpkg=$(kernel_package || true)
    if [ -z "$kpkg" ] && [ -n "$have" ]; then
        kpkg=$have                      # unusable lists: keep the kernel we have
    elif [ -z "$kpkg" ]; then
        refresh_lists "no package lists know linux-image-amd64"
        kpkg=$(kernel_package || true)
        [ -n "$kpkg" ] || die "apt-cache cannot resolve linux-image-amd64's kernel package"
    fi
fi

# The kernel modules the initramfs carries, in load order (Debian builds them
# as modules): msr.ko gives the guest's root /dev/cpu/0/msr (the isolation
# probe, tests/guest/probe.c, reads and writes MSRs with it); the virtio
# chain gives a directly booted guest its own virtio-blk disk to swap to
# (pv.swapon, the guest-level benchmark's baseline) and the guest the disk
# pagevisor emulates (pv.check=vdisk); the FAT chain lets the vdisk check
# mount that disk and read a file from it (pv.vdisk_file).
KMODS="arch/x86/kernel/msr drivers/virtio/virtio_ring drivers/virtio/virtio
drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev
drivers/virtio/virtio_pci drivers/block/virtio_blk fs/nls/nls_cp437 fs/fat/fat
fs/fat/msdos"
kmod_path() { echo "./lib/modules/$1/kernel/$2.ko"; }   # kver relpath
kmods_cached() { # kver: are all of KMODS in the cache?
    local m
    for m in $KMODS; do [ -f "$cache/modules-$1/${m##*/}.ko" ] || return 1; done
}

if [ "$kpkg" != "$have" ] || ! kmods_cached "${kpkg#linux-image-}"; then
    if [ ! -f "$cache/vmlinuz-${kpkg#linux-image-}" ] ||
       ! kmods_cached "${kpkg#linux-image-}"; then
        dl=$(mktemp -d "$cache/dl.XXXXXX")
        trap 'rm -rf "$dl"' EXIT
        note "downloading $kpkg"
        if ! download "$dl"; then
            # the mirror may have moved on to a newer kernel ABI: re-resolve
            refresh_lists "download of $kpkg failed"
            kpkg=$(kernel_package || true)
            [ -n "$kpkg" ] || die "apt-cache cannot resolve linux-image-amd64's kernel package"
            download "$dl" || die "apt-get download $kpkg failed"
        fi
        kver=${kpkg#linux-image-}       # e.g. 6.1.0-56-amd64
        deb=$(ls "$dl"/*.deb)
        # Only boot/ and KMODS are needed: the other modules stay packed.
        mkdir -p "$dl/x" "$cache/modules-$kver"
        paths=()
        for m in $KMODS; do paths+=("$(kmod_path "$kver" "$m")"); done
        dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dl/x" ./boot "${paths[@]}"
        [ -f "$dl/x/boot/vmlinuz-$kver" ] || die "$deb has no boot/vmlinuz-$kver"
        for m in $KMODS; do
            [ -f "$dl/x/$(kmod_path "$kver" "$m")" ] || die "$deb has no $(kmod_path "$kver" "$m")"
            mv "$dl/x/$(kmod_path "$kver" "$m")" "$cache/modules-$kver/${m##*/}.ko"
        done
        mv "$dl/x/boot/vmlinuz-$kver" "$cache/vmlinuz-$kver"
        rm -rf "$dl"
        trap - EXIT
    fi
    kver=${kpkg#linux-image-}
    cp "$cache/vmlinuz-$kver" "$out/vmlinuz.tmp"
    mv "$out/vmlinuz.tmp" "$out/vmlinuz"
    echo "$kpkg" > "$out/kernel.version"
    note "kernel $kver -> $out/vmlinuz"
elif lists_changed; then
    touch "$out/kernel.version"         # still current under the newer lists
fi

# --- initramfs ------------------------------------------------------------

[ -x "$busybox" ] || die "$busybox missing (install busybox-static: scripts/deps.sh)"
if readelf -l "$busybox" 2>/dev/null | grep -q INTERP; then
    die "$busybox is dynamically linked; install busybox-static (scripts/deps.sh)"
fi

# The guest's static C programs: memcheck (memory verifier) and probe
# (isolation probe).
build_prog() { # name
    local bin=$cache/$1
    if [ ! -f "$bin" ] || [ "$src/$1.c" -nt "$bin" ] || [ "$src/guest_util.h" -nt "$bin" ] ||
       [ "$self" -nt "$bin" ]; then
        gcc -std=gnu11 -static -O2 -s -Wall -Wextra -Werror -o "$bin.tmp" "$src/$1.c" \
            || die "building $1 failed (static linking needs libc6-dev: scripts/deps.sh)"
        mv "$bin.tmp" "$bin"
    fi
}
build_prog memcheck
build_prog probe
build_prog workload
memcheck=$cache/memcheck
probe=$cache/probe
workload=$cache/workload
kmods=$cache/modules-$(sed 's/^linux-image-//' "$out/kernel.version")
for m in $KMODS; do
    [ -f "$kmods/${m##*/}.ko" ] ||
        die "$kmods/${m##*/}.ko missing (remove $out/kernel.version to fetch the kernel again)"
done

hostile=$cache/hostile
if [ ! -f "$hostile" ] || [ "$src/hostile.c" -nt "$hostile" ] || [ "$self" -nt "$hostile" ]; then
    gcc -std=gnu11 -static -O2 -s -Wall -Wextra -Werror -o "$hostile.tmp" "$src/hostile.c" \
        || die "building hostile failed (static linking needs libc6-dev: scripts/deps.sh)"
    mv "$hostile.tmp" "$hostile"
fi

pvpattern=$cache/pvpattern
if [ ! -f "$pvpattern" ] || [ "$src/pvpattern.c" -nt "$pvpattern" ] || [ "$self" -nt "$pvpattern" ]; then
    gcc -std=gnu11 -static -O2 -s -Wall -Wextra -Werror -o "$pvpattern.tmp" "$src/pvpattern.c" \
        || die "building pvpattern failed (static linking needs libc6-dev: scripts/deps.sh)"
    mv "$pvpattern.tmp" "$pvpattern"
fi

# The second initramfs, apps.img (Debian's redis and sqlite3 for the `app`
# check), beside the kit: scripts/guest-apps.sh, idempotent like this one.
"$here/guest-apps.sh" "$out"

initrd=$out/initrd.img
stale=0
[ -f "$initrd" ] || stale=1
for dep in "$src/init" "$memcheck" "$hostile" "$probe" "$workload" "$kmods" "$pvpattern" "$busybox" "$self"; do
    if [ "$dep" -nt "$initrd" ]; then stale=1; fi
done
[ "$stale" -eq 1 ] || exit 0

# A newc entry with no data (directory or device node): 110-byte header,
# NUL-terminated name, padding to 4 bytes. Lets us ship /dev/console without
# mknod, i.e. without root; the kernel opens it for /init's stdio before any
# devtmpfs is mounted.
newc_entry() { # name mode(octal) rdevmajor rdevminor ino
    local name=$1 mode=$((8#$2)) maj=$3 min=$4 ino=$5
    local namesize=$(( ${#name} + 1 ))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        "$ino" "$mode" 0 0 1 0 0 0 0 "$maj" "$min" "$namesize" 0
    printf '%s\0' "$name"
    local pad=$(( (4 - (110 + namesize) % 4) % 4 ))
    head -c "$pad" /dev/zero
}

stage=$(mktemp -d "$cache/initrd.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,root}
install -m 0755 "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done
install -m 0755 "$memcheck" "$stage/bin/memcheck"
install -m 0755 "$hostile" "$stage/bin/hostile"
install -m 0755 "$probe" "$stage/bin/probe"
install -m 0755 "$pvpattern" "$stage/bin/pvpattern"
install -m 0755 "$workload" "$stage/bin/workload"
mkdir -p "$stage/lib/modules"
for m in $KMODS; do install -m 0644 "$kmods/${m##*/}.ko" "$stage/lib/modules/"; done
install -m 0755 "$src/init" "$stage/init"
# Fixed timestamps: the same inputs give the same archive.
find "$stage" -exec touch -h -d @0 {} +

{
    newc_entry dev 040755 0 0 1
    newc_entry dev/console 020600 5 1 2
    newc_entry 'TRAILER!!!' 0 0 0 0
    (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --reproducible --quiet)
} | gzip -9n > "$initrd.tmp"
mv "$initrd.tmp" "$initrd"
rm -rf "$stage"
trap - EXIT
note "initramfs $(stat -c %s "$initrd") bytes -> $initrd"

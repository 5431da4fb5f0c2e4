#!/usr/bin/env bash
# Install what pagevisor needs, from Debian packages only. Idempotent: when
# everything is present it prints nothing and exits 0.
#
#   scripts/deps.sh            build + test + run dependencies
#   scripts/deps.sh fuzz       also clang + libFuzzer runtime (make fuzz)
#   scripts/deps.sh libvirt    also libvirt (make test: tests/e2e/test_libvirt.py,
#                              virt-xml-validate; scripts/virsh-run.sh)
#   scripts/deps.sh debian     also the Debian guest image builder (scripts/mkdebian.sh:
#                              make test, make bench, make run GUEST=debian)
#
# Runs apt-get as root directly, or through sudo when not root.
set -euo pipefail

base=(gcc make binutils gnu-efi qemu-system-x86 ovmf bochs bochsbios vgabios
      bochs-term mtools dosfstools busybox-static cpio libc6-dev libcmocka-dev
      python3 python3-pytest python3-pytest-xdist python3-pexpect python3-matplotlib
      util-linux procps qemu-utils)
fuzz=(clang libclang-rt-14-dev)
# libvirtd + virtlogd and the libvirt-qemu user (daemon-system), the QEMU
# driver, virsh and virt-xml-validate (clients; it runs xmllint).
libvirt=(libvirt-daemon-system libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
         libxml2-utils)
# mmdebstrap builds the root filesystem, mkfs.ext4 -d makes it an image and
# debugfs/e2fsck read it back on the host (tests/e2e/test_debian_disk.py).
debian=(mmdebstrap e2fsprogs)

want=("${base[@]}")
for group in "$@"; do
    case "$group" in
        fuzz) want+=("${fuzz[@]}") ;;
        libvirt) want+=("${libvirt[@]}") ;;
        debian) want+=("${debian[@]}") ;;
        *) echo "deps.sh: unknown group '$group' (known: fuzz, libvirt, debian)" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

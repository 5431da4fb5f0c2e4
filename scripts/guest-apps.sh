#!/usr/bin/env bash
# Build the guest kit's application initramfs: real programs from Debian
# packages for the `app` check (tests/guest/init, docs/workloads.md).
#
#   scripts/guest-apps.sh [OUTDIR]     (default OUTDIR: build/guest)
#
# Produces OUTDIR/apps.img, a second cpio (newc) + gzip archive meant to be
# concatenated after OUTDIR/initrd.img (Linux unpacks concatenated archives
# in order):  cat initrd.img apps.img > combined.img
# scripts/guest-kit.sh runs this script, so every path that builds the kit
# (make bench-guest, make run, the e2e tests) builds apps.img too.
# Idempotent: when apps.img is up to date it prints nothing and exits 0.
#
# What it holds (under /usr/bin, libraries under /lib/x86_64-linux-gnu and
# the dynamic loader at /lib64/ld-linux-x86-64.so.2):
#   redis-server (-> redis-check-rdb), redis-benchmark, redis-cli  (redis-server,
#   redis-tools), sqlite3 (sqlite3), and tests/guest/apptool.c built with
#   `gcc -static` (redis fill and check, a monotonic clock); the workloads'
#   shell code, tests/guest/apps.sh, as /usr/share/pv/apps.sh (init's `app`
#   check sources it).
# The packages are fetched with `apt-get download` (no root, never
# installed) into OUTDIR/cache/apps/debs, with the library packages they
# depend on (Depends/Pre-Depends in Debian's section "libs", recursively;
# the section comes from the local package lists, apt-cache show), and
# unpacked with dpkg-deb -x into OUTDIR/cache/apps/root. Each program's
# shared libraries are then found by walking its ELF NEEDED entries
# (readelf -d), recursively, in that unpacked tree only: what the packages
# ship, never the host's copies. To fetch newer package versions, remove
# OUTDIR/cache/apps.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$root/build/guest}
src=$root/tests/guest
self=$here/guest-apps.sh

die() { echo "guest-apps: $*" >&2; exit 1; }
note() { echo "guest-apps: $*" >&2; }

# The packages asked for and the programs taken from them (paths in the
# unpacked tree). The libraries they need follow from the packages.
PACKAGES="redis-server redis-tools sqlite3"
PROGRAMS="usr/bin/redis-check-rdb usr/bin/redis-benchmark usr/bin/redis-cli usr/bin/sqlite3"
LINKS="usr/bin/redis-server:redis-check-rdb"    # name:target, as the packages ship them
LIBDIRS="lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib usr/lib"

mkdir -p "$out/cache/apps"
out=$(cd "$out" && pwd)
apps=$out/cache/apps
debs=$apps/debs
tree=$apps/root
img=$out/apps.img
# One builder at a time per OUTDIR (guest-kit.sh holds its own .lock).
exec 8>"$out/.apps-lock"
flock 8

for tool in apt-get dpkg-deb readelf cpio gzip gcc; do
    command -v "$tool" >/dev/null || die "$tool missing (scripts/deps.sh installs the kit's tools)"
done

# Up to date: apps.img newer than its sources and a completed unpack.
if [ -f "$img" ] && [ -f "$apps/unpacked" ] &&
   ! [ "$self" -nt "$img" ] && ! [ "$src/apptool.c" -nt "$img" ] &&
   ! [ "$src/apps.sh" -nt "$img" ] &&
   ! [ "$apps/unpacked" -nt "$img" ]; then
    exit 0
fi

# --- packages ---------------------------------------------------------------

# The .deb of $1 in $debs, if downloaded.
deb_of() { compgen -G "$debs/${1}_*.deb" | head -n 1; }

download() { # package
    local aptopt=()
    # as root, apt drops to the _apt user, which cannot write into a private dir
    if [ "$(id -u)" -eq 0 ]; then aptopt=(-o APT::Sandbox::User=root); fi
    (cd "$debs" && apt-get download -qq "${aptopt[@]}" "$1") >&2 ||
        die "apt-get download $1 failed (network? package lists: apt-get update)"
    [ -n "$(deb_of "$1")" ] || die "apt-get download $1 left no ${1}_*.deb in $debs"
}

# Is package $1 a shared library package (Debian section libs)?
is_lib_pkg() {
    apt-cache show --no-all-versions "$1" 2>/dev/null |
        awk '$1 == "Section:" { s = $2 } END { exit !(s ~ /(^|\/)libs$/) }'
}

# Library packages a .deb depends on: the first alternative of each
# Depends/Pre-Depends entry, version and architecture qualifiers dropped,
# kept when its section is libs (adduser, debconf, ... are not needed).
lib_deps() { # deb
    local d
    for d in $({ dpkg-deb -f "$1" Depends; dpkg-deb -f "$1" Pre-Depends; } | tr ',' '\n' |
               sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g'); do
        if is_lib_pkg "$d"; then echo "$d"; fi
    done
}

# A new version of this script may follow other packages: unpack again
# (the downloaded .debs stay).
if [ ! -f "$apps/unpacked" ] || [ "$self" -nt "$apps/unpacked" ]; then
    for pkg in $PACKAGES; do
        apt-cache show --no-all-versions "$pkg" >/dev/null 2>&1 ||
            die "the package lists do not know $pkg (run apt-get update as root)"
    done
    rm -rf "$tree"
    mkdir -p "$debs" "$tree"
    todo=$PACKAGES
    seen=" "
    while [ -n "${todo// /}" ]; do
        # shellcheck disable=SC2086  # one word per package
        set -- $todo
        pkg=$1; shift; todo="$*"
        case "$seen" in *" $pkg "*) continue ;; esac
        seen="$seen$pkg "
        [ -n "$(deb_of "$pkg")" ] || { note "downloading $pkg"; download "$pkg"; }
        deb=$(deb_of "$pkg")
        dpkg-deb -x "$deb" "$tree" || die "unpacking $deb (package $pkg) failed"
        todo="$todo $(lib_deps "$deb" | tr '\n' ' ')"
    done
    echo "$seen" | tr ' ' '\n' | grep . | LC_ALL=C sort > "$apps/packages"
    touch "$apps/unpacked"
fi

# --- programs and their libraries -------------------------------------------

# A path inside the unpacked tree with its symlinks followed inside the tree
# (the packages' links are absolute: /lib/... means $tree/lib/...).
in_tree() { # relative path -> absolute path of the real file, or nothing
    local p=$tree/$1 t n=0
    while [ -L "$p" ] && [ $n -lt 16 ]; do
        t=$(readlink "$p")
        case "$t" in /*) p=$tree$t ;; *) p=$(dirname "$p")/$t ;; esac
        n=$((n + 1))
    done
    [ -f "$p" ] && echo "$p"
}

find_lib() { # soname -> real file in the tree
    local d f
    for d in $LIBDIRS; do
        f=$(in_tree "$d/$1") && { echo "$f"; return 0; }
    done
    return 1
}

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

stage=$(mktemp -d "$apps/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/usr/bin" "$stage/lib/x86_64-linux-gnu" "$stage/lib64"

interp=""
queue=""
for p in $PROGRAMS; do
    f=$(in_tree "$p") || die "$p is in none of the packages ($PACKAGES)"
    install -m 0755 "$f" "$stage/$p"
    i=$(readelf -l "$f" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
    [ -n "$i" ] && interp=$i
    queue="$queue $(needed "$f" | tr '\n' ' ')"
done
for l in $LINKS; do ln -s "${l#*:}" "$stage/${l%%:*}"; done

done_libs=" "
while [ -n "${queue// /}" ]; do
    # shellcheck disable=SC2086  # one word per library
    set -- $queue
    so=$1; shift; queue="$*"
    case "$done_libs" in *" $so "*) continue ;; esac
    done_libs="$done_libs$so "
    f=$(find_lib "$so") ||
        die "library $so not found in the unpacked packages ($(tr '\n' ' ' < "$apps/packages"))"
    install -m 0644 "$f" "$stage/lib/x86_64-linux-gnu/$so"
    queue="$queue $(needed "$f" | tr '\n' ' ')"
done

[ -n "$interp" ] || die "the programs name no dynamic loader (PT_INTERP)"
f=$(in_tree "${interp#/}") || die "dynamic loader $interp is not in the libc6 package"
mkdir -p "$stage/$(dirname "$interp")"
install -m 0755 "$f" "$stage/$interp"

# The helper (static, like the kit's other guest programs).
gcc -std=gnu11 -static -O2 -s -Wall -Wextra -Werror -o "$stage/usr/bin/apptool" \
    "$src/apptool.c" || die "building apptool failed (static linking needs libc6-dev)"

install -D -m 0644 "$src/apps.sh" "$stage/usr/share/pv/apps.sh"

find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n > "$img.tmp"
mv "$img.tmp" "$img"
rm -rf "$stage"
trap - EXIT
note "apps initramfs $(stat -c %s "$img") bytes ($(echo "$done_libs" | wc -w) libraries) -> $img"

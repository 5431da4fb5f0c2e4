# swap_image PATH SIZE: create a swap disk image prepared with mkswap (the
# layout pagevisor's swap area reads) unless PATH already exists.
# Shared by scripts/run-qemu.sh and scripts/virsh-run.sh.
swap_image() {
    [ -f "$1" ] && return 0
    mkdir -p "$(dirname "$1")"
    truncate -s "$2" "$1"
    /sbin/mkswap -q "$1" >/dev/null 2>&1 || mkswap -q "$1" >/dev/null
}

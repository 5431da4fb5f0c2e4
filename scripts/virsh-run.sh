#!/usr/bin/env bash
# Run pagevisor as a libvirt domain, the way virsh users run machines.
#
# usage: scripts/virsh-run.sh [options] ACTION...
# actions (run in the order given):
#   define     write the domain XML (scripts/mkdomain.py) and define it,
#              replacing an earlier definition of the same name
#   start      start it, attached to its console (virsh start --console);
#              with no terminal, follow the serial log until it stops
#   console    attach to a running domain's console (or follow its log)
#   stop       destroy (power off) the domain if it runs
#   undefine   remove the definition and its UEFI variable store
#   up         = define start;   down = stop undefine
# options:
#   --connect URI   qemu:///system (default as root) or qemu:///session
#                   (default otherwise); $LIBVIRT_DEFAULT_URI wins over both
#   --name NAME     domain name (default pagevisor)
#   --esp IMG       the ESP image (default build/esp.img; scripts/mkesp.sh)
#   --swap IMG|none swap disk (default build/swap.img, created with mkswap)
#   --disk IMG      the guest's own disk, if any
#   --mem SIZE      machine memory (default from scripts/machine.env)
#   --accel MODE    auto (default: scripts/detect-accel.sh) | kvm | qemu
#   --log FILE      copy of the serial console (default build/logs/NAME-serial.log)
# The console's escape is Ctrl-] (virsh); pagevisor's own monitor escape is
# a different byte and passes through (docs/nested-kvm.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/machine.env"
. "$here/lib/swapimg.sh"

if [ "$(id -u)" = 0 ]; then uri=qemu:///system; else uri=qemu:///session; fi
uri=${LIBVIRT_DEFAULT_URI:-$uri}
name=pagevisor esp="$root/build/esp.img" swap="$root/build/swap.img" disk="" mem=""
accel=auto log="" actions=()
while [ $# -gt 0 ]; do
    case "$1" in
        --connect) uri=$2; shift 2 ;;
        --name) name=$2; shift 2 ;;
        --esp) esp=$2; shift 2 ;;
        --swap) swap=$2; shift 2 ;;
        --disk) disk=$2; shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --accel) accel=$2; shift 2 ;;
        --log) log=$2; shift 2 ;;
        define|start|console|stop|undefine) actions+=("$1"); shift ;;
        up) actions+=(define start); shift ;;
        down) actions+=(stop undefine); shift ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "virsh-run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ ${#actions[@]} -gt 0 ] || { echo "virsh-run.sh: no action (define, start, console, stop, undefine, up, down)" >&2; exit 2; }
log=${log:-$root/build/logs/$name-serial.log}
state_dir="$root/build/libvirt"

die() { # message, fix
    echo "virsh-run.sh: $1" >&2
    [ -n "${2:-}" ] && printf 'virsh-run.sh: fix: %s\n' "$2" >&2
    exit 1
}

command -v virsh >/dev/null ||
    die "virsh not found" "sudo apt-get install libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu"

# Connect once and turn libvirt's message into the cause and its fix.
check_connection() {
    local err
    if err=$(virsh -c "$uri" uri 2>&1 >/dev/null); then return 0; fi
    case "$err" in
        *"Permission denied"*|*"authentication"*|*"not authorized"*|*"access denied"*)
            die "no permission to manage $uri: $err" \
                "sudo usermod -aG libvirt $(id -un)  # then log in again; or use --connect qemu:///session" ;;
        *"Failed to connect socket"*|*"No such file or directory"*|*"Connection refused"*|*"no connection driver"*)
            if [ "$uri" = qemu:///system ]; then
                die "libvirtd is not running ($uri: $err)" \
                    "sudo systemctl start libvirtd virtlogd   # without systemd: sudo virtlogd -d && sudo libvirtd -d"
            fi
            die "the session libvirtd could not be reached ($uri: $err)" "libvirtd -d && virtlogd -d" ;;
        *) die "cannot connect to $uri: $err" "virsh -c $uri uri   # to see libvirt's own message" ;;
    esac
}

# The domain's state ("running", "shut off", ...), or "none" when undefined.
state() {
    local s
    s=$(virsh -c "$uri" domstate "$name" 2>/dev/null | sed -n 1p) || s=""
    echo "${s:-none}"
}

ensure_not_running() {
    if [ "$(state)" = running ]; then
        die "domain $name is already running" \
            "$0 --connect $uri --name $name console   # or: $0 --connect $uri --name $name stop"
    fi
}

do_define() {
    for f in "$PV_OVMF_CODE" "$PV_OVMF_VARS"; do
        [ -f "$f" ] || die "OVMF firmware $f is missing" "sudo apt-get install ovmf"
    done
    [ -f "$esp" ] || die "ESP image $esp not found" "make esp   # or scripts/mkesp.sh $esp"
    ensure_not_running
    mkdir -p "$state_dir" "$(dirname "$log")"
    [ "$swap" != none ] && swap_image "$swap" "$PV_SWAP_SIZE"
    local xml="$state_dir/$name.xml"
    local args=(--esp "$esp" --swap "$swap" --name "$name" --accel "$accel" --log "$log"
                --nvram "$state_dir/${name}_VARS.fd" --out "$xml")
    [ -n "$disk" ] && args+=(--disk "$disk")
    [ -n "$mem" ] && args+=(--mem "$mem")
    "$here/mkdomain.py" "${args[@]}"
    virsh -c "$uri" define "$xml" >/dev/null
    echo "virsh-run: defined $name on $uri from $xml" >&2
}

# Follow the serial log while the domain runs (no terminal to attach).
follow_log() {
    echo "virsh-run: no terminal: following $log until $name stops" >&2
    touch "$log" 2>/dev/null || true
    tail -n +1 -F "$log" 2>/dev/null &
    local tailpid=$!
    while [ "$(state)" = running ]; do sleep 1; done
    sleep 1
    kill "$tailpid" 2>/dev/null || true
    wait "$tailpid" 2>/dev/null || true
}

do_start() {
    [ "$(state)" = none ] && die "domain $name is not defined" "$0 --connect $uri --name $name define"
    ensure_not_running
    local err
    if [ -t 0 ] && [ -t 1 ]; then
        echo "virsh-run: starting $name; Ctrl-] detaches the console (the domain keeps running)" >&2
        virsh -c "$uri" start --console "$name" && return 0
        die "could not start $name (see above)" "$0 --connect $uri --name $name stop; virsh -c $uri dominfo $name"
    fi
    if ! err=$(virsh -c "$uri" start "$name" 2>&1); then
        case "$err" in
            *virtlogd*) die "virtlogd is not running: $err" "sudo systemctl start virtlogd   # without systemd: sudo virtlogd -d" ;;
            *) die "could not start $name: $err" "" ;;
        esac
    fi
    follow_log
}

do_console() {
    [ "$(state)" = running ] || die "domain $name is not running" "$0 --connect $uri --name $name start"
    if [ -t 0 ] && [ -t 1 ]; then
        virsh -c "$uri" console "$name"
    else
        follow_log
    fi
}

do_stop() {
    case "$(state)" in
        running|paused|"in shutdown")
            local err
            # the domain may power itself off between the check and here
            if ! err=$(virsh -c "$uri" destroy "$name" 2>&1 >/dev/null); then
                case "$(state)" in
                    running|paused) die "could not stop $name: $err" \
                                        "virsh -c $uri destroy $name" ;;
                esac
            fi
            echo "virsh-run: stopped $name" >&2 ;;
        *) ;;
    esac
}

do_undefine() {
    [ "$(state)" = none ] && return 0
    do_stop
    virsh -c "$uri" undefine --nvram "$name" >/dev/null
    echo "virsh-run: undefined $name" >&2
}

check_connection
for a in "${actions[@]}"; do
    "do_$a"
done

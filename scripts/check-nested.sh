#!/usr/bin/env bash
# Report whether this host can run pagevisor under nested KVM, and print the
# commands that enable what is missing.
#
# usage: scripts/check-nested.sh
#   PV_PROC_ROOT, PV_SYS_ROOT, PV_DEV_ROOT point the probe at other /proc,
#   /sys, /dev trees (the tests use fake ones).
# Exit status: 0 when KVM can run pagevisor here, 1 when QEMU falls back to
# TCG (pagevisor then runs on emulated SVM+NPT, slower but complete).
# Same probe as scripts/detect-accel.sh (scripts/lib/nested.sh).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/nested.sh"
nested_probe

slat=EPT; [ "$NP_VENDOR" = amd ] && slat=NPT
printf '%-28s %s\n' "cpu virtualization" "${NP_FEAT:-none}${NP_FEAT:+ ($NP_VENDOR)}"
if [ -n "$NP_MOD" ]; then
    if [ "$NP_NESTED" = missing ]; then
        printf '%-28s %s\n' "module $NP_MOD" "not loaded"
    else
        printf '%-28s %s\n' "module $NP_MOD" "loaded, nested=$NP_NESTED"
    fi
    printf '%-28s %s\n' "$slat" "$NP_SLAT${NP_SLAT_WHY:+ ($NP_SLAT_WHY)}"
    [ "$NP_VENDOR" = intel ] &&
        printf '%-28s %s\n' "unrestricted guest" "$NP_UG (optional)"
fi
case "$NP_DEV" in
    ok) dev="read/write" ;;
    missing) dev="missing" ;;
    noaccess) dev="no access for $(id -un)" ;;
esac
printf '%-28s %s\n' "${PV_DEV_ROOT:-/dev}/kvm" "$dev"

if [ "$NP_OK" = 1 ]; then
    echo "verdict: nested KVM usable: pagevisor runs with $NP_FEAT+$slat (domain type kvm, QEMU -accel kvm -cpu host)"
    exit 0
fi
echo "verdict: nested KVM not usable: pagevisor runs under TCG with SVM+NPT emulated (domain type qemu)"
for p in "${NP_PROBLEMS[@]}"; do echo "problem: $p"; done
if [ ${#NP_FIXES[@]} -gt 0 ]; then
    echo "to fix:"
    for f in "${NP_FIXES[@]}"; do echo "  $f"; done
fi
exit 1

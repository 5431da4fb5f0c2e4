#!/usr/bin/env bash
# Decide how QEMU should run pagevisor and say why, on one line:
#   "kvm <reason>"  nested KVM: -accel kvm -cpu host (VMX or SVM offered)
#   "tcg <reason>"  TCG with -cpu max: SVM + NPT emulated, no VMX
# pagevisor needs VMX or SVM inside its VM, so plain KVM is not enough:
# the host CPU must have vmx/svm and the kvm module must allow nesting.
set -u
why=""
if [ ! -e /dev/kvm ]; then
    why="no /dev/kvm"
elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
    why="/dev/kvm is not accessible to $(id -un)"
else
    flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
    if grep -qw vmx <<<"$flags"; then mod=kvm_intel; feat=VMX
    elif grep -qw svm <<<"$flags"; then mod=kvm_amd; feat=SVM
    else why="/dev/kvm present but the host CPU offers neither vmx nor svm"; fi
    if [ -z "$why" ]; then
        nested=$(cat /sys/module/$mod/parameters/nested 2>/dev/null || echo missing)
        case "$nested" in
            Y|y|1) echo "kvm nested $feat enabled ($mod nested=$nested)"; exit 0 ;;
            missing) why="$mod is not loaded" ;;
            *) why="nested virtualization is off ($mod nested=$nested; see README)" ;;
        esac
    fi
fi
echo "tcg $why: using TCG with -cpu max (SVM+NPT emulated)"

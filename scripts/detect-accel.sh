#!/usr/bin/env bash
# Decide how QEMU should run pagevisor and say why, on one line:
#   "kvm <reason>"  nested KVM: -accel kvm -cpu host (VMX or SVM offered)
#   "tcg <reason>"  TCG with PV_TCG_CPU (scripts/machine.env): SVM + NPT emulated, no VMX
# pagevisor needs VMX+EPT or SVM+NPT inside its VM, so plain KVM is not
# enough. The probe is scripts/lib/nested.sh, shared with
# scripts/check-nested.sh (which prints the full report and the fixes).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/nested.sh"
nested_decision

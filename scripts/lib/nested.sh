# Can this host run pagevisor under nested KVM? The one probe that both
# scripts/detect-accel.sh (one-line decision) and scripts/check-nested.sh
# (full report with fixes) source, so the two always agree.
#
# pagevisor needs VMX with EPT or SVM with NPT inside its VM. Under KVM that
# takes: the host CPU's vmx/svm flag, kvm_intel/kvm_amd loaded with its
# `nested` parameter on, EPT/NPT on in the CPU and in the module, and
# read/write access to /dev/kvm.
#
# Roots (for tests with fake trees; default the real ones):
#   PV_PROC_ROOT (/proc)  cpuinfo
#   PV_SYS_ROOT  (/sys)   module/kvm_{intel,amd}/parameters/*
#   PV_DEV_ROOT  (/dev)   kvm
#
# nested_probe sets:
#   NP_VENDOR  intel | amd | none        NP_FEAT VMX | SVM | ""
#   NP_MOD     kvm_intel | kvm_amd | ""  NP_NESTED the parameter, or "missing"
#   NP_SLAT    yes | no  (EPT on Intel, NPT on AMD: CPU flag and module both on)
#   NP_SLAT_WHY  why not, when NP_SLAT=no
#   NP_UG      yes | no | unknown | n/a (Intel unrestricted guest; optional)
#   NP_DEV     ok | missing | noaccess
#   NP_OK      1 when pagevisor can run under KVM here, else 0
#   NP_PROBLEMS  array of problems, most fundamental first
#   NP_FIXES     array of commands that fix them, in order

_np_flag() { # word, line
    [[ " $2 " == *" $1 "* ]]
}

_np_param() { # module, parameter -> value or "missing"
    local f="$PV_SYS_ROOT/module/$1/parameters/$2"
    if [ -r "$f" ]; then tr -d ' \n' <"$f"; else echo missing; fi
}

_np_on() { # a module parameter's value means "on"
    case "$1" in Y|y|1) return 0 ;; *) return 1 ;; esac
}

nested_probe() {
    : "${PV_PROC_ROOT:=/proc}" "${PV_SYS_ROOT:=/sys}" "${PV_DEV_ROOT:=/dev}"
    NP_VENDOR=none NP_FEAT="" NP_MOD="" NP_NESTED=missing NP_SLAT=no NP_SLAT_WHY=""
    NP_UG=n/a NP_DEV=ok NP_OK=0 NP_PROBLEMS=() NP_FIXES=()
    local cpuinfo="$PV_PROC_ROOT/cpuinfo" flags="" vmxflags="" user
    user=$(id -un 2>/dev/null || echo "$USER")
    if [ -r "$cpuinfo" ]; then
        # "flags : ..." and, on Linux 5.8+, "vmx flags : ..." (first CPU)
        flags=$(sed -n 's/^flags[[:space:]]*:[[:space:]]*//p' "$cpuinfo" | head -1)
        vmxflags=$(sed -n 's/^vmx flags[[:space:]]*:[[:space:]]*//p' "$cpuinfo" | head -1)
    fi
    local slat_flag slat_param
    if _np_flag vmx "$flags"; then
        NP_VENDOR=intel NP_FEAT=VMX NP_MOD=kvm_intel slat_flag=ept slat_param=ept
    elif _np_flag svm "$flags"; then
        NP_VENDOR=amd NP_FEAT=SVM NP_MOD=kvm_amd slat_flag=npt slat_param=npt
    else
        NP_PROBLEMS+=("the host CPU offers neither vmx nor svm (virtualization off in the firmware setup, or this host is itself a VM without nesting)")
        NP_FIXES+=("enable Intel VT-x / AMD-V (SVM) in the firmware setup; on a VM, enable nested virtualization on its host")
    fi

    if [ -n "$NP_MOD" ]; then
        NP_NESTED=$(_np_param "$NP_MOD" nested)
        local persist="echo 'options $NP_MOD nested=1' | sudo tee /etc/modprobe.d/kvm-nested.conf"
        if [ "$NP_NESTED" = missing ]; then
            NP_PROBLEMS+=("$NP_MOD is not loaded")
            NP_FIXES+=("sudo modprobe $NP_MOD nested=1" "$persist")
        elif ! _np_on "$NP_NESTED"; then
            NP_PROBLEMS+=("nested virtualization is off ($NP_MOD nested=$NP_NESTED)")
            NP_FIXES+=("sudo modprobe -r $NP_MOD && sudo modprobe $NP_MOD nested=1  # stop all VMs first"
                       "$persist")
        fi
        # EPT / NPT: in the CPU (flags, or "vmx flags" on newer kernels) and
        # not turned off in the module.
        local upper=${slat_flag^^}
        if ! _np_flag "$slat_flag" "$flags" && ! _np_flag "$slat_flag" "$vmxflags"; then
            NP_SLAT_WHY="the CPU does not offer $upper"
            NP_PROBLEMS+=("$NP_SLAT_WHY; pagevisor needs $NP_FEAT with $upper")
        elif [ "$NP_NESTED" != missing ] && ! _np_on "$(_np_param "$NP_MOD" "$slat_param")"; then
            NP_SLAT_WHY="$NP_MOD $slat_param=$(_np_param "$NP_MOD" "$slat_param")"
            NP_PROBLEMS+=("$upper is off in KVM ($NP_SLAT_WHY); nested $NP_FEAT then lacks $upper")
            NP_FIXES+=("sudo modprobe -r $NP_MOD && sudo modprobe $NP_MOD nested=1 $slat_param=1")
        else
            NP_SLAT=yes
        fi
        if [ "$NP_VENDOR" = intel ]; then
            # Optional for pagevisor (its guest starts in long mode).
            if [ -z "$vmxflags" ]; then NP_UG=unknown
            elif _np_flag unrestricted_guest "$vmxflags"; then NP_UG=yes
            else NP_UG=no; fi
            if [ "$NP_UG" != no ] && [ "$NP_NESTED" != missing ] &&
                ! _np_on "$(_np_param kvm_intel unrestricted_guest)"; then NP_UG=no; fi
        fi
    fi

    local kvm="$PV_DEV_ROOT/kvm"
    if [ ! -e "$kvm" ]; then
        NP_DEV=missing
        # a missing module explains it; otherwise say so on its own
        if [ "$NP_NESTED" != missing ] || [ -z "$NP_MOD" ]; then
            NP_PROBLEMS+=("no $kvm")
            [ -n "$NP_MOD" ] && NP_FIXES+=("sudo modprobe $NP_MOD")
        fi
    elif [ ! -r "$kvm" ] || [ ! -w "$kvm" ]; then
        NP_DEV=noaccess
        local grp
        grp=$(stat -c %G "$kvm" 2>/dev/null || echo kvm)
        NP_PROBLEMS+=("$kvm is not readable and writable by $user")
        NP_FIXES+=("sudo usermod -aG $grp $user  # then log out and in again")
    fi
    [ ${#NP_PROBLEMS[@]} -eq 0 ] && NP_OK=1
    return 0
}

# One line: "kvm <why>" or "tcg <why>" (the format scripts/run-qemu.sh and
# tests/e2e/conftest.py read).
nested_decision() {
    nested_probe
    if [ "$NP_OK" = 1 ]; then
        local slat=EPT; [ "$NP_VENDOR" = amd ] && slat=NPT
        echo "kvm nested $NP_FEAT enabled ($NP_MOD nested=$NP_NESTED, $slat on)"
    else
        echo "tcg ${NP_PROBLEMS[0]}: using TCG (SVM+NPT emulated)"
    fi
}

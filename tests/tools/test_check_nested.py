"""scripts/check-nested.sh and scripts/detect-accel.sh against fake /proc,
/sys and /dev trees: Intel and AMD hosts with nesting on and off, the KVM
module not loaded, EPT turned off in KVM, no /dev/kvm access, no VMX/SVM.
Each case checks the verdict, the problem named, the fix printed, and that
detect-accel.sh's one-line decision agrees with the checker."""
import grp
import os
import re
import shutil
import stat
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(ROOT, "scripts", "check-nested.sh")
DETECT = os.path.join(ROOT, "scripts", "detect-accel.sh")

# /proc/cpuinfo excerpts in the kernel's format ("flags", and "vmx flags"
# since Linux 5.8), trimmed to the words that matter plus a few neighbours.
INTEL_CPUINFO = (
    "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) i7-8650U\n"
    "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat "
    "pse36 clflush mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm "
    "constant_tsc vmx smx est tm2 ssse3 fma cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic "
    "movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm "
    "tpr_shadow vnmi flexpriority ept vpid ept_ad fsgsbase tsc_adjust bmi1 avx2 smep "
    "bmi2 erms invpcid\n"
    "vmx flags\t: vnmi preemption_timer invvpid ept_x_only ept_ad ept_1gb "
    "flexpriority tsc_offset vtpr mtf vapic ept vpid unrestricted_guest ple pml\n"
    "\nprocessor\t: 1\nflags\t\t: fpu vme vmx ept\n")
AMD_CPUINFO = (
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD Ryzen 7 5800U\n"
    "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat "
    "pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm "
    "constant_tsc rep_good nopl cpuid pni pclmulqdq monitor ssse3 fma cx16 sse4_1 "
    "sse4_2 movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm extapic "
    "cr8_legacy abm sse4a misalignsse 3dnowprefetch npt lbrv svm_lock nrip_save "
    "tsc_scale vmcb_clean flushbyasid decodeassists pausefilter pfthreshold avic\n")
PLAIN_CPUINFO = (
    "processor\t: 0\nvendor_id\t: GenuineIntel\n"
    "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep lm hypervisor\n")


def make_tree(base, cpuinfo, module=None, params=None, kvm_dev=True):
    """A fake root: proc/cpuinfo, sys/module/MODULE/parameters/*, dev/kvm."""
    os.makedirs(os.path.join(base, "proc"))
    with open(os.path.join(base, "proc", "cpuinfo"), "w") as f:
        f.write(cpuinfo)
    os.makedirs(os.path.join(base, "sys", "module"))
    if module:
        pdir = os.path.join(base, "sys", "module", module, "parameters")
        os.makedirs(pdir)
        for k, v in (params or {}).items():
            with open(os.path.join(pdir, k), "w") as f:
                f.write(v + "\n")
    os.makedirs(os.path.join(base, "dev"))
    if kvm_dev:
        with open(os.path.join(base, "dev", "kvm"), "w"):
            pass
    return base


def run(script, base, as_nobody=False):
    env = dict(os.environ, PV_PROC_ROOT=f"{base}/proc", PV_SYS_ROOT=f"{base}/sys",
               PV_DEV_ROOT=f"{base}/dev")
    cmd = [script]
    if as_nobody:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", script]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def check(base, scripts=None, **kw):
    """(check-nested result, detect-accel mode, detect-accel reason); asserts they agree.
    scripts: a folder holding copies of the two scripts and lib/ (default: the tree's)."""
    check_sh, detect_sh = CHECK, DETECT
    if scripts:
        check_sh = os.path.join(scripts, "check-nested.sh")
        detect_sh = os.path.join(scripts, "detect-accel.sh")
    r = run(check_sh, base, **kw)
    d = run(detect_sh, base, **kw)
    assert d.returncode == 0, d.stderr
    mode, _, reason = d.stdout.strip().partition(" ")
    assert mode == ("kvm" if r.returncode == 0 else "tcg"), (r.stdout, d.stdout)
    assert r.returncode in (0, 1), r.stderr
    return r, mode, reason


INTEL_ON = {"nested": "Y", "ept": "Y", "unrestricted_guest": "Y"}
AMD_ON = {"nested": "1", "npt": "1"}


def test_intel_nested_on(tmp_path):
    r, mode, reason = check(make_tree(tmp_path, INTEL_CPUINFO, "kvm_intel", INTEL_ON))
    assert r.returncode == 0
    assert "module kvm_intel             loaded, nested=Y" in r.stdout
    assert "EPT                          yes" in r.stdout
    assert "unrestricted guest           yes (optional)" in r.stdout
    assert "verdict: nested KVM usable: pagevisor runs with VMX+EPT" in r.stdout
    assert "problem:" not in r.stdout and "to fix" not in r.stdout
    assert reason == "nested VMX enabled (kvm_intel nested=Y, EPT on)"


def test_intel_nested_off(tmp_path):
    r, mode, reason = check(make_tree(tmp_path, INTEL_CPUINFO, "kvm_intel",
                                      dict(INTEL_ON, nested="N")))
    assert r.returncode == 1
    assert "verdict: nested KVM not usable" in r.stdout
    assert "problem: nested virtualization is off (kvm_intel nested=N)" in r.stdout
    assert "  sudo modprobe -r kvm_intel && sudo modprobe kvm_intel nested=1" in r.stdout
    assert ("  echo 'options kvm_intel nested=1' | sudo tee /etc/modprobe.d/kvm-nested.conf"
            in r.stdout)
    assert reason.startswith("nested virtualization is off (kvm_intel nested=N)")


def test_amd_nested_on(tmp_path):
    r, mode, reason = check(make_tree(tmp_path, AMD_CPUINFO, "kvm_amd", AMD_ON))
    assert r.returncode == 0
    assert "cpu virtualization           SVM (amd)" in r.stdout
    assert "NPT                          yes" in r.stdout
    assert "unrestricted guest" not in r.stdout  # an Intel notion
    assert "verdict: nested KVM usable: pagevisor runs with SVM+NPT" in r.stdout
    assert reason == "nested SVM enabled (kvm_amd nested=1, NPT on)"


def test_amd_nested_off(tmp_path):
    r, mode, reason = check(make_tree(tmp_path, AMD_CPUINFO, "kvm_amd",
                                      dict(AMD_ON, nested="0")))
    assert r.returncode == 1
    assert "problem: nested virtualization is off (kvm_amd nested=0)" in r.stdout
    assert "  sudo modprobe -r kvm_amd && sudo modprobe kvm_amd nested=1" in r.stdout
    assert "kvm_intel" not in r.stdout
    assert mode == "tcg"


def test_no_module(tmp_path):
    r, mode, reason = check(make_tree(tmp_path, INTEL_CPUINFO, module=None, kvm_dev=False))
    assert r.returncode == 1
    assert "module kvm_intel             not loaded" in r.stdout
    assert "problem: kvm_intel is not loaded" in r.stdout
    assert "  sudo modprobe kvm_intel nested=1" in r.stdout
    # the missing /dev/kvm is explained by the module; not reported twice
    assert "problem: no " not in r.stdout
    assert reason.startswith("kvm_intel is not loaded")


def test_ept_off_in_kvm(tmp_path):
    r, mode, reason = check(make_tree(tmp_path, INTEL_CPUINFO, "kvm_intel",
                                      dict(INTEL_ON, ept="N")))
    assert r.returncode == 1
    assert "EPT                          no (kvm_intel ept=N)" in r.stdout
    assert "problem: EPT is off in KVM (kvm_intel ept=N)" in r.stdout
    assert "  sudo modprobe -r kvm_intel && sudo modprobe kvm_intel nested=1 ept=1" in r.stdout


def test_no_vmx_or_svm(tmp_path):
    r, mode, reason = check(make_tree(tmp_path, PLAIN_CPUINFO))
    assert r.returncode == 1
    assert "cpu virtualization           none" in r.stdout
    assert "problem: the host CPU offers neither vmx nor svm" in r.stdout
    assert "enable Intel VT-x / AMD-V (SVM) in the firmware setup" in r.stdout


def test_no_access_to_dev_kvm():
    """/dev/kvm owned by root:kvm, mode 0660, checked as a user outside the
    group (nobody via setpriv when the tests run as root)."""
    root_user = os.geteuid() == 0
    if root_user and shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv (util-linux) is missing")
    base = tempfile.mkdtemp(prefix="pv-nested-")
    try:
        os.chmod(base, 0o755)  # nobody must reach the fake tree
        make_tree(base, INTEL_CPUINFO, "kvm_intel", INTEL_ON)
        kvm = os.path.join(base, "dev", "kvm")
        try:
            group = "kvm"
            os.chown(kvm, 0, grp.getgrnam("kvm").gr_gid)
        except (KeyError, PermissionError):
            group = grp.getgrgid(os.stat(kvm).st_gid).gr_name
        os.chmod(kvm, 0o660 if root_user else 0)
        for d, _, files in os.walk(base):
            os.chmod(d, 0o755)
            for f in files:
                p = os.path.join(d, f)
                if p != kvm:
                    os.chmod(p, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
        # copies the unprivileged user can read wherever the checkout lives
        scripts = os.path.join(base, "scripts")
        os.makedirs(os.path.join(scripts, "lib"))
        for rel in ("check-nested.sh", "detect-accel.sh", "lib/nested.sh"):
            shutil.copy(os.path.join(ROOT, "scripts", rel), os.path.join(scripts, rel))
        for d, _, files in os.walk(scripts):
            os.chmod(d, 0o755)
            for f in files:
                os.chmod(os.path.join(d, f), 0o755)
        r, mode, reason = check(base, scripts=scripts, as_nobody=root_user)
        user = "nobody" if root_user else os.environ.get("USER", "")
        assert r.returncode == 1
        assert re.search(rf"^{re.escape(kvm)} +no access for {user}$", r.stdout, re.M), r.stdout
        assert f"is not readable and writable by {user}" in r.stdout
        assert f"  sudo usermod -aG {group} {user}" in r.stdout
        assert mode == "tcg"
    finally:
        shutil.rmtree(base)

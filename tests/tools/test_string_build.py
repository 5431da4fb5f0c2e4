"""The hypervisor's own string functions (vmm/lib/string.c) must not call
themselves: the hypervisor is built with builtins on (-fbuiltin, Makefile),
and with them gcc reads strlen's loop as a strlen and compiles it into a
call to strlen, one stack frame per byte. The Makefile builds string.o
without builtins; this checks the object it builds, and that the check
sees the self-call in an object built the other way."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OBJ = "build/hv/vmm/lib/string.o"


def calls(obj):
    """(function, callee) for every call relocation in obj's code."""
    out = subprocess.run(["objdump", "-dr", obj], capture_output=True, text=True,
                         check=True).stdout
    fn, pairs = None, set()
    for line in out.splitlines():
        m = re.match(r"[0-9a-f]+ <(\w+)>:$", line)
        if m:
            fn = m.group(1)
            continue
        m = re.search(r"R_X86_64_(?:PLT32|PC32)\s+(\w+)", line)
        if m and fn:
            pairs.add((fn, m.group(1)))
    return pairs


def self_calls(obj):
    return sorted(f for f, c in calls(obj) if f == c)


@pytest.fixture(scope="module")
def built():
    if not shutil.which("objdump"):
        pytest.skip("objdump not found (binutils)")
    subprocess.run(["make", "-s", "-C", ROOT, OBJ], check=True)
    return os.path.join(ROOT, OBJ)


def test_string_functions_do_not_call_themselves(built):
    assert self_calls(built) == []
    # memmove hands the non-overlapping case to memcpy, and that is all
    assert {c for f, c in calls(built)} <= {"memcpy"}


def test_the_check_sees_a_self_call(built, tmp_path):
    obj = tmp_path / "string-builtin.o"
    subprocess.run(["gcc", "-std=gnu11", "-O2", "-I", ROOT, "-ffreestanding", "-fbuiltin",
                    "-mgeneral-regs-only", "-fpic", "-c", os.path.join(ROOT, "vmm/lib/string.c"),
                    "-o", str(obj)], check=True)
    assert "strlen" in self_calls(str(obj))

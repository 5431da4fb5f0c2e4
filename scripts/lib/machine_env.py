"""scripts/machine.env, the one description of the machine pagevisor runs in
under QEMU (run-qemu.sh sources it; the Python tools read it here).

The file holds plain KEY=value lines: no quoting, no expansion; blank lines
and lines starting with # are skipped, and a value ends at a `#` comment."""
import os
import re

PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "machine.env")
_KEY = re.compile(r"[A-Z_][A-Z0-9_]*")


class MachineEnvError(ValueError):
    """A malformed line: the message names the file and the line."""


def machine_facts(path=PATH):
    """{KEY: value} of the file at path; MachineEnvError on a line that is not
    KEY=value."""
    facts = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep or not _KEY.fullmatch(key):
                raise MachineEnvError(f"{path}:{n}: expected KEY=value, got {line!r}")
            facts[key] = value.split("#")[0].strip()
    return facts


def qemu_cpu_args(accel, facts=None):
    """The -accel/-cpu arguments for accel 'kvm' or 'tcg', from PV_KVM_CPU /
    PV_TCG_CPU (docs/decisions.md, "The CPU the TCG machine presents")."""
    facts = facts if facts is not None else machine_facts()
    cpu = facts["PV_KVM_CPU"] if accel == "kvm" else facts["PV_TCG_CPU"]
    return ["-accel", accel, "-cpu", cpu]

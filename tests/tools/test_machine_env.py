"""scripts/lib/machine_env.py: the one reader of scripts/machine.env for the
Python tools (its KEY=value rules, a malformed line named by file and line,
and the QEMU CPU arguments it gives each accelerator)."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import machine_env  # noqa: E402


def test_values_comments_and_blank_lines(tmp_path):
    p = tmp_path / "machine.env"
    p.write_text("# a comment\n\nPV_A=1G\nPV_B=max,family=26  # why\nPV_EMPTY=\n")
    assert machine_env.machine_facts(str(p)) == {"PV_A": "1G", "PV_B": "max,family=26",
                                                 "PV_EMPTY": ""}


@pytest.mark.parametrize("line", ["no equals sign", "lower=case", "PV X=1", "=value"])
def test_a_malformed_line_is_named_by_file_and_line(tmp_path, line):
    p = tmp_path / "machine.env"
    p.write_text(f"PV_A=1\n{line}\n")
    with pytest.raises(machine_env.MachineEnvError) as e:
        machine_env.machine_facts(str(p))
    assert f"{p}:2: expected KEY=value" in str(e.value) and repr(line) in str(e.value)


def test_cpu_arguments_per_accelerator():
    facts = {"PV_KVM_CPU": "host", "PV_TCG_CPU": "max,family=26,model=1"}
    assert machine_env.qemu_cpu_args("kvm", facts) == ["-accel", "kvm", "-cpu", "host"]
    assert machine_env.qemu_cpu_args("tcg", facts) == ["-accel", "tcg", "-cpu",
                                                       "max,family=26,model=1"]


def test_the_tree_machine_env_presents_a_modern_amd_family_under_tcg():
    # docs/decisions.md, "The CPU the TCG machine presents": not QEMU's K8
    cpu = machine_env.machine_facts()["PV_TCG_CPU"]
    assert cpu.startswith("max,") and "family=26" in cpu.split(",")

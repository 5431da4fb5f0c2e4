"""docs/security.md names every MSR the policy table allows, with a reason,
and every port entry's device: the docs cannot drift from the code."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def test_every_allowed_msr_is_documented():
    table = re.findall(r'\{ (0x[0-9A-F]{8}), (0x[0-9A-F]{8}), \w+, \w+, "([^"]+)" \}',
                       read("vmm/msr_policy.c"))
    assert len(table) > 20, "cannot parse the MSR table of vmm/msr_policy.c"
    doc = read("docs/security.md")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| (0x[0-9A-F-x]+) \| ([^|]+) \|.*$",
                                                        doc, re.M)}
    for first, last, name in table:
        key = f"0x{int(first, 16):X}" if first == last else \
            f"0x{int(first, 16):X}-0x{int(last, 16):X}"
        assert key in rows, f"MSR {key} ({name}) has no row in docs/security.md"
        assert name in rows[key], f"row {key} of docs/security.md does not name {name}"


def test_every_port_entry_is_documented():
    entries = re.findall(r'IO_(?:PASS|KBC_COMMAND|DEBUG_EXIT|PCI_CONFIG|UART_ACTION), "([^"]+)" \}',
                         read("vmm/io_policy.c"))
    assert len(entries) > 10, "cannot parse the port table of vmm/io_policy.c"
    doc = read("docs/security.md")
    words = {"PIC master": "8259 PIC", "PIC slave": "8259 PIC", "PIT": "8254 PIT",
             "PS/2 data": "PS/2 data", "port B (PIT gate, NMI status)": "port B",
             "PS/2 command": "PS/2 command", "RTC/CMOS": "RTC/CMOS", "POST": "POST",
             "debug exit": "debug exit", "COM1": "COM1", "COM2": "COM1-COM4",
             "COM3": "COM1-COM4", "COM4": "COM1-COM4",
             "PIC edge/level control (ELCR)": "ELCR", "PCI configuration": "PCI configuration"}
    for name in entries:
        assert name in words, f"port entry '{name}' is new: document it in docs/security.md"
        assert words[name] in doc, f"docs/security.md does not mention {words[name]}"

#!/usr/bin/env python3
"""Fail when a source file includes across a forbidden layer boundary.

usage: check-layers.py [ROOT]        (default: the repository this script is in)

The layers and which may use which (docs/design.md draws the same picture):

    vmm/lib      runtime library: string, fmt, log, heap, list, types
    vmm/arch     x86 pieces: GDT/IDT/TSS, traps, paging, MSRs, CPU features, TSC
    vmm/drivers  the hypervisor's own devices: UART, PCI, virtio, ATA, blkdev
    ept          guest memory core         -> vmm/lib
    swap         swap policy               -> ept, vmm/lib, the blkdev interface
    guest        guest construction        -> ept, vmm/lib, boot facts
    vmm          vCPU/exit core and policy -> everything above, one backend each
    vmm/svm, vmm/vmx  vendor backends      -> never each other
    efi          UEFI front end            -> anything; nothing includes it

Rules are lists of allowed prefixes of quoted include paths ("dir/file.h")
per folder; a longer folder prefix wins. Angle-bracket includes of the C
library are allowed everywhere, but <efi...> only in efi/. Exit status 1 and
one line per violation ("FILE:LINE: includes X: LAYER may use only ...").
"""
import os
import re
import sys

# folder -> (allowed quoted-include prefixes, forbidden prefixes among those)
RULES = {
    "vmm/lib/": (["vmm/lib/"], []),
    "vmm/arch/": (["vmm/arch/", "vmm/lib/"], []),
    # probe.c chooses the swap disk the config names and checks its signature
    "vmm/drivers/": (["vmm/drivers/", "vmm/arch/", "vmm/lib/", "guest/config.h",
                      "swap/swap_area.h"], []),
    "ept/": (["ept/", "vmm/lib/"], []),
    "swap/": (["swap/", "ept/", "vmm/lib/", "vmm/drivers/blkdev.h"], []),
    "guest/": (["guest/", "ept/", "vmm/lib/", "vmm/boot_info.h", "vmm/memmap.h",
                "vmm/acpi.h"], []),
    # emulated devices for the guest: guest memory, the block interface
    "vmm/vdev/": (["vmm/vdev/", "ept/", "vmm/lib/", "vmm/drivers/blkdev.h"], []),
    "vmm/svm/": ([""], ["vmm/vmx/", "efi/"]),
    "vmm/vmx/": ([""], ["vmm/svm/", "efi/"]),
    "vmm/": ([""], ["efi/"]),
    "efi/": ([""], []),
}
SOURCE_EXT = (".c", ".h", ".S")
QUOTED = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
ANGLED = re.compile(r'^\s*#\s*include\s+<([^>]+)>')


def layer_of(path):
    best = None
    for folder in RULES:
        if path.startswith(folder) and (best is None or len(folder) > len(best)):
            best = folder
    return best


def check_file(root, rel):
    layer = layer_of(rel)
    if layer is None:
        return []  # tests/ and scripts/ may include anything
    allowed, forbidden = RULES[layer]
    errors = []
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = QUOTED.match(line)
            if m:
                inc = m.group(1)
                bad = any(inc.startswith(p) for p in forbidden) or \
                    not any(inc.startswith(p) for p in allowed)
                if bad:
                    what = ", ".join(p or "anything" for p in allowed)
                    if forbidden:
                        what += " except " + ", ".join(forbidden)
                    errors.append(f"{rel}:{n}: includes \"{inc}\": {layer.rstrip('/')} "
                                  f"may use only {what}")
                continue
            m = ANGLED.match(line)
            if m and m.group(1).startswith("efi") and layer != "efi/":
                errors.append(f"{rel}:{n}: includes <{m.group(1)}>: only efi/ sees gnu-efi")
    return errors


def sources(root):
    for top in sorted({k.split("/")[0] for k in RULES}):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if name.endswith(SOURCE_EXT):
                    yield os.path.relpath(os.path.join(dirpath, name), root)


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    errors = []
    count = 0
    for rel in sources(root):
        count += 1
        errors += check_file(root, rel.replace(os.sep, "/"))
    for e in errors:
        print(e)
    if errors:
        print(f"check-layers: {len(errors)} forbidden include(s) in {count} files")
        return 1
    print(f"check-layers: {count} files, every include within its layer")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

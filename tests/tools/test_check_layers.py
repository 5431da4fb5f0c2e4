"""The include-boundary check (scripts/check-layers.py) on the real tree and
on small trees with one deliberately wrong include each."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(ROOT, "scripts", "check-layers.py")


def run(root):
    return subprocess.run([sys.executable, CHECK, str(root)], capture_output=True, text=True)


def tree(tmp_path, files):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_real_tree_is_clean():
    r = run(ROOT)
    assert r.returncode == 0, r.stdout
    assert "every include within its layer" in r.stdout


GOOD = {
    "vmm/lib/log.h": "#include <stddef.h>\n",
    "ept/fault.c": '#include "ept/mm.h"\n#include "vmm/lib/log.h"\n',
    "swap/swapin.c": '#include "ept/mm.h"\n#include "vmm/drivers/blkdev.h"\n',
    "vmm/svm/svm.c": '#include "vmm/vcpu.h"\n#include "ept/s2pt.h"\n',
    "vmm/vdev/vblk.c": '#include "ept/mm.h"\n#include "vmm/drivers/blkdev.h"\n',
    "efi/main.c": '#include <efi.h>\n#include "vmm/boot_info.h"\n',
}


def test_good_tree_passes(tmp_path):
    assert run(tree(tmp_path, GOOD)).returncode == 0


@pytest.mark.parametrize("rel,text,names", [
    ("ept/fault.c", '#include "vmm/vcpu.h"\n', "ept may use only ept/, vmm/lib/"),
    ("ept/mm.c", '#include "swap/swap.h"\n', "ept may use only"),
    ("vmm/lib/fmt.c", '#include "vmm/drivers/serial.h"\n', "vmm/lib may use only vmm/lib/"),
    ("swap/reclaim.c", '#include "vmm/drivers/virtio_blk.h"\n', "swap may use only"),
    ("swap/swap.c", '#include "guest/config.h"\n', "swap may use only"),
    ("vmm/svm/svm.c", '#include "vmm/vmx/vmcs.h"\n', "except vmm/vmx/"),
    ("vmm/vmx/vmx.c", '#include "vmm/svm/vmcb.h"\n', "except vmm/svm/"),
    ("vmm/exit.c", '#include "efi/efi_glue.h"\n', "except efi/"),
    ("guest/build.c", "#include <efi.h>\n", "only efi/ sees gnu-efi"),
    ("vmm/arch/trap.c", '#include "vmm/power.h"\n', "vmm/arch may use only"),
    ("vmm/vdev/vpci.c", '#include "vmm/vcpu.h"\n', "vmm/vdev may use only"),
    ("vmm/vdev/vblk.c", '#include "vmm/drivers/virtio_blk.h"\n', "vmm/vdev may use only"),
])
def test_wrong_include_fails(tmp_path, rel, text, names):
    files = dict(GOOD)
    files[rel] = files.get(rel, "") + text
    r = run(tree(tmp_path, files))
    assert r.returncode == 1
    assert f"{rel}:" in r.stdout and names in r.stdout, r.stdout


def test_line_number_is_reported(tmp_path):
    files = dict(GOOD)
    files["ept/region.c"] = '#include "ept/region.h"\n\n#include "vmm/exit_fault.h"\n'
    r = run(tree(tmp_path, files))
    assert 'ept/region.c:3: includes "vmm/exit_fault.h"' in r.stdout

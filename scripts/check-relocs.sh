#!/usr/bin/env bash
# The EFI image is relocated at load time by gnu-efi's _relocate, which
# handles only R_X86_64_RELATIVE. Any other dynamic relocation (a symbol
# left unresolved, a GOT entry that needs one) would silently break at run
# time, so refuse the build instead.
set -euo pipefail
so="$1"
bad=$(readelf -rW "$so" | awk '/^ *[0-9a-f]+ +[0-9a-f]+ R_X86_64_/ && $3 != "R_X86_64_RELATIVE" {print}')
if [ -n "$bad" ]; then
    echo "check-relocs: $so has relocations gnu-efi cannot apply:" >&2
    echo "$bad" >&2
    exit 1
fi

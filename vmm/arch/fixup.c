/* Lookup in the exception fixup table (vmm/msr_safe.S). */
#include "vmm/arch/msr_safe.h"

extern const uint64_t exception_fixups[];

uint64_t exception_fixup(uint64_t rip)
{
    for (const uint64_t *f = exception_fixups; f[0]; f += 2)
        if (f[0] == rip)
            return f[1];
    return 0;
}

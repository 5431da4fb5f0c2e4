/* Guest MSR policy; see msr_policy.h for what is trapped and why. */
#include "vmm/msr_policy.h"
#include "vmm/arch/cpufeat.h"
#include "vmm/lib/log.h"
#include "vmm/arch/msr_safe.h"

#define MSR_IA32_APIC_BASE 0x01Bu
#define MSR_IA32_FEATURE_CONTROL 0x03Au
#define MSR_IA32_MTRRCAP 0x0FEu
#define MSR_MTRR_FIRST 0x200u      /* variable and fixed range MTRRs */
#define MSR_MTRR_LAST 0x26Fu
#define MSR_MTRR_DEF_TYPE 0x2FFu
#define MSR_VMX_FIRST 0x480u
#define MSR_VMX_LAST 0x493u
#define MSR_SYSCFG 0xC0010010u
#define MSR_VM_CR 0xC0010114u
#define MSR_VM_HSAVE_PA 0xC0010117u
#define APIC_BASE_X2APIC_ENABLE (1ull << 10)
#define VM_CR_LOCK (1ull << 3)

enum action { PASS, GP, WRITE_GP, APIC_BASE, VM_CR_READ };

static enum action classify(uint32_t msr)
{
    if (msr == MSR_IA32_MTRRCAP || msr == MSR_MTRR_DEF_TYPE ||
        (msr >= MSR_MTRR_FIRST && msr <= MSR_MTRR_LAST))
        return WRITE_GP;
    if (msr == MSR_SYSCFG)
        return WRITE_GP;
    if (msr == MSR_IA32_APIC_BASE)
        return APIC_BASE;
    if (msr == MSR_VM_CR)
        return VM_CR_READ;
    if (msr == MSR_VM_HSAVE_PA || msr == MSR_IA32_FEATURE_CONTROL ||
        (msr >= MSR_VMX_FIRST && msr <= MSR_VMX_LAST))
        return GP;
    return PASS;
}

void msr_policy_traps(void (*trap)(void *ctx, uint32_t msr, bool rd, bool wr), void *ctx)
{
    trap(ctx, MSR_IA32_MTRRCAP, false, true);
    trap(ctx, MSR_MTRR_DEF_TYPE, false, true);
    for (uint32_t m = MSR_MTRR_FIRST; m <= MSR_MTRR_LAST; m++)
        trap(ctx, m, false, true);
    trap(ctx, MSR_SYSCFG, false, true);
    trap(ctx, MSR_IA32_APIC_BASE, false, true);
    trap(ctx, MSR_VM_CR, true, true);
    trap(ctx, MSR_VM_HSAVE_PA, true, true);
    trap(ctx, MSR_IA32_FEATURE_CONTROL, true, true);
    for (uint32_t m = MSR_VMX_FIRST; m <= MSR_VMX_LAST; m++)
        trap(ctx, m, true, true);
}

int msr_policy_read(uint32_t msr, uint64_t *value)
{
    switch (classify(msr)) {
    case GP:
        return -1;
    case VM_CR_READ:
        *value = VM_CR_SVMDIS | VM_CR_LOCK;
        return 0;
    default:
        return rdmsr_safe(msr, value);
    }
}

int msr_policy_write(uint32_t msr, uint64_t value)
{
    uint64_t cur;
    switch (classify(msr)) {
    case GP:
    case WRITE_GP:
    case VM_CR_READ:
        pv_debug("msr: guest write 0x%llx to 0x%x refused (#GP)", (unsigned long long)value, msr);
        return -1;
    case APIC_BASE:
        if (rdmsr_safe(msr, &cur) < 0)
            return -1;
        if (value == cur)
            return 0;
        pv_warn("msr: guest tried to change IA32_APIC_BASE 0x%llx -> 0x%llx%s (#GP)",
                (unsigned long long)cur, (unsigned long long)value,
                (value & APIC_BASE_X2APIC_ENABLE) ? " (x2APIC)" : "");
        return -1;
    default:
        return wrmsr_safe(msr, value);
    }
}

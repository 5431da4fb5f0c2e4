/* Guest MSR policy: the allow list and the emulated MSRs; see msr_policy.h.
 * Each row's reason is in docs/security.md (tests/tools checks that every
 * row named here is documented there). */
#include "vmm/msr_policy.h"
#include "vmm/arch/cpufeat.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"

#include <stddef.h>

#define APIC_BASE_X2APIC_ENABLE (1ull << 10)
#define VM_CR_LOCK (1ull << 3)

#define HW MSR_OP_HW
#define GP MSR_OP_GP

/* Sorted by first MSR; ranges do not overlap. MSRs not listed: #GP. */
static const struct msr_rule table[] = {
    /* the guest's TSC: reads pass (the offset applies), writes move the offset */
    { 0x00000010, 0x00000010, HW, MSR_OP_TSC, "IA32_TIME_STAMP_COUNTER" },
    { 0x00000017, 0x00000017, HW, GP, "IA32_PLATFORM_ID" },
    { 0x0000001B, 0x0000001B, HW, MSR_OP_APIC_BASE, "IA32_APIC_BASE" },
    { 0x0000003A, 0x0000003A, MSR_OP_FEATURE_CTL, GP, "IA32_FEATURE_CONTROL" },
    { 0x0000003B, 0x0000003B, MSR_OP_TSC_ADJUST, MSR_OP_TSC_ADJUST, "IA32_TSC_ADJUST" },
    { 0x00000048, 0x00000048, HW, HW, "IA32_SPEC_CTRL" },
    { 0x00000049, 0x00000049, GP, HW, "IA32_PRED_CMD" },
    /* microcode revision: Linux writes 0, runs CPUID, reads it back */
    { 0x0000008B, 0x0000008B, HW, MSR_OP_IGNORE, "IA32_BIOS_SIGN_ID" },
    { 0x000000CE, 0x000000CE, HW, GP, "MSR_PLATFORM_INFO" },
    { 0x000000E7, 0x000000E8, HW, GP, "IA32_MPERF/APERF" },
    { 0x0000010A, 0x0000010A, HW, GP, "IA32_ARCH_CAPABILITIES" },
    { 0x0000010B, 0x0000010B, GP, HW, "IA32_FLUSH_CMD" },
    { 0x00000174, 0x00000176, HW, HW, "IA32_SYSENTER_CS/ESP/EIP" },
    /* machine check: no banks offered, status reads clear */
    { 0x00000179, 0x00000179, MSR_OP_ZERO, GP, "IA32_MCG_CAP" },
    { 0x0000017A, 0x0000017A, MSR_OP_ZERO, MSR_OP_IGNORE, "IA32_MCG_STATUS" },
    { 0x00000198, 0x00000198, HW, GP, "IA32_PERF_STATUS" },
    { 0x0000019C, 0x0000019C, HW, GP, "IA32_THERM_STATUS" },
    { 0x000001A0, 0x000001A0, HW, GP, "IA32_MISC_ENABLE" },
    { 0x000001B1, 0x000001B1, HW, GP, "IA32_PACKAGE_THERM_STATUS" },
    { 0x000001D9, 0x000001D9, MSR_OP_DEBUGCTL, MSR_OP_DEBUGCTL, "IA32_DEBUGCTL" },
    { 0x00000277, 0x00000277, HW, HW, "IA32_PAT" },
    { 0x000006E0, 0x000006E0, MSR_OP_TSC_DEADLINE, MSR_OP_TSC_DEADLINE, "IA32_TSC_DEADLINE" },
    { 0x00000DA0, 0x00000DA0, HW, HW, "IA32_XSS" },
    /* EFER: the guest's own (switched by VMRUN / VM entry); SVM hides SVME */
    { 0xC0000080, 0xC0000080, HW, HW, "IA32_EFER" },
    { 0xC0000081, 0xC0000084, HW, HW, "STAR/LSTAR/CSTAR/SFMASK" },
    { 0xC0000100, 0xC0000102, HW, HW, "FS_BASE/GS_BASE/KERNEL_GS_BASE" },
    { 0xC0000103, 0xC0000103, HW, HW, "TSC_AUX" },
    { 0xC0010010, 0xC0010010, HW, GP, "SYSCFG" },
    { 0xC0010015, 0xC0010015, HW, GP, "HWCR" },
    /* northbridge configuration: node-wide, never the guest's. Linux on AMD
     * family 10h and later reads it unchecked as each CPU comes online and
     * sets EnableCf8ExtCfg; it reads 0 and the write is dropped, as under
     * KVM (pci_filter ignores CONFIG_ADDRESS 27:24 either way) */
    { 0xC001001F, 0xC001001F, MSR_OP_ZERO, MSR_OP_IGNORE, "NB_CFG" },
    /* interrupt-pending message / C1E: Linux reads it unchecked on older
     * AMD families; C1E is not offered */
    { 0xC0010055, 0xC0010055, MSR_OP_ZERO, GP, "INT_PENDING_MSG" },
    { 0xC0010114, 0xC0010114, MSR_OP_VM_CR, GP, "VM_CR" },
    { 0xC0010140, 0xC0010141, HW, GP, "OSVW_ID_LENGTH/OSVW_STATUS" },
    { 0xC0011029, 0xC0011029, HW, GP, "DE_CFG" },
};

#undef HW
#undef GP

const struct msr_rule *msr_policy_table(unsigned *count)
{
    *count = sizeof(table) / sizeof(table[0]);
    return table;
}

const struct msr_rule *msr_policy_rule(uint32_t msr)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (msr >= table[i].first && msr <= table[i].last)
            return &table[i];
    return NULL;
}

void msr_policy_open_msrs(void (*pass)(void *ctx, uint32_t msr, bool rd, bool wr), void *ctx)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        bool rd = table[i].rd == MSR_OP_HW, wr = table[i].wr == MSR_OP_HW;
        if (!rd && !wr)
            continue;
        for (uint32_t m = table[i].first;; m++) {
            pass(ctx, m, rd, wr);
            if (m == table[i].last)
                break;
        }
    }
}

static bool power_of_two(uint64_t n) { return n && !(n & (n - 1)); }

static int deny(struct msr_state *st, uint32_t msr, bool write, uint64_t value)
{
    const struct msr_rule *r = msr_policy_rule(msr);
    if (write)
        st->denied_writes++;
    else
        st->denied_reads++;
    uint64_t all = st->denied_reads + st->denied_writes;
    if (st->lines < MSR_LOG_BUDGET) {
        st->lines++;
        if (write)
            pv_warn("msr: guest wrmsr 0x%x (%s) <- 0x%llx denied: #GP", msr,
                    r ? r->name : "unlisted", (unsigned long long)value);
        else
            pv_warn("msr: guest rdmsr 0x%x (%s) denied: #GP", msr, r ? r->name : "unlisted");
    } else if (power_of_two(all)) {
        pv_warn("msr: %llu denied MSR accesses so far (latest %s of 0x%x); "
                "per-access lines suppressed", (unsigned long long)all,
                write ? "write" : "read", msr);
    }
    return -1;
}

/* The host TSC value a guest deadline d (in guest TSC terms) means. */
static uint64_t deadline_to_host(const struct msr_state *st, uint64_t d)
{
    if (!d)
        return 0;             /* 0 disarms the timer */
    uint64_t h = d - st->tsc_offset;
    return h ? h : 1;         /* a deadline already past still fires */
}

static void set_offset(struct msr_state *st, const struct msr_hw *hw, uint64_t offset)
{
    st->tsc_offset = offset;
    hw->set_tsc_offset(hw->ctx, offset);
}

int msr_policy_read(struct msr_state *st, const struct msr_hw *hw, uint32_t msr,
                    uint64_t *value)
{
    const struct msr_rule *r = msr_policy_rule(msr);
    enum msr_op op = r ? r->rd : MSR_OP_GP;
    uint64_t h;
    if (op != MSR_OP_GP && op != MSR_OP_HW)
        st->emulated++;
    switch (op) {
    case MSR_OP_HW:
        if (hw->read(msr, value) < 0)
            return deny(st, msr, false, 0); /* the CPU does not have it */
        return 0;
    case MSR_OP_ZERO:
    case MSR_OP_DEBUGCTL:
        *value = 0;
        return 0;
    case MSR_OP_VM_CR:
        *value = VM_CR_SVMDIS | VM_CR_LOCK;
        return 0;
    case MSR_OP_FEATURE_CTL:
        *value = FEATCTL_LOCK;
        return 0;
    case MSR_OP_TSC_ADJUST:
        *value = st->tsc_adjust;
        return 0;
    case MSR_OP_TSC_DEADLINE:
        if (hw->read(msr, &h) < 0)
            return deny(st, msr, false, 0);
        *value = h ? h + st->tsc_offset : 0;
        return 0;
    default:
        return deny(st, msr, false, 0);
    }
}

int msr_policy_write(struct msr_state *st, const struct msr_hw *hw, uint32_t msr,
                     uint64_t value)
{
    const struct msr_rule *r = msr_policy_rule(msr);
    enum msr_op op = r ? r->wr : MSR_OP_GP;
    uint64_t cur;
    if (op != MSR_OP_GP && op != MSR_OP_HW)
        st->emulated++;
    switch (op) {
    case MSR_OP_HW:
        if (hw->write(msr, value) < 0)
            return deny(st, msr, true, value);
        return 0;
    case MSR_OP_IGNORE:
        return 0;
    case MSR_OP_TSC:
        set_offset(st, hw, value - hw->tsc());
        return 0;
    case MSR_OP_TSC_ADJUST:
        /* On hardware a TSC_ADJUST write moves the TSC by the difference. */
        set_offset(st, hw, st->tsc_offset + (value - st->tsc_adjust));
        st->tsc_adjust = value;
        return 0;
    case MSR_OP_TSC_DEADLINE:
        if (hw->write(msr, deadline_to_host(st, value)) < 0)
            return deny(st, msr, true, value);
        return 0;
    case MSR_OP_DEBUGCTL:
        return value == 0 ? 0 : deny(st, msr, true, value);
    case MSR_OP_APIC_BASE:
        if (hw->read(msr, &cur) < 0)
            return deny(st, msr, true, value);
        if (value == cur)
            return 0;
        st->denied_writes++;
        pv_warn("msr: guest tried to change IA32_APIC_BASE 0x%llx -> 0x%llx%s (#GP)",
                (unsigned long long)cur, (unsigned long long)value,
                (value & APIC_BASE_X2APIC_ENABLE) ? " (x2APIC)" : "");
        return -1;
    default:
        return deny(st, msr, true, value);
    }
}

void msr_policy_render_stats(const struct msr_state *st,
                             void (*emit)(void *ctx, const char *line), void *ctx)
{
    pv_emitf(emit, ctx, "msr denied-reads %llu", (unsigned long long)st->denied_reads);
    pv_emitf(emit, ctx, "msr denied-writes %llu", (unsigned long long)st->denied_writes);
    pv_emitf(emit, ctx, "msr emulated %llu", (unsigned long long)st->emulated);
}

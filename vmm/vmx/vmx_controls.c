/* VMX control words from capability MSRs; see vmx_controls.h. */
#include "vmm/vmx/vmx_controls.h"

#include <stddef.h>

#include "vmm/arch/arch.h"
#include "vmm/vmx/vmcs.h"

#define CTL_BITS 32
#define ALLOWED1_SHIFT 32

/* Control names as the SDM spells them, per word, indexed by bit. */
static const char *const pin_names[CTL_BITS] = {
    [0] = "external-interrupt exiting",
    [3] = "NMI exiting",
    [5] = "virtual NMIs",
    [6] = "activate VMX-preemption timer",
    [7] = "process posted interrupts",
};

static const char *const proc_names[CTL_BITS] = {
    [2] = "interrupt-window exiting",
    [3] = "use TSC offsetting",
    [7] = "HLT exiting",
    [9] = "INVLPG exiting",
    [10] = "MWAIT exiting",
    [11] = "RDPMC exiting",
    [12] = "RDTSC exiting",
    [15] = "CR3-load exiting",
    [16] = "CR3-store exiting",
    [17] = "activate tertiary controls",
    [19] = "CR8-load exiting",
    [20] = "CR8-store exiting",
    [21] = "use TPR shadow",
    [22] = "NMI-window exiting",
    [23] = "MOV-DR exiting",
    [24] = "unconditional I/O exiting",
    [25] = "use I/O bitmaps",
    [27] = "monitor trap flag",
    [28] = "use MSR bitmaps",
    [29] = "MONITOR exiting",
    [30] = "PAUSE exiting",
    [31] = "activate secondary controls",
};

static const char *const proc2_names[CTL_BITS] = {
    [0] = "virtualize APIC accesses",
    [1] = "enable EPT",
    [2] = "descriptor-table exiting",
    [3] = "enable RDTSCP",
    [4] = "virtualize x2APIC mode",
    [5] = "enable VPID",
    [6] = "WBINVD exiting",
    [7] = "unrestricted guest",
    [8] = "APIC-register virtualization",
    [9] = "virtual-interrupt delivery",
    [10] = "PAUSE-loop exiting",
    [11] = "RDRAND exiting",
    [12] = "enable INVPCID",
    [13] = "enable VM functions",
    [14] = "VMCS shadowing",
    [15] = "enable ENCLS exiting",
    [16] = "RDSEED exiting",
    [17] = "enable PML",
    [18] = "EPT-violation #VE",
    [19] = "conceal VMX from PT",
    [20] = "enable XSAVES/XRSTORS",
    [22] = "mode-based execute control for EPT",
    [23] = "sub-page write permissions for EPT",
    [24] = "Intel PT uses guest physical addresses",
    [25] = "use TSC scaling",
    [26] = "enable user wait and pause",
    [28] = "enable ENCLV exiting",
};

static const char *const exit_names[CTL_BITS] = {
    [2] = "save debug controls",
    [9] = "host address-space size",
    [12] = "load IA32_PERF_GLOBAL_CTRL",
    [15] = "acknowledge interrupt on exit",
    [18] = "save IA32_PAT",
    [19] = "load IA32_PAT",
    [20] = "save IA32_EFER",
    [21] = "load IA32_EFER",
    [22] = "save VMX-preemption timer value",
    [23] = "clear IA32_BNDCFGS",
    [24] = "conceal VMX from PT",
    [25] = "clear IA32_RTIT_CTL",
    [28] = "load CET state",
    [29] = "load PKRS",
};

static const char *const entry_names[CTL_BITS] = {
    [2] = "load debug controls",
    [9] = "IA-32e mode guest",
    [10] = "entry to SMM",
    [11] = "deactivate dual-monitor treatment",
    [13] = "load IA32_PERF_GLOBAL_CTRL",
    [14] = "load IA32_PAT",
    [15] = "load IA32_EFER",
    [16] = "load IA32_BNDCFGS",
    [17] = "conceal VMX from PT",
    [18] = "load IA32_RTIT_CTL",
    [20] = "load CET state",
    [22] = "load PKRS",
};

static const struct {
    const char *name;
    const char *const *bits;
    uint32_t msr, true_msr;   /* true_msr 0: the word has no TRUE_* MSR */
} words[VMX_CTL_WORDS] = {
    [VMX_CTL_PIN] = { "pin-based", pin_names, MSR_IA32_VMX_PINBASED_CTLS,
                      MSR_IA32_VMX_TRUE_PINBASED_CTLS },
    [VMX_CTL_PROC] = { "primary processor-based", proc_names, MSR_IA32_VMX_PROCBASED_CTLS,
                       MSR_IA32_VMX_TRUE_PROCBASED_CTLS },
    [VMX_CTL_PROC2] = { "secondary processor-based", proc2_names,
                        MSR_IA32_VMX_PROCBASED_CTLS2, 0 },
    [VMX_CTL_EXIT] = { "VM-exit", exit_names, MSR_IA32_VMX_EXIT_CTLS,
                       MSR_IA32_VMX_TRUE_EXIT_CTLS },
    [VMX_CTL_ENTRY] = { "VM-entry", entry_names, MSR_IA32_VMX_ENTRY_CTLS,
                        MSR_IA32_VMX_TRUE_ENTRY_CTLS },
};

const char *vmx_ctl_word_name(enum vmx_ctl_word w)
{
    return (unsigned)w < VMX_CTL_WORDS ? words[w].name : "?";
}

const char *vmx_ctl_name(enum vmx_ctl_word w, unsigned bit)
{
    if ((unsigned)w >= VMX_CTL_WORDS || bit >= CTL_BITS || !words[w].bits[bit])
        return "reserved bit";
    return words[w].bits[bit];
}

uint32_t vmx_ctl_cap_msr(enum vmx_ctl_word w, bool true_ctls)
{
    if ((unsigned)w >= VMX_CTL_WORDS)
        return 0;
    return true_ctls && words[w].true_msr ? words[w].true_msr : words[w].msr;
}

static uint32_t must_be_1(uint64_t cap) { return (uint32_t)cap; }
static uint32_t may_be_1(uint64_t cap) { return (uint32_t)(cap >> ALLOWED1_SHIFT); }

static unsigned lowest_bit(uint32_t v)
{
    return (unsigned)__builtin_ctz(v);
}

int vmx_adjust_controls(enum vmx_ctl_word w, uint64_t cap_msr, uint32_t wanted,
                        uint32_t optional, uint32_t *out, const char **missing_name)
{
    uint32_t allowed = may_be_1(cap_msr), forced = must_be_1(cap_msr);
    uint32_t refused = (wanted | forced) & ~allowed;
    if (refused) {
        if (missing_name)
            *missing_name = vmx_ctl_name(w, lowest_bit(refused));
        return -1;
    }
    *out = forced | wanted | (optional & allowed);
    return 0;
}

bool vmx_controls_valid(uint64_t cap_msr, uint32_t value, unsigned *bad)
{
    uint32_t wrong = (must_be_1(cap_msr) & ~value) | (value & ~may_be_1(cap_msr));
    if (wrong && bad)
        *bad = lowest_bit(wrong);
    return wrong == 0;
}

/* What running without each optional control means. Under nested KVM the
 * outer KVM offers a control only where its own CPU and module parameters
 * allow (kvm_intel preemption_timer, vpid, unrestricted_guest, ...). */
static const struct {
    enum vmx_ctl_word word;
    uint32_t bit;
    const char *without;
} fallbacks[] = {
    { VMX_CTL_PIN, VMX_PIN_PREEMPT_TIMER, "background reclaim runs on exits only" },
    { VMX_CTL_PROC, VMX_PROC_MWAIT_EXITING, "MWAIT is hidden from the guest by CPUID only" },
    { VMX_CTL_PROC, VMX_PROC_MONITOR_EXITING, "MONITOR is hidden from the guest by CPUID only" },
    { VMX_CTL_PROC2, VMX_PROC2_VPID, "the guest's TLB entries are flushed on every entry and exit" },
    { VMX_CTL_PROC2, VMX_PROC2_UNRESTRICTED,
      "CR0.PE/PG stay with pagevisor (the guest starts in long mode)" },
    { VMX_CTL_PROC2, VMX_PROC2_RDTSCP, "the guest's RDTSCP raises #UD" },
    { VMX_CTL_PROC2, VMX_PROC2_INVPCID, "the guest's INVPCID raises #UD" },
    { VMX_CTL_PROC2, VMX_PROC2_XSAVES, "the guest's XSAVES/XRSTORS raise #UD" },
    { VMX_CTL_PROC2, VMX_PROC2_USER_WAIT_PAUSE, "the guest's TPAUSE/UMWAIT raise #UD" },
    { VMX_CTL_EXIT, VMX_EXIT_SAVE_DEBUG, "DR7 and IA32_DEBUGCTL are not saved on exit" },
    { VMX_CTL_ENTRY, VMX_ENTRY_LOAD_DEBUG, "DR7 and IA32_DEBUGCTL are not loaded on entry" },
};

const char *vmx_ctl_fallback(enum vmx_ctl_word w, unsigned bit)
{
    for (unsigned i = 0; i < sizeof(fallbacks) / sizeof(fallbacks[0]); i++)
        if (fallbacks[i].word == w && bit < CTL_BITS && fallbacks[i].bit == (1u << bit))
            return fallbacks[i].without;
    return NULL;
}

int vmx_plan_controls(const uint64_t caps[VMX_CTL_WORDS],
                      const struct vmx_ctl_policy policy[VMX_CTL_WORDS], struct vmx_ctl_plan *plan)
{
    uint64_t cap[VMX_CTL_WORDS];
    for (int w = 0; w < VMX_CTL_WORDS; w++) {
        cap[w] = caps[w];
        plan->ctl[w] = plan->dropped[w] = plan->missing[w] = 0;
    }
    /* Without the secondary word, none of its controls can be 1. */
    if (!(may_be_1(cap[VMX_CTL_PROC]) & VMX_PROC_SECONDARY))
        cap[VMX_CTL_PROC2] = 0;
    bool first = true;
    for (int w = 0; w < VMX_CTL_WORDS; w++) {
        uint32_t allowed = may_be_1(cap[w]), forced = must_be_1(cap[w]);
        uint32_t optional = policy[w].optional;
        if (w == VMX_CTL_PROC2 && !((policy[w].wanted | optional) & allowed & VMX_PROC2_EPT))
            optional &= ~VMX_PROC2_UNRESTRICTED; /* only valid with EPT */
        plan->missing[w] = (policy[w].wanted | forced) & ~allowed;
        plan->dropped[w] = policy[w].optional & ~(optional & allowed);
        plan->ctl[w] = forced | policy[w].wanted | (optional & allowed);
        if (plan->missing[w] && first) {
            first = false;
            plan->missing_word = (enum vmx_ctl_word)w;
            plan->missing_bit = lowest_bit(plan->missing[w]);
        }
    }
    return first ? 0 : -1;
}

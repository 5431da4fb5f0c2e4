/*
 * VMX control words from capability MSRs: pure functions (host unit-tested).
 *
 * Each control word (pin-based, primary and secondary processor-based,
 * VM-exit, VM-entry) has a capability MSR whose low 32 bits are the
 * "allowed 0-settings" (a 1 there: the control must be 1) and whose high
 * 32 bits are the "allowed 1-settings" (a 0 there: the control must be 0).
 * When IA32_VMX_BASIC bit 55 is set, the TRUE_* MSRs give the real rules
 * for four of the words (some default-1 controls may then be 0); the
 * secondary word has a single MSR.
 */
#ifndef PV_VMM_VMX_VMX_CONTROLS_H
#define PV_VMM_VMX_VMX_CONTROLS_H

#include <stdbool.h>
#include <stdint.h>

/* Capability MSRs not already named in vmm/arch.h. */
#define MSR_IA32_VMX_EXIT_CTLS 0x483u
#define MSR_IA32_VMX_ENTRY_CTLS 0x484u
#define MSR_IA32_VMX_MISC 0x485u
#define MSR_IA32_VMX_CR0_FIXED0 0x486u
#define MSR_IA32_VMX_CR0_FIXED1 0x487u
#define MSR_IA32_VMX_CR4_FIXED0 0x488u
#define MSR_IA32_VMX_CR4_FIXED1 0x489u
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48Fu
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490u

/* IA32_VMX_BASIC */
#define VMX_BASIC_REVISION_MASK 0x7FFFFFFFull
#define VMX_BASIC_REGION_SIZE_SHIFT 32
#define VMX_BASIC_REGION_SIZE_MASK (0x1FFFull << VMX_BASIC_REGION_SIZE_SHIFT)
#define VMX_BASIC_ADDR_32BIT (1ull << 48) /* VMX structures must be below 4 GiB */
#define VMX_BASIC_MEMTYPE_SHIFT 50
#define VMX_BASIC_MEMTYPE_MASK (0xFull << VMX_BASIC_MEMTYPE_SHIFT)
#define VMX_BASIC_IO_EXIT_INFO (1ull << 54)
#define VMX_BASIC_TRUE_CONTROLS (1ull << 55)

/* IA32_VMX_MISC */
#define VMX_MISC_ACTIVITY_HLT (1ull << 6)
#define VMX_MISC_PREEMPT_RATE_MASK 0x1Full /* timer ticks every 2^rate TSC ticks */

enum vmx_ctl_word {
    VMX_CTL_PIN,
    VMX_CTL_PROC,
    VMX_CTL_PROC2,
    VMX_CTL_EXIT,
    VMX_CTL_ENTRY,
    VMX_CTL_WORDS,
};

/* "pin-based", "primary processor-based", ... */
const char *vmx_ctl_word_name(enum vmx_ctl_word w);
/* SDM name of control bit in word w ("HLT exiting"), or "reserved bit". */
const char *vmx_ctl_name(enum vmx_ctl_word w, unsigned bit);
/* The capability MSR that rules word w. */
uint32_t vmx_ctl_cap_msr(enum vmx_ctl_word w, bool true_ctls);

/*
 * The allowed-0/allowed-1 rule: *out = every control that must be 1, plus
 * wanted, plus those of optional the CPU allows, minus nothing else.
 * Returns 0, or -1 when a wanted control is not allowed to be 1 (or the
 * MSR contradicts itself: a control that must be 1 may not be 1); then
 * *missing_name is that control's name and *out is left unchanged.
 */
int vmx_adjust_controls(enum vmx_ctl_word w, uint64_t cap_msr, uint32_t wanted,
                        uint32_t optional, uint32_t *out, const char **missing_name);

/*
 * All five words at once, as a hypervisor below us (nested KVM's L0) or
 * the CPU offers them. caps[w] is word w's capability MSR (the TRUE_* one
 * where the CPU has them). For each word, policy[w].wanted must be 1 and
 * policy[w].optional is taken where allowed. Rules across words: without
 * "activate secondary controls" allowed the secondary word is empty, and
 * "unrestricted guest" is dropped without "enable EPT" (SDM: invalid
 * otherwise). Returns 0 with plan->ctl set, or -1 when some wanted control
 * is refused: plan->missing names every such control (per word), and the
 * first one is plan->missing_word/missing_bit. plan->dropped holds the
 * optional controls not offered (vmx_ctl_fallback says what pagevisor does
 * without each).
 */
struct vmx_ctl_policy {
    uint32_t wanted, optional;
};
struct vmx_ctl_plan {
    uint32_t ctl[VMX_CTL_WORDS];
    uint32_t dropped[VMX_CTL_WORDS];
    uint32_t missing[VMX_CTL_WORDS];
    enum vmx_ctl_word missing_word;
    unsigned missing_bit;
};
int vmx_plan_controls(const uint64_t caps[VMX_CTL_WORDS],
                      const struct vmx_ctl_policy policy[VMX_CTL_WORDS], struct vmx_ctl_plan *plan);

/* What pagevisor does without optional control bit of word w ("background
 * reclaim runs on exits only"), or NULL for a control it never asks for. */
const char *vmx_ctl_fallback(enum vmx_ctl_word w, unsigned bit);

/* Whether value satisfies cap_msr (every must-be-1 set, no may-not-be-1
 * set); *bad gets the first offending bit (for logs). */
bool vmx_controls_valid(uint64_t cap_msr, uint32_t value, unsigned *bad);

#endif

/* Unit tests for the nested-KVM capability logic: IA32_FEATURE_CONTROL
 * before VMXON (vmm/arch/cpufeat_featctl.c) and the VMX control plan with
 * controls an outer hypervisor does not offer (vmm/vmx/vmx_controls.c).
 *
 * Where the values come from (reconstructed from documentation, not dumped
 * from a machine or copied from code):
 * - IA32_FEATURE_CONTROL: SDM vol. 3C "Enabling and entering VMX operation"
 *   and vol. 4 (MSR 3AH): bit 0 lock, bit 1 VMX in SMX, bit 2 VMX outside
 *   SMX, bits 14:8 SENTER enables, bit 15 SENTER global, bit 18 SGX, bit 20
 *   LMCE; zero after reset.
 * - Capability MSRs: the SDM's appendix A "default1" classes (pin-based
 *   bits 1, 2, 4; primary processor-based 1, 4-6, 8, 13-16, 26; VM-exit
 *   0-8, 10, 11, 13, 14, 16, 17; VM-entry 0-8, 12), which the TRUE_* MSRs
 *   may clear, and for the allowed-1 halves the features kvm_intel's module
 *   parameters (ept, unrestricted_guest, vpid, preemption_timer, per
 *   `modinfo kvm_intel`) withhold from a nested guest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/arch/cpufeat.h"
#include "vmm/vmx/vmcs.h"
#include "vmm/vmx/vmx_controls.h"

#define CAP(allowed0, allowed1) (((uint64_t)(allowed1) << 32) | (uint32_t)(allowed0))

/* ---- IA32_FEATURE_CONTROL ------------------------------------------------ */
#define FC_SENTER_ALL (0x7Full << 8 | 1ull << 15)
#define FC_SGX (1ull << 18)
#define FC_LMCE (1ull << 20)

static void test_featctl_reset_value_is_locked_with_vmx(void **state)
{
    (void)state;
    uint64_t w = 0;
    const char *why = NULL;
    /* 0 after reset; what a loader that skipped the firmware's step leaves */
    assert_int_equal(featctl_plan(0, &w, &why), FEATCTL_ACT_LOCK);
    assert_int_equal(w, FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX);
    assert_non_null(strstr(why, "unlocked"));
    /* bits firmware set before us are kept */
    assert_int_equal(featctl_plan(FC_SGX, &w, &why), FEATCTL_ACT_LOCK);
    assert_int_equal(w, FC_SGX | FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX);
}

static void test_featctl_locked_on_is_used(void **state)
{
    (void)state;
    uint64_t w = 0;
    const char *why = NULL;
    /* 0x5: firmware with VT-x on; what OVMF/SeaBIOS write under QEMU/KVM */
    assert_int_equal(featctl_plan(0x5, &w, &why), FEATCTL_ACT_USE);
    assert_int_equal(w, 0x5);
    /* 0x7: VMX both inside and outside SMX */
    assert_int_equal(featctl_plan(0x7, &w, &why), FEATCTL_ACT_USE);
    /* with LMCE and SGX enabled too */
    assert_int_equal(featctl_plan(0x5 | FC_LMCE | FC_SGX, &w, &why), FEATCTL_ACT_USE);
}

static void test_featctl_locked_without_vmx_is_refused_by_name(void **state)
{
    (void)state;
    uint64_t w = 0;
    const char *why = NULL;
    /* 0x1: VT-x off in the firmware setup */
    assert_int_equal(featctl_plan(0x1, &w, &why), FEATCTL_ACT_REFUSE);
    assert_non_null(strstr(why, "VMX off"));
    assert_non_null(strstr(why, "enable VT-x in the firmware setup"));
    assert_non_null(strstr(why, "nested=1"));
    /* 0x3 (+ SENTER): VMX only for a TXT measured launch */
    assert_int_equal(featctl_plan(0x3 | FC_SENTER_ALL, &w, &why), FEATCTL_ACT_REFUSE);
    assert_non_null(strstr(why, "only inside SMX"));
    /* SGX alone does not help */
    assert_int_equal(featctl_plan(0x1 | FC_SGX, &w, &why), FEATCTL_ACT_REFUSE);
}

static void test_featctl_write_is_read_back(void **state)
{
    (void)state;
    const char *why = NULL;
    const uint64_t want = FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX;
    assert_int_equal(featctl_verify(want, 0, 0x5, &why), 0);
    /* the hypervisor below refused the write (#GP) */
    assert_int_equal(featctl_verify(want, 1, 0, &why), -1);
    assert_non_null(strstr(why, "#GP"));
    /* ... or dropped it: still 0 */
    assert_int_equal(featctl_verify(want, 0, 0, &why), -1);
    assert_non_null(strstr(why, "did not stick"));
    /* locked, but the VMX bit was not taken */
    assert_int_equal(featctl_verify(want, 0, FEATCTL_LOCK, &why), -1);
}

/* ---- VMX controls under an outer hypervisor ------------------------------- */
#define PIN_DEFAULT1 0x16u
#define PROC_TRUE_DEFAULT1 0x04006172u   /* default1 minus CR3-load/store exiting */
#define EXIT_TRUE_DEFAULT1 0x00036DFBu   /* default1 minus "save debug controls" */
#define ENTRY_TRUE_DEFAULT1 0x000011FBu  /* default1 minus "load debug controls" */

/* An L1 under KVM with every module parameter at its default. */
#define L1_PIN CAP(PIN_DEFAULT1, 0x7Fu)   /* ext-int, NMI, virtual NMIs, preemption timer */
#define L1_PROC CAP(PROC_TRUE_DEFAULT1, 0xFFF9FFFEu)
#define L1_PROC2_ALL (VMX_PROC2_VIRT_APIC_ACCESS | VMX_PROC2_EPT | VMX_PROC2_DESC_TABLE_EXIT | \
                      VMX_PROC2_RDTSCP | VMX_PROC2_VIRT_X2APIC | VMX_PROC2_VPID | \
                      VMX_PROC2_WBINVD_EXITING | VMX_PROC2_UNRESTRICTED | VMX_PROC2_INVPCID | \
                      VMX_PROC2_VMCS_SHADOWING | VMX_PROC2_XSAVES)
#define L1_PROC2 CAP(0, L1_PROC2_ALL)
#define L1_EXIT CAP(EXIT_TRUE_DEFAULT1, 0x003FFFFFu)
#define L1_ENTRY CAP(ENTRY_TRUE_DEFAULT1, 0x0000FFFFu)

/* pagevisor's policy (vmm/vmx/vmx_setup.c), VPID added as it does. */
static const struct vmx_ctl_policy policy[VMX_CTL_WORDS] = {
    [VMX_CTL_PIN] = { 0, VMX_PIN_PREEMPT_TIMER },
    [VMX_CTL_PROC] = { VMX_PROC_HLT_EXITING | VMX_PROC_IO_BITMAPS | VMX_PROC_MSR_BITMAPS |
                           VMX_PROC_SECONDARY,
                       VMX_PROC_MWAIT_EXITING | VMX_PROC_MONITOR_EXITING },
    [VMX_CTL_PROC2] = { VMX_PROC2_EPT, VMX_PROC2_UNRESTRICTED | VMX_PROC2_RDTSCP |
                                           VMX_PROC2_INVPCID | VMX_PROC2_XSAVES |
                                           VMX_PROC2_USER_WAIT_PAUSE | VMX_PROC2_VPID },
    [VMX_CTL_EXIT] = { VMX_EXIT_HOST_64BIT | VMX_EXIT_SAVE_EFER | VMX_EXIT_LOAD_EFER |
                           VMX_EXIT_SAVE_PAT | VMX_EXIT_LOAD_PAT,
                       VMX_EXIT_SAVE_DEBUG },
    [VMX_CTL_ENTRY] = { VMX_ENTRY_IA32E_GUEST | VMX_ENTRY_LOAD_EFER | VMX_ENTRY_LOAD_PAT,
                        VMX_ENTRY_LOAD_DEBUG },
};

static void l1_caps(uint64_t caps[VMX_CTL_WORDS])
{
    caps[VMX_CTL_PIN] = L1_PIN;
    caps[VMX_CTL_PROC] = L1_PROC;
    caps[VMX_CTL_PROC2] = L1_PROC2;
    caps[VMX_CTL_EXIT] = L1_EXIT;
    caps[VMX_CTL_ENTRY] = L1_ENTRY;
}

static void test_plan_default_kvm_l1(void **state)
{
    (void)state;
    uint64_t caps[VMX_CTL_WORDS];
    struct vmx_ctl_plan p;
    l1_caps(caps);
    assert_int_equal(vmx_plan_controls(caps, policy, &p), 0);
    for (int w = 0; w < VMX_CTL_WORDS; w++) {
        assert_int_equal(p.missing[w], 0);
        assert_int_equal(p.ctl[w] & policy[w].wanted, policy[w].wanted);
        /* every control satisfies its capability MSR */
        assert_true(vmx_controls_valid(caps[w], p.ctl[w], NULL));
    }
    assert_true(p.ctl[VMX_CTL_PIN] & VMX_PIN_PREEMPT_TIMER);
    assert_true(p.ctl[VMX_CTL_PROC2] & VMX_PROC2_UNRESTRICTED);
    assert_false(p.ctl[VMX_CTL_PROC] & VMX_PROC_CR3_LOAD_EXITING);
    /* only "enable user wait and pause" is not offered by this L0 */
    assert_int_equal(p.dropped[VMX_CTL_PROC2], VMX_PROC2_USER_WAIT_PAUSE);
    assert_int_equal(p.dropped[VMX_CTL_PIN] | p.dropped[VMX_CTL_PROC] | p.dropped[VMX_CTL_EXIT] |
                         p.dropped[VMX_CTL_ENTRY],
                     0);
}

static void test_plan_kvm_ept_off_names_enable_ept(void **state)
{
    (void)state;
    uint64_t caps[VMX_CTL_WORDS];
    struct vmx_ctl_plan p;
    l1_caps(caps);
    /* kvm_intel ept=0: no EPT, and so no unrestricted guest either */
    caps[VMX_CTL_PROC2] = CAP(0, L1_PROC2_ALL & ~(VMX_PROC2_EPT | VMX_PROC2_UNRESTRICTED));
    assert_int_equal(vmx_plan_controls(caps, policy, &p), -1);
    assert_int_equal(p.missing_word, VMX_CTL_PROC2);
    assert_string_equal(vmx_ctl_name(p.missing_word, p.missing_bit), "enable EPT");
    assert_int_equal(p.missing[VMX_CTL_PROC2], VMX_PROC2_EPT);
    assert_true(p.dropped[VMX_CTL_PROC2] & VMX_PROC2_UNRESTRICTED);
}

static void test_plan_kvm_optional_params_off_fall_back(void **state)
{
    (void)state;
    uint64_t caps[VMX_CTL_WORDS];
    struct vmx_ctl_plan p;
    l1_caps(caps);
    /* kvm_intel preemption_timer=0 vpid=0 unrestricted_guest=0 */
    caps[VMX_CTL_PIN] = CAP(PIN_DEFAULT1, 0x3Fu);
    caps[VMX_CTL_PROC2] = CAP(0, L1_PROC2_ALL & ~(VMX_PROC2_VPID | VMX_PROC2_UNRESTRICTED));
    assert_int_equal(vmx_plan_controls(caps, policy, &p), 0);
    assert_int_equal(p.dropped[VMX_CTL_PIN], VMX_PIN_PREEMPT_TIMER);
    assert_int_equal(p.dropped[VMX_CTL_PROC2],
                     VMX_PROC2_VPID | VMX_PROC2_UNRESTRICTED | VMX_PROC2_USER_WAIT_PAUSE);
    assert_false(p.ctl[VMX_CTL_PIN] & VMX_PIN_PREEMPT_TIMER);
    assert_false(p.ctl[VMX_CTL_PROC2] & (VMX_PROC2_VPID | VMX_PROC2_UNRESTRICTED));
    assert_true(p.ctl[VMX_CTL_PROC2] & VMX_PROC2_EPT);
    /* every dropped control has a stated consequence */
    assert_non_null(strstr(vmx_ctl_fallback(VMX_CTL_PIN, 6), "reclaim"));
    assert_non_null(strstr(vmx_ctl_fallback(VMX_CTL_PROC2, 5), "flushed"));
    assert_non_null(strstr(vmx_ctl_fallback(VMX_CTL_PROC2, 7), "long mode"));
    assert_non_null(vmx_ctl_fallback(VMX_CTL_PROC2, 26));
    assert_null(vmx_ctl_fallback(VMX_CTL_PROC2, 17)); /* PML: never asked for */
    assert_null(vmx_ctl_fallback(VMX_CTL_PROC2, 40));
}

static void test_plan_no_secondary_controls(void **state)
{
    (void)state;
    uint64_t caps[VMX_CTL_WORDS];
    struct vmx_ctl_plan p;
    l1_caps(caps);
    /* an old L0 (or CPU) without secondary controls: whatever the secondary
     * MSR claims, none of its controls can be used */
    caps[VMX_CTL_PROC] = CAP(PROC_TRUE_DEFAULT1, 0x7FF9FFFEu);
    assert_int_equal(vmx_plan_controls(caps, policy, &p), -1);
    assert_int_equal(p.missing_word, VMX_CTL_PROC);
    assert_string_equal(vmx_ctl_name(p.missing_word, p.missing_bit),
                        "activate secondary controls");
    assert_int_equal(p.missing[VMX_CTL_PROC2], VMX_PROC2_EPT);
}

static void test_plan_missing_exit_control_is_named(void **state)
{
    (void)state;
    uint64_t caps[VMX_CTL_WORDS];
    struct vmx_ctl_plan p;
    l1_caps(caps);
    /* an L0 that does not switch EFER for its guest on exit */
    caps[VMX_CTL_EXIT] = CAP(EXIT_TRUE_DEFAULT1, 0x003FFFFFu & ~VMX_EXIT_LOAD_EFER);
    assert_int_equal(vmx_plan_controls(caps, policy, &p), -1);
    assert_int_equal(p.missing_word, VMX_CTL_EXIT);
    assert_string_equal(vmx_ctl_name(p.missing_word, p.missing_bit), "load IA32_EFER");
    /* the other words are still planned, for the log */
    assert_int_equal(p.missing[VMX_CTL_PROC2] | p.missing[VMX_CTL_ENTRY], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_featctl_reset_value_is_locked_with_vmx),
        cmocka_unit_test(test_featctl_locked_on_is_used),
        cmocka_unit_test(test_featctl_locked_without_vmx_is_refused_by_name),
        cmocka_unit_test(test_featctl_write_is_read_back),
        cmocka_unit_test(test_plan_default_kvm_l1),
        cmocka_unit_test(test_plan_kvm_ept_off_names_enable_ept),
        cmocka_unit_test(test_plan_kvm_optional_params_off_fall_back),
        cmocka_unit_test(test_plan_no_secondary_controls),
        cmocka_unit_test(test_plan_missing_exit_control_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

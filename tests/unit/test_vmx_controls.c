/* Unit tests for VMX control computation (vmm/vmx/vmx_controls.c) and the
 * CR0/CR4/XCR0 rules under VMX (vmm/vmx/vmx_cr.c), from capability-MSR
 * values as real CPUs and Bochs report them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/arch/arch.h"
#include "vmm/vmx/vmcs.h"
#include "vmm/vmx/vmx_controls.h"
#include "vmm/vmx/vmx_cr.h"

/* Skylake: IA32_VMX_PROCBASED_CTLS forces CR3-load/store exiting (bits 15,
 * 16 in the allowed-0 half); the TRUE MSR lets them be 0. */
#define SKL_PROCBASED 0xFFF9FFFE0401E172ull
#define SKL_TRUE_PROCBASED 0xFFF9FFFE04006172ull
#define SKL_PROCBASED2 0x004FFCFF00000000ull   /* no XSAVES (bit 20 clear) */
#define SKL_PINBASED 0x0000007F00000016ull
#define SKL_CR0_FIXED0 0x80000021ull            /* PE, NE, PG */
#define SKL_CR0_FIXED1 0xFFFFFFFFull
#define SKL_CR4_FIXED0 0x2000ull                /* VMXE */
#define SKL_CR4_FIXED1 0x3727FFull

static void test_forced_wanted_and_optional(void **state)
{
    (void)state;
    uint32_t out = 0;
    const char *missing = NULL;
    uint32_t wanted = VMX_PROC_HLT_EXITING | VMX_PROC_IO_BITMAPS | VMX_PROC_MSR_BITMAPS |
                      VMX_PROC_SECONDARY;
    assert_int_equal(vmx_adjust_controls(VMX_CTL_PROC, SKL_TRUE_PROCBASED, wanted,
                                         VMX_PROC_MWAIT_EXITING, &out, &missing), 0);
    assert_int_equal(out & wanted, wanted);
    assert_true(out & VMX_PROC_MWAIT_EXITING);
    /* the default-1 bits of the allowed-0 half are always there */
    assert_int_equal(out & 0x04006172u, 0x04006172u);
    assert_false(out & (VMX_PROC_CR3_LOAD_EXITING | VMX_PROC_CR3_STORE_EXITING));
    assert_null(missing);

    /* without the TRUE MSR, CR3 exiting comes with it */
    assert_int_equal(vmx_adjust_controls(VMX_CTL_PROC, SKL_PROCBASED, wanted, 0, &out, NULL), 0);
    assert_true(out & VMX_PROC_CR3_LOAD_EXITING);
    assert_true(out & VMX_PROC_CR3_STORE_EXITING);
}

static void test_optional_dropped_when_not_allowed(void **state)
{
    (void)state;
    uint32_t out = 0;
    assert_int_equal(vmx_adjust_controls(VMX_CTL_PROC2, SKL_PROCBASED2, VMX_PROC2_EPT,
                                         VMX_PROC2_RDTSCP | VMX_PROC2_XSAVES, &out, NULL), 0);
    assert_int_equal(out, VMX_PROC2_EPT | VMX_PROC2_RDTSCP);
}

static void test_missing_wanted_control_is_named(void **state)
{
    (void)state;
    uint32_t out = 0xDEADBEEF;
    const char *missing = NULL;
    /* Penryn-like: no secondary controls, so no EPT */
    uint64_t no_ept = 0x0000000000000000ull;
    assert_int_equal(vmx_adjust_controls(VMX_CTL_PROC2, no_ept, VMX_PROC2_EPT, 0, &out,
                                         &missing), -1);
    assert_string_equal(missing, "enable EPT");
    assert_int_equal(out, 0xDEADBEEF);

    uint64_t no_hlt = SKL_TRUE_PROCBASED & ~((uint64_t)VMX_PROC_HLT_EXITING << 32);
    assert_int_equal(vmx_adjust_controls(VMX_CTL_PROC, no_hlt,
                                         VMX_PROC_HLT_EXITING | VMX_PROC_SECONDARY, 0, &out,
                                         &missing), -1);
    assert_string_equal(missing, "HLT exiting");

    uint64_t no_efer = 0x01FFFFFF00036DFBull & ~((uint64_t)VMX_EXIT_LOAD_EFER << 32);
    assert_int_equal(vmx_adjust_controls(VMX_CTL_EXIT, no_efer,
                                         VMX_EXIT_HOST_64BIT | VMX_EXIT_LOAD_EFER, 0, &out,
                                         &missing), -1);
    assert_string_equal(missing, "load IA32_EFER");
}

static void test_contradictory_msr_is_refused(void **state)
{
    (void)state;
    uint32_t out = 0;
    const char *missing = NULL;
    /* bit 0 must be 1 (allowed-0 half) but may not be 1 (allowed-1 half) */
    assert_int_equal(vmx_adjust_controls(VMX_CTL_PIN, 0x0000001000000001ull, 0, 0, &out,
                                         &missing), -1);
    assert_string_equal(missing, "external-interrupt exiting");
}

static void test_names_and_msrs(void **state)
{
    (void)state;
    assert_string_equal(vmx_ctl_name(VMX_CTL_PROC2, 1), "enable EPT");
    assert_string_equal(vmx_ctl_name(VMX_CTL_ENTRY, 9), "IA-32e mode guest");
    assert_string_equal(vmx_ctl_name(VMX_CTL_EXIT, 15), "acknowledge interrupt on exit");
    assert_string_equal(vmx_ctl_name(VMX_CTL_PIN, 1), "reserved bit");
    assert_string_equal(vmx_ctl_name(VMX_CTL_PIN, 40), "reserved bit");
    assert_string_equal(vmx_ctl_word_name(VMX_CTL_PROC2), "secondary processor-based");
    assert_int_equal(vmx_ctl_cap_msr(VMX_CTL_PIN, true), MSR_IA32_VMX_TRUE_PINBASED_CTLS);
    assert_int_equal(vmx_ctl_cap_msr(VMX_CTL_PIN, false), MSR_IA32_VMX_PINBASED_CTLS);
    assert_int_equal(vmx_ctl_cap_msr(VMX_CTL_EXIT, true), MSR_IA32_VMX_TRUE_EXIT_CTLS);
    assert_int_equal(vmx_ctl_cap_msr(VMX_CTL_ENTRY, false), MSR_IA32_VMX_ENTRY_CTLS);
    /* the secondary word has no TRUE MSR */
    assert_int_equal(vmx_ctl_cap_msr(VMX_CTL_PROC2, true), MSR_IA32_VMX_PROCBASED_CTLS2);
}

static void test_controls_valid(void **state)
{
    (void)state;
    unsigned bad = 99;
    assert_true(vmx_controls_valid(SKL_PINBASED, 0x16, &bad));
    assert_false(vmx_controls_valid(SKL_PINBASED, 0x06, &bad));   /* bit 4 required */
    assert_int_equal(bad, 4);
    assert_false(vmx_controls_valid(SKL_PINBASED, 0x116, &bad));  /* bit 8 not allowed */
    assert_int_equal(bad, 8);
}

static void test_cr0_rule(void **state)
{
    (void)state;
    struct vmx_cr_rule r;
    uint64_t real = 0;
    vmx_cr0_rule(SKL_CR0_FIXED0, SKL_CR0_FIXED1, true, &r);
    /* unrestricted guest: only NE is forced; PE/PG are the guest's */
    assert_int_equal(r.must1, VMX_CR0_NE);
    assert_true(r.mask & VMX_CR0_NE);
    assert_false(r.mask & (VMX_CR0_PE | VMX_CR0_PG));
    const uint64_t linux_cr0 = VMX_CR0_PE | (1ull << 4) | VMX_CR0_PG; /* no NE */
    assert_int_equal(vmx_cr0_apply(&r, linux_cr0, &real), 0);
    assert_int_equal(real, linux_cr0 | VMX_CR0_NE);
    /* the guest reads back what it wrote */
    assert_int_equal(vmx_cr_guest_view(&r, real, linux_cr0), linux_cr0);
    /* NW without CD, PG without PE, reserved high bits: #GP */
    assert_int_equal(vmx_cr0_apply(&r, linux_cr0 | VMX_CR0_NW, &real), -1);
    assert_int_equal(vmx_cr0_apply(&r, VMX_CR0_PG, &real), -1);
    assert_int_equal(vmx_cr0_apply(&r, linux_cr0 | (1ull << 40), &real), -1);
    assert_int_equal(vmx_cr0_apply(&r, linux_cr0 | VMX_CR0_NW | VMX_CR0_CD, &real), 0);

    vmx_cr0_rule(SKL_CR0_FIXED0, SKL_CR0_FIXED1, false, &r);
    assert_int_equal(r.must1, VMX_CR0_PE | VMX_CR0_NE | VMX_CR0_PG);
}

static void test_cr4_rule(void **state)
{
    (void)state;
    struct vmx_cr_rule r;
    uint64_t real = 0;
    vmx_cr4_rule(SKL_CR4_FIXED0, SKL_CR4_FIXED1, &r);
    const uint64_t linux_cr4 = VMX_CR4_PAE | (1ull << 7) | VMX_CR4_OSXSAVE;
    assert_int_equal(vmx_cr4_apply(&r, linux_cr4, &real), 0);
    assert_int_equal(real, linux_cr4 | VMX_CR4_VMXE);
    assert_int_equal(vmx_cr_guest_view(&r, real, linux_cr4), linux_cr4);
    /* VMX is hidden: setting VMXE faults; so does a bit FIXED1 forbids */
    assert_int_equal(vmx_cr4_apply(&r, linux_cr4 | VMX_CR4_VMXE, &real), -1);
    assert_int_equal(vmx_cr4_apply(&r, linux_cr4 | (1ull << 22), &real), -1);
    assert_true(r.mask & VMX_CR4_VMXE);
    assert_false(r.mask & VMX_CR4_PAE);
}

static void test_xcr0(void **state)
{
    (void)state;
    const uint64_t sup = XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512;
    assert_true(vmx_xcr0_valid(0, XCR0_X87 | XCR0_SSE | XCR0_AVX, sup));
    assert_true(vmx_xcr0_valid(0, XCR0_X87, sup));
    assert_true(vmx_xcr0_valid(0, sup, sup));
    assert_false(vmx_xcr0_valid(1, XCR0_X87, sup));                      /* XCR1 */
    assert_false(vmx_xcr0_valid(0, XCR0_SSE, sup));                      /* no x87 */
    assert_false(vmx_xcr0_valid(0, XCR0_X87 | XCR0_AVX, sup));           /* AVX w/o SSE */
    assert_false(vmx_xcr0_valid(0, XCR0_X87 | XCR0_SSE | (1ull << 5), sup)); /* partial 512 */
    assert_false(vmx_xcr0_valid(0, XCR0_X87 | XCR0_SSE | XCR0_AVX512, sup)); /* 512 w/o AVX */
    assert_false(vmx_xcr0_valid(0, XCR0_X87 | XCR0_BNDREGS | XCR0_BNDCSR, sup)); /* unsupported */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forced_wanted_and_optional),
        cmocka_unit_test(test_optional_dropped_when_not_allowed),
        cmocka_unit_test(test_missing_wanted_control_is_named),
        cmocka_unit_test(test_contradictory_msr_is_refused),
        cmocka_unit_test(test_names_and_msrs),
        cmocka_unit_test(test_controls_valid),
        cmocka_unit_test(test_cr0_rule),
        cmocka_unit_test(test_cr4_rule),
        cmocka_unit_test(test_xcr0),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for virtualization feature decoding (vmm/cpufeat.c) from raw
 * capability-MSR and CPUID values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/arch/cpufeat.h"

/* Skylake-class values with EPT/VPID/unrestricted guest; the EPT/VPID cap
 * has 4-level walks, WB, 2M, 1G, A/D, INVEPT single+all. */
static const struct vmx_raw skylake = {
    .feature_control = FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX,
    .basic = 0x00DA040000000004ull,          /* bit 55: TRUE_CTLS */
    .pinbased = 0x0000007F00000016ull,       /* allowed-1 bit 6: preemption timer */
    .procbased = 0xFFF9FFFE0401E172ull,      /* allowed-1 bit 31: secondary */
    .procbased2 = 0x005FFCFF00000000ull,     /* EPT, VPID, unrestricted */
    .ept_vpid_cap = 0x00000F0106734141ull,
};

static struct vmx_features vmx(const struct vmx_raw *raw)
{
    struct vmx_features v;
    memset(&v, 0xA5, sizeof(v)); /* decode must set every field */
    vmx_decode(&v, true, raw);
    return v;
}

static void test_vmx_skylake(void **state)
{
    (void)state;
    struct vmx_features v = vmx(&skylake);
    assert_true(v.present);
    assert_int_equal(v.featctl, FEATCTL_LOCKED_ON);
    assert_true(v.true_ctls);
    assert_true(v.ept && v.ept_4level && v.ept_wb && v.ept_2m && v.ept_1g && v.ept_ad);
    assert_true(v.invept && v.invept_single && v.invept_all);
    assert_true(v.unrestricted && v.preempt_timer && v.vpid);
}

static void test_vmx_absent_clears_everything(void **state)
{
    (void)state;
    struct vmx_features v, zero;
    memset(&v, 0xA5, sizeof(v));
    memset(&zero, 0, sizeof(zero));
    vmx_decode(&v, false, &skylake);
    assert_memory_equal(&v, &zero, sizeof(v));
}

static void test_vmx_feature_control(void **state)
{
    (void)state;
    struct vmx_raw r = skylake;
    r.feature_control = 0;
    assert_int_equal(vmx(&r).featctl, FEATCTL_UNLOCKED);
    r.feature_control = FEATCTL_VMX_OUTSIDE_SMX; /* enabled but not locked */
    assert_int_equal(vmx(&r).featctl, FEATCTL_UNLOCKED);
    r.feature_control = FEATCTL_LOCK;
    assert_int_equal(vmx(&r).featctl, FEATCTL_LOCKED_OFF);
    r.feature_control = FEATCTL_LOCK | (1ull << 1); /* VMX only inside SMX */
    assert_int_equal(vmx(&r).featctl, FEATCTL_LOCKED_OFF);
    r.feature_control = FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX;
    assert_int_equal(vmx(&r).featctl, FEATCTL_LOCKED_ON);
}

static void test_vmx_true_ctls_and_timer(void **state)
{
    (void)state;
    struct vmx_raw r = skylake;
    r.basic &= ~VMX_BASIC_TRUE_CTLS;
    r.pinbased = 0x0000003F00000016ull; /* no preemption timer */
    struct vmx_features v = vmx(&r);
    assert_false(v.true_ctls);
    assert_false(v.preempt_timer);
    assert_true(v.ept);
    /* a 0 in the allowed-0 half must not be mistaken for the capability */
    r.pinbased = 0x0000001600000040ull;
    assert_false(vmx(&r).preempt_timer);
}

static void test_vmx_no_secondary_means_no_ept(void **state)
{
    (void)state;
    struct vmx_raw r = skylake;
    r.procbased &= ~((uint64_t)PROC_ACTIVATE_SECONDARY << 32);
    struct vmx_features v = vmx(&r);
    assert_true(v.present);
    assert_false(v.ept || v.vpid || v.unrestricted || v.invept || v.ept_4level);
}

static void test_vmx_no_ept(void **state)
{
    (void)state;
    struct vmx_raw r = skylake;
    r.procbased2 &= ~((uint64_t)PROC2_ENABLE_EPT << 32);
    struct vmx_features v = vmx(&r);
    assert_false(v.ept);
    assert_true(v.vpid);
    /* EPT capabilities are meaningless without EPT */
    assert_false(v.ept_4level || v.ept_wb || v.ept_2m || v.ept_1g || v.invept);
}

static void test_vmx_invept_types(void **state)
{
    (void)state;
    struct vmx_raw r = skylake;
    r.ept_vpid_cap &= ~(EPTCAP_INVEPT_SINGLE | EPTCAP_INVEPT_ALL);
    struct vmx_features v = vmx(&r);
    assert_true(v.invept && !v.invept_single && !v.invept_all);
    r.ept_vpid_cap = skylake.ept_vpid_cap & ~EPTCAP_INVEPT_SINGLE;
    v = vmx(&r);
    assert_true(v.invept && !v.invept_single && v.invept_all);
    r.ept_vpid_cap = skylake.ept_vpid_cap & ~EPTCAP_INVEPT_ALL;
    v = vmx(&r);
    assert_true(v.invept && v.invept_single && !v.invept_all);
    /* type bits without the INVEPT instruction count for nothing */
    r.ept_vpid_cap = skylake.ept_vpid_cap & ~EPTCAP_INVEPT;
    v = vmx(&r);
    assert_false(v.invept || v.invept_single || v.invept_all);
    /* Bochs-like: only 4-level + WB + INVEPT */
    r.ept_vpid_cap = EPTCAP_PWL4 | EPTCAP_WB | EPTCAP_INVEPT | EPTCAP_INVEPT_ALL;
    v = vmx(&r);
    assert_true(v.ept_4level && v.ept_wb && v.invept_all);
    assert_false(v.ept_2m || v.ept_1g || v.ept_ad || v.invept_single);
}

static struct svm_features svm(bool present, uint64_t vm_cr, uint32_t edx, uint32_t ebx)
{
    struct svm_features s;
    struct svm_raw raw = { vm_cr, edx, ebx };
    memset(&s, 0xA5, sizeof(s));
    svm_decode(&s, present, &raw);
    return s;
}

/* Zen 3: CPUID 0x8000000A EDX, 32768 ASIDs */
#define ZEN3_SVM_EDX 0x0001BCFFu
#define ZEN3_ASIDS 0x8000u

static void test_svm_decode(void **state)
{
    (void)state;
    struct svm_features s = svm(true, 0, ZEN3_SVM_EDX, ZEN3_ASIDS);
    assert_true(s.present && !s.disabled);
    assert_true(s.npt && s.nrip && s.decode_assists && s.flush_by_asid);
    assert_int_equal(s.nasid, ZEN3_ASIDS);

    s = svm(true, VM_CR_SVMDIS, ZEN3_SVM_EDX, ZEN3_ASIDS);
    assert_true(s.disabled && s.npt);
    /* VM_CR's lock bit (3) alone does not disable SVM */
    assert_false(svm(true, 1ull << 3, ZEN3_SVM_EDX, ZEN3_ASIDS).disabled);

    s = svm(true, 0, CPUID_SVM_EDX_NRIPS, 16); /* no NPT */
    assert_false(s.npt || s.decode_assists || s.flush_by_asid);
    assert_true(s.nrip);
    assert_int_equal(s.nasid, 16);

    struct svm_features zero;
    memset(&zero, 0, sizeof(zero));
    s = svm(false, VM_CR_SVMDIS, ZEN3_SVM_EDX, ZEN3_ASIDS);
    assert_memory_equal(&s, &zero, sizeof(s));
}

/* A CPU with one backend usable and the other absent. */
static struct cpu_features intel_cpu(void)
{
    struct cpu_features f;
    memset(&f, 0, sizeof(f));
    strcpy(f.vendor, "GenuineIntel");
    struct svm_raw none = { 0, 0, 0 };
    vmx_decode(&f.vmx, true, &skylake);
    svm_decode(&f.svm, false, &none);
    return f;
}

static struct cpu_features amd_cpu(uint64_t vm_cr, uint32_t edx)
{
    struct cpu_features f;
    struct svm_raw raw = { vm_cr, edx, ZEN3_ASIDS };
    memset(&f, 0, sizeof(f));
    strcpy(f.vendor, "AuthenticAMD");
    struct vmx_raw none = { 0, 0, 0, 0, 0, 0 };
    vmx_decode(&f.vmx, false, &none);
    svm_decode(&f.svm, true, &raw);
    return f;
}

static void expect_none(const struct cpu_features *f, const char *why)
{
    char buf[256];
    assert_int_equal(cpufeat_choose(f, buf, sizeof(buf)), VIRT_NONE);
    assert_string_equal(buf, why);
}

static void test_choose_usable(void **state)
{
    (void)state;
    char why[64];
    struct cpu_features f = intel_cpu();
    assert_int_equal(cpufeat_choose(&f, why, sizeof(why)), VIRT_VMX);
    assert_string_equal(why, "vmx+ept");
    f = amd_cpu(0, ZEN3_SVM_EDX);
    assert_int_equal(cpufeat_choose(&f, why, sizeof(why)), VIRT_SVM);
    assert_string_equal(why, "svm+npt");
    /* unlocked feature control is usable: the hypervisor locks it itself */
    struct vmx_raw r = skylake;
    r.feature_control = 0;
    f = intel_cpu();
    vmx_decode(&f.vmx, true, &r);
    assert_int_equal(cpufeat_choose(&f, why, sizeof(why)), VIRT_VMX);
    /* both usable (never on real parts, but possible in emulators): VMX */
    struct svm_raw sr = { 0, ZEN3_SVM_EDX, ZEN3_ASIDS };
    svm_decode(&f.svm, true, &sr);
    assert_int_equal(cpufeat_choose(&f, why, sizeof(why)), VIRT_VMX);
}

static void test_choose_refusals(void **state)
{
    (void)state;
    struct cpu_features f;
    memset(&f, 0, sizeof(f));
    expect_none(&f, "vmx: not offered by the CPU; svm: not offered by the CPU");

    struct vmx_raw r = skylake;
    r.feature_control = FEATCTL_LOCK;
    f = intel_cpu();
    vmx_decode(&f.vmx, true, &r);
    expect_none(&f, "vmx: disabled by firmware (IA32_FEATURE_CONTROL locked without VMX); "
                    "svm: not offered by the CPU");

    r = skylake;
    r.procbased2 &= ~((uint64_t)PROC2_ENABLE_EPT << 32);
    vmx_decode(&f.vmx, true, &r);
    expect_none(&f, "vmx: no EPT (secondary control 'enable EPT' not allowed); "
                    "svm: not offered by the CPU");

    r = skylake;
    r.procbased &= ~((uint64_t)PROC_ACTIVATE_SECONDARY << 32);
    vmx_decode(&f.vmx, true, &r);
    expect_none(&f, "vmx: no EPT (secondary control 'enable EPT' not allowed); "
                    "svm: not offered by the CPU");

    r = skylake;
    r.ept_vpid_cap &= ~EPTCAP_PWL4;
    vmx_decode(&f.vmx, true, &r);
    expect_none(&f, "vmx: EPT without 4-level page walk; svm: not offered by the CPU");

    r = skylake;
    r.ept_vpid_cap &= ~EPTCAP_WB;
    vmx_decode(&f.vmx, true, &r);
    expect_none(&f, "vmx: EPT without write-back paging-structure memory type; "
                    "svm: not offered by the CPU");

    r = skylake;
    r.ept_vpid_cap &= ~EPTCAP_INVEPT;
    vmx_decode(&f.vmx, true, &r);
    expect_none(&f, "vmx: EPT without INVEPT; svm: not offered by the CPU");

    f = amd_cpu(VM_CR_SVMDIS, ZEN3_SVM_EDX);
    expect_none(&f, "vmx: not offered by the CPU; svm: disabled by firmware (VM_CR.SVMDIS)");
    f = amd_cpu(0, ZEN3_SVM_EDX & ~CPUID_SVM_EDX_NP);
    expect_none(&f, "vmx: not offered by the CPU; svm: no nested paging (NPT)");
    /* disabled is reported before missing NPT */
    f = amd_cpu(VM_CR_SVMDIS, 0);
    expect_none(&f, "vmx: not offered by the CPU; svm: disabled by firmware (VM_CR.SVMDIS)");
}

static void test_choose_short_buffer(void **state)
{
    (void)state;
    struct cpu_features f;
    memset(&f, 0, sizeof(f));
    char why[12];
    memset(why, 'x', sizeof(why));
    assert_int_equal(cpufeat_choose(&f, why, sizeof(why)), VIRT_NONE);
    assert_string_equal(why, "vmx: not of");
}

struct lines {
    char l[32][128];
    size_t n;
};

static void collect(void *ctx, const char *line)
{
    struct lines *ls = ctx;
    assert_true(ls->n < 32);
    assert_true(strlen(line) < sizeof(ls->l[0]));
    strcpy(ls->l[ls->n++], line);
}

static void expect_lines(const struct cpu_features *f, const char *const *want, size_t n)
{
    struct lines ls;
    ls.n = 0;
    cpufeat_describe(f, collect, &ls);
    for (size_t i = 0; i < n && i < ls.n; i++)
        assert_string_equal(ls.l[i], want[i]);
    assert_int_equal(ls.n, n);
    /* every line is "feature NAME VALUE" */
    for (size_t i = 0; i < ls.n; i++) {
        const char *sp1 = strchr(ls.l[i], ' ');
        assert_non_null(sp1);
        assert_int_equal(sp1 - ls.l[i], 7);
        assert_memory_equal(ls.l[i], "feature", 7);
        const char *sp2 = strchr(sp1 + 1, ' ');
        assert_non_null(sp2);
        assert_true(sp2 > sp1 + 1 && sp2[1] != '\0');
    }
}

static void test_describe_intel(void **state)
{
    (void)state;
    struct cpu_features f = intel_cpu();
    static const char *const want[] = {
        "feature vendor GenuineIntel",
        "feature vmx yes",
        "feature vmx-feature-control locked-on",
        "feature ept yes",
        "feature ept-2m yes",
        "feature ept-1g yes",
        "feature ept-ad yes",
        "feature invept single,all",
        "feature vpid yes",
        "feature unrestricted-guest yes",
        "feature preemption-timer yes",
        "feature svm no",
    };
    expect_lines(&f, want, sizeof(want) / sizeof(want[0]));
}

static void test_describe_vmx_variants(void **state)
{
    (void)state;
    struct vmx_raw r = skylake;
    r.feature_control = 0;
    r.procbased2 &= ~((uint64_t)PROC2_ENABLE_VPID << 32);
    r.ept_vpid_cap &= ~(EPTCAP_1G | EPTCAP_AD | EPTCAP_INVEPT_SINGLE);
    struct cpu_features f = intel_cpu();
    f.hypervisor = true;
    strcpy(f.hv_signature, "KVMKVMKVM");
    vmx_decode(&f.vmx, true, &r);
    static const char *const want[] = {
        "feature vendor GenuineIntel",
        "feature host-hypervisor KVMKVMKVM",
        "feature vmx yes",
        "feature vmx-feature-control unlocked",
        "feature ept yes",
        "feature ept-2m yes",
        "feature ept-1g no",
        "feature ept-ad no",
        "feature invept all",
        "feature vpid no",
        "feature unrestricted-guest yes",
        "feature preemption-timer yes",
        "feature svm no",
    };
    expect_lines(&f, want, sizeof(want) / sizeof(want[0]));

    /* INVEPT single only; locked off; unknown outer hypervisor */
    r.feature_control = FEATCTL_LOCK;
    r.ept_vpid_cap = skylake.ept_vpid_cap & ~EPTCAP_INVEPT_ALL;
    vmx_decode(&f.vmx, true, &r);
    f.hv_signature[0] = 0;
    struct lines ls;
    ls.n = 0;
    cpufeat_describe(&f, collect, &ls);
    assert_string_equal(ls.l[1], "feature host-hypervisor unknown");
    assert_string_equal(ls.l[3], "feature vmx-feature-control locked-off");
    assert_string_equal(ls.l[8], "feature invept single");

    /* no INVEPT at all, no EPT */
    r.ept_vpid_cap = skylake.ept_vpid_cap & ~EPTCAP_INVEPT;
    vmx_decode(&f.vmx, true, &r);
    ls.n = 0;
    cpufeat_describe(&f, collect, &ls);
    assert_string_equal(ls.l[8], "feature invept none");
    r.procbased2 = 0;
    vmx_decode(&f.vmx, true, &r);
    ls.n = 0;
    cpufeat_describe(&f, collect, &ls);
    assert_string_equal(ls.l[4], "feature ept no");
    assert_string_equal(ls.l[8], "feature invept none");
}

static void test_describe_amd(void **state)
{
    (void)state;
    struct cpu_features f = amd_cpu(VM_CR_SVMDIS, ZEN3_SVM_EDX & ~CPUID_SVM_EDX_DECODE_ASSISTS);
    static const char *const want[] = {
        "feature vendor AuthenticAMD",
        "feature vmx no",
        "feature svm yes",
        "feature svm-disabled yes",
        "feature npt yes",
        "feature nrip-save yes",
        "feature decode-assists no",
        "feature flush-by-asid yes",
        "feature asids 32768",
    };
    expect_lines(&f, want, sizeof(want) / sizeof(want[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vmx_skylake),
        cmocka_unit_test(test_vmx_absent_clears_everything),
        cmocka_unit_test(test_vmx_feature_control),
        cmocka_unit_test(test_vmx_true_ctls_and_timer),
        cmocka_unit_test(test_vmx_no_secondary_means_no_ept),
        cmocka_unit_test(test_vmx_no_ept),
        cmocka_unit_test(test_vmx_invept_types),
        cmocka_unit_test(test_svm_decode),
        cmocka_unit_test(test_choose_usable),
        cmocka_unit_test(test_choose_refusals),
        cmocka_unit_test(test_choose_short_buffer),
        cmocka_unit_test(test_describe_intel),
        cmocka_unit_test(test_describe_vmx_variants),
        cmocka_unit_test(test_describe_amd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

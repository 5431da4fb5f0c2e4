/* Unit tests for the guest CPUID policy (vmm/cpuid_policy.c), fed with raw
 * answers typical of Intel (Coffee Lake 6c/12t, nested under KVM) and AMD
 * (Zen 3 8c/16t) parts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/arch/cpufeat.h"
#include "vmm/cpuid_policy.h"

static struct cpuid_regs apply(uint32_t leaf, uint32_t subleaf, struct cpuid_regs in)
{
    cpuid_policy_apply(leaf, subleaf, &in);
    return in;
}

static struct cpuid_regs R(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    return (struct cpuid_regs){ a, b, c, d };
}

static void assert_regs(struct cpuid_regs got, struct cpuid_regs want)
{
    assert_int_equal(got.eax, want.eax);
    assert_int_equal(got.ebx, want.ebx);
    assert_int_equal(got.ecx, want.ecx);
    assert_int_equal(got.edx, want.edx);
}

/* Bits 23:16 of leaf 1 EBX. */
static unsigned logical_count(uint32_t ebx)
{
    return (ebx & CPUID1_EBX_LOGICAL_COUNT) >> CPUID1_EBX_LOGICAL_COUNT_SHIFT;
}

static void test_leaf1_intel(void **state)
{
    (void)state;
    /* i7-8700: APIC id 0x0c, 16 addressable ids, VMX, x2APIC, MONITOR, MTRR */
    struct cpuid_regs in = R(0x000906EA, 0x0C100800, 0x7FFAFBFF, 0xBFEBFBFF);
    assert_true(in.ecx & CPUID1_ECX_VMX);
    assert_true(in.ecx & CPUID1_ECX_X2APIC);
    assert_true(in.ecx & CPUID1_ECX_MONITOR);
    assert_true(in.edx & CPUID1_EDX_MTRR);
    struct cpuid_regs out = apply(CPUID_FEATURES, 0, in);
    assert_regs(out, R(0x000906EA, 0x0C010800,
                       (0x7FFAFBFF & ~(CPUID1_ECX_VMX | CPUID1_ECX_X2APIC |
                                       CPUID1_ECX_MONITOR)) | CPUID1_ECX_HYPERVISOR,
                       0xBFEBFBFF & ~CPUID1_EDX_MTRR));
    assert_int_equal(out.ecx, 0xFFDAFBD7);
    assert_int_equal(out.edx, 0xBFEBEBFF);
    assert_int_equal(logical_count(out.ebx), 1);
    assert_int_equal(out.ebx >> 24, 0x0C); /* initial APIC id kept */
}

static void test_leaf1_amd(void **state)
{
    (void)state;
    /* Ryzen 7 5800X: no VMX (SVM is in 0x80000001), no x2APIC bit here */
    struct cpuid_regs in = R(0x00A20F10, 0x03100800, 0x7ED8320B, 0x178BFBFF);
    struct cpuid_regs out = apply(CPUID_FEATURES, 0, in);
    assert_regs(out, R(0x00A20F10, 0x03010800, 0xFED83203, 0x178BEBFF));
}

/* Only the documented bits of leaf 1 ever change, whatever the input. */
static void test_leaf1_touches_only_named_bits(void **state)
{
    (void)state;
    const uint32_t ecx_edit = CPUID1_ECX_VMX | CPUID1_ECX_X2APIC |
                              CPUID1_ECX_MONITOR | CPUID1_ECX_HYPERVISOR;
    uint32_t x = 0x12345678;
    for (int i = 0; i < 1000; i++) {
        struct cpuid_regs in;
        uint32_t *w = &in.eax;
        for (int k = 0; k < 4; k++) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            w[k] = x;
        }
        struct cpuid_regs out = apply(CPUID_FEATURES, (uint32_t)i, in);
        assert_int_equal(out.eax, in.eax);
        assert_int_equal(out.ebx & ~CPUID1_EBX_LOGICAL_COUNT, in.ebx & ~CPUID1_EBX_LOGICAL_COUNT);
        assert_int_equal(logical_count(out.ebx), 1);
        assert_int_equal(out.ecx & ~ecx_edit, in.ecx & ~ecx_edit);
        assert_int_equal(out.ecx & ecx_edit, CPUID1_ECX_HYPERVISOR);
        assert_int_equal(out.edx, in.edx & ~CPUID1_EDX_MTRR);
    }
}

static void test_leaf4_cache_params(void **state)
{
    (void)state;
    /* L1d: 2 logical processors sharing, 8 cores per package */
    assert_regs(apply(CPUID_CACHE_PARAMS, 0, R(0x1C004121, 0x01C0003F, 0x0000003F, 0)),
                R(0x00000121, 0x01C0003F, 0x0000003F, 0));
    /* L3: 16 logical processors sharing, inclusive (EDX bit 1) */
    assert_regs(apply(CPUID_CACHE_PARAMS, 3, R(0x1C03C163, 0x03C0003F, 0x00002FFF, 0x00000006)),
                R(0x00000163, 0x03C0003F, 0x00002FFF, 0x00000006));
    /* all ones: exactly bits 31:14 go */
    assert_regs(apply(CPUID_CACHE_PARAMS, 1, R(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)),
                R(0x00003FFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF));
    /* terminating subleaf (type 0) and AMD (reserved, all zero) stay zero */
    assert_regs(apply(CPUID_CACHE_PARAMS, 4, R(0, 0, 0, 0)), R(0, 0, 0, 0));
}

static uint32_t topo_ecx(uint32_t level, uint32_t type)
{
    return level | (type << CPUID_TOPO_ECX_TYPE_SHIFT);
}

static void check_topology(uint32_t leaf)
{
    const uint32_t apic = 0x0000000B;
    /* Intel 6c/12t: SMT level shift 1 / 2 threads, core level shift 4 / 12 */
    assert_regs(apply(leaf, 0, R(1, 2, topo_ecx(0, CPUID_TOPO_TYPE_SMT), apic)),
                R(0, 1, topo_ecx(0, CPUID_TOPO_TYPE_SMT), apic));
    assert_regs(apply(leaf, 1, R(4, 12, topo_ecx(1, CPUID_TOPO_TYPE_CORE), apic)),
                R(0, 1, topo_ecx(1, CPUID_TOPO_TYPE_CORE), apic));
    /* the CPU's own end of the list: passed through */
    assert_regs(apply(leaf, 2, R(0, 0, 2, apic)), R(0, 0, 2, apic));
    /* a further level the CPU has (0x1F die level, type 5) becomes invalid */
    assert_regs(apply(leaf, 2, R(6, 24, topo_ecx(2, 5), apic)),
                R(0, 0, topo_ecx(2, CPUID_TOPO_TYPE_INVALID), apic));
    /* reserved bits in EAX/ECX do not leak through */
    assert_regs(apply(leaf, 0, R(0xFFFFFFE1, 0xFFFF0002, 0xFFFF0100, apic)),
                R(0, 1, topo_ecx(0, CPUID_TOPO_TYPE_SMT), apic));
    /* leaf absent (EBX[15:0] = 0 at level 0): unchanged, still absent */
    assert_regs(apply(leaf, 0, R(0, 0, 0, 0)), R(0, 0, 0, 0));
}

static void test_topology_0b(void **state)
{
    (void)state;
    check_topology(CPUID_TOPOLOGY);
    /* AMD Zen 3 implements 0xB too: 2 threads, 16 at the core level */
    assert_regs(apply(CPUID_TOPOLOGY, 1, R(7, 16, topo_ecx(1, CPUID_TOPO_TYPE_CORE), 0)),
                R(0, 1, topo_ecx(1, CPUID_TOPO_TYPE_CORE), 0));
}

static void test_topology_1f(void **state)
{
    (void)state;
    check_topology(CPUID_TOPOLOGY_V2);
}

static void test_ext_features_svm(void **state)
{
    (void)state;
    /* AMD: SVM offered; nothing else changes */
    struct cpuid_regs amd = R(0x00A20F10, 0x20000000, 0x75C237FF, 0x2FD3FBFF);
    assert_true(amd.ecx & CPUID_EXT1_ECX_SVM);
    assert_regs(apply(CPUID_EXT_FEATURES, 0, amd),
                R(0x00A20F10, 0x20000000, 0x75C237FB, 0x2FD3FBFF));
    /* Intel: no SVM, so the answer is unchanged */
    struct cpuid_regs intel = R(0, 0, 0x00000121, 0x2C100800);
    assert_regs(apply(CPUID_EXT_FEATURES, 0, intel), intel);
}

static void test_ext_addr_sizes(void **state)
{
    (void)state;
    /* AMD: 48/48 bits, ApicIdSize 6, NC 15, PerfTscSize bit kept */
    assert_regs(apply(CPUID_EXT_ADDR_SIZES, 0, R(0x00003030, 0x111EF657, 0x0001600F, 0x00010000)),
                R(0x00003030, 0x111EF657, 0x00010000, 0x00010000));
    /* Intel: ECX is 0 already */
    assert_regs(apply(CPUID_EXT_ADDR_SIZES, 0, R(0x00003027, 0, 0, 0)),
                R(0x00003027, 0, 0, 0));
}

static void test_svm_leaf_zeroed(void **state)
{
    (void)state;
    assert_regs(apply(CPUID_SVM, 0, R(0x00000001, 0x00008000, 0, 0x0001BCFF)), R(0, 0, 0, 0));
}

static void test_hypervisor_vendor_leaf(void **state)
{
    (void)state;
    /* nested under KVM: KVM's signature and max leaf are replaced */
    struct cpuid_regs out = apply(CPUID_HV_BASE, 0,
                                  R(0x40000001, 0x4B4D564B, 0x564B4D56, 0x0000004D));
    assert_int_equal(out.eax, 0x40000000);
    char sig[13];
    memcpy(sig, &out.ebx, 4);
    memcpy(sig + 4, &out.ecx, 4);
    memcpy(sig + 8, &out.edx, 4);
    sig[12] = 0;
    assert_string_equal(sig, "PageVisor PV");
    assert_int_equal(out.ebx, 0x65676150); /* "Page" little-endian */
    assert_int_equal(out.ecx, 0x6F736956); /* "Viso" */
    assert_int_equal(out.edx, 0x56502072); /* "r PV" */
    /* bare metal (Intel answers with the highest basic leaf): same result */
    assert_regs(apply(CPUID_HV_BASE, 7, R(0x00000D, 0x1, 0x2, 0x3)), out);
}

static void test_hypervisor_range_zeroed(void **state)
{
    (void)state;
    static const uint32_t leaves[] = { 0x40000001, 0x40000010, 0x400000FF,
                                       0x40000100, 0x40000101, 0x40010000,
                                       0x4FFFFFFF };
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
        assert_regs(apply(leaves[i], 0, R(0x01007AFB, 0x4B4D564B, 0xFFFFFFFF, 0x1)),
                    R(0, 0, 0, 0));
}

/* Leaf 7 subleaf 0 loses LA57 (5-level paging) and nothing else; the
 * other subleaves are passed as they are. */
static void test_leaf7_no_la57(void **state)
{
    (void)state;
    struct cpuid_regs zen4 = R(0x00000001, 0xF1BF97A9, 0x00415F4E | CPUID7_ECX_LA57, 0x10000010);
    struct cpuid_regs want = zen4;
    want.ecx &= ~CPUID7_ECX_LA57;
    assert_regs(apply(CPUID_STRUCT_EXT, 0, zen4), want);
    assert_regs(apply(CPUID_STRUCT_EXT, 0, R(~0u, ~0u, ~0u, ~0u)), R(~0u, ~0u, ~CPUID7_ECX_LA57, ~0u));
    assert_regs(apply(CPUID_STRUCT_EXT, 0, R(0, 0, 0, 0)), R(0, 0, 0, 0));
    for (uint32_t sub = 1; sub < 3; sub++)
        assert_regs(apply(CPUID_STRUCT_EXT, sub, R(~0u, ~0u, ~0u, ~0u)), R(~0u, ~0u, ~0u, ~0u));
}

static void test_untouched_leaves(void **state)
{
    (void)state;
    static const uint32_t leaves[] = {
        0x00000000, 0x00000002, 0x00000003, 0x00000005,
        0x00000006, /* thermal/power: turbo bit left as is */
        0x0000000A, 0x0000000D, 0x00000010, 0x00000014,
        0x00000015, 0x00000016, 0x0000001E, 0x00000020, 0x3FFFFFFF,
        0x50000000, 0x80000000, 0x80000002, 0x80000003, 0x80000004,
        0x80000005, 0x80000006, 0x80000007, 0x80000009, 0x8000000B,
        0x8000001D, 0x8000001E, 0x8000001F, 0xC0000000, 0xFFFFFFFF,
    };
    static const struct cpuid_regs inputs[] = {
        { 0x00000016, 0x756E6547, 0x6C65746E, 0x49656E69 }, /* GenuineIntel */
        { 0x00000077, 0x00000002, 0x00000009, 0x00000000 }, /* leaf 6 */
        { 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF },
        { 0, 0, 0, 0 },
        { 0x2C100800, 0x029C6FBF, 0x40000000, 0xBC000400 },
    };
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
        for (size_t j = 0; j < sizeof(inputs) / sizeof(inputs[0]); j++)
            for (uint32_t sub = 0; sub < 3; sub++)
                assert_regs(apply(leaves[i], sub, inputs[j]), inputs[j]);
}

/* Applying the policy twice gives the same answer as once. */
static void test_idempotent(void **state)
{
    (void)state;
    static const uint32_t leaves[] = { CPUID_FEATURES, CPUID_CACHE_PARAMS, CPUID_TOPOLOGY,
                                       CPUID_TOPOLOGY_V2, CPUID_HV_BASE, 0x40000001,
                                       CPUID_EXT_FEATURES, CPUID_EXT_ADDR_SIZES, CPUID_SVM };
    struct cpuid_regs in = R(0xDEADBEEF, 0x12345678, 0x9ABCDEF0, 0x0F1E2D3C);
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
        for (uint32_t sub = 0; sub < 3; sub++) {
            struct cpuid_regs once = apply(leaves[i], sub, in);
            assert_regs(apply(leaves[i], sub, once), once);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf1_intel),
        cmocka_unit_test(test_leaf1_amd),
        cmocka_unit_test(test_leaf1_touches_only_named_bits),
        cmocka_unit_test(test_leaf4_cache_params),
        cmocka_unit_test(test_topology_0b),
        cmocka_unit_test(test_topology_1f),
        cmocka_unit_test(test_ext_features_svm),
        cmocka_unit_test(test_ext_addr_sizes),
        cmocka_unit_test(test_svm_leaf_zeroed),
        cmocka_unit_test(test_hypervisor_vendor_leaf),
        cmocka_unit_test(test_hypervisor_range_zeroed),
        cmocka_unit_test(test_leaf7_no_la57),
        cmocka_unit_test(test_untouched_leaves),
        cmocka_unit_test(test_idempotent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the guest MSR policy (vmm/msr_policy.c) against a fake
 * CPU: every allowed entry, the emulated ones, a sample of denied MSRs,
 * the bitmaps' pass list, the counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "vmm/arch/cpufeat.h"
#include "vmm/msr_policy.h"

/* ---- a fake CPU: a few MSRs with values, everything else #GP ---------- */
#define FAKE_MSRS 64
static struct { uint32_t msr; uint64_t value; } cpu[FAKE_MSRS];
static size_t ncpu;
static uint64_t now_tsc, hw_offset;
static unsigned hw_reads, hw_writes, offset_sets;

static int fake_read(uint32_t msr, uint64_t *v)
{
    hw_reads++;
    for (size_t i = 0; i < ncpu; i++)
        if (cpu[i].msr == msr) {
            *v = cpu[i].value;
            return 0;
        }
    return -1;
}

static int fake_write(uint32_t msr, uint64_t v)
{
    hw_writes++;
    for (size_t i = 0; i < ncpu; i++)
        if (cpu[i].msr == msr) {
            cpu[i].value = v;
            return 0;
        }
    return -1;
}

static uint64_t fake_tsc(void) { return now_tsc; }
static void fake_offset(void *ctx, uint64_t off) { (void)ctx; hw_offset = off; offset_sets++; }

static const struct msr_hw hw = { fake_read, fake_write, fake_tsc, fake_offset, NULL };
static struct msr_state st;

static void give(uint32_t msr, uint64_t value)
{
    cpu[ncpu].msr = msr;
    cpu[ncpu++].value = value;
}

static uint64_t cpu_value(uint32_t msr)
{
    for (size_t i = 0; i < ncpu; i++)
        if (cpu[i].msr == msr)
            return cpu[i].value;
    fail_msg("msr 0x%x not in the fake CPU", msr);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    ncpu = 0;
    now_tsc = 1000000, hw_offset = 0;
    hw_reads = hw_writes = offset_sets = 0;
    memset(&st, 0, sizeof(st));
    host_log_clear();
    return 0;
}

static int rd(uint32_t msr, uint64_t *v) { return msr_policy_read(&st, &hw, msr, v); }
static int wr(uint32_t msr, uint64_t v) { return msr_policy_write(&st, &hw, msr, v); }

/* ---- the guest's own state: straight to the CPU ------------------------ */
static const uint32_t own_state[] = {
    0x174, 0x175, 0x176,                              /* SYSENTER */
    0x277,                                            /* PAT */
    0x48,                                             /* SPEC_CTRL */
    0xDA0,                                            /* XSS */
    0xC0000080,                                       /* EFER (SVM: the backend's) */
    0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084,   /* SYSCALL */
    0xC0000100, 0xC0000101, 0xC0000102,               /* FS/GS bases */
    0xC0000103,                                       /* TSC_AUX */
};

static void test_own_state_passes_both_ways(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(own_state) / sizeof(own_state[0]); i++) {
        give(own_state[i], 0x1000 + i);
        uint64_t v = 0;
        assert_int_equal(rd(own_state[i], &v), 0);
        assert_int_equal(v, 0x1000 + i);
        assert_int_equal(wr(own_state[i], 0x2000 + i), 0);
        assert_int_equal(cpu_value(own_state[i]), 0x2000 + i);
    }
    assert_int_equal(st.denied_reads + st.denied_writes, 0);
    assert_int_equal(st.emulated, 0);
}

/* ---- read-only information: reads pass, writes #GP --------------------- */
static const uint32_t read_only[] = {
    0x17, 0x8B, 0xCE, 0xE7, 0xE8, 0x10A, 0x198, 0x19C, 0x1A0, 0x1B1,
    0xC0010010, 0xC0010015, 0xC0010140, 0xC0010141, 0xC0011029,
};

static void test_read_only_information(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++) {
        uint32_t m = read_only[i];
        give(m, 0x55);
        uint64_t v = 0;
        assert_int_equal(rd(m, &v), 0);
        assert_int_equal(v, 0x55);
        int rc = wr(m, 0x66);
        if (m == 0x8B) {           /* microcode revision: the write is ignored */
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, -1);
        }
        assert_int_equal(cpu_value(m), 0x55);
    }
}

static void test_write_only_barriers(void **state)
{
    (void)state;
    give(0x49, 0), give(0x10B, 0);
    uint64_t v;
    assert_int_equal(wr(0x49, 1), 0);    /* IBPB */
    assert_int_equal(wr(0x10B, 1), 0);   /* L1D flush */
    assert_int_equal(rd(0x49, &v), -1);
    assert_int_equal(rd(0x10B, &v), -1);
}

/* ---- denied: virtualization, SMM, MTRR, microcode, MCE, power ---------- */
static const uint32_t denied[] = {
    0xC0010117,                   /* VM_HSAVE_PA */
    0x480, 0x481, 0x48B, 0x491,   /* IA32_VMX_* */
    0x9B,                         /* SMM_MONITOR_CTL */
    0x34,                         /* SMI_COUNT */
    0x1F2, 0x1F3,                 /* SMRR */
    0xC0010111, 0xC0010112, 0xC0010113, /* SMM_BASE/ADDR/MASK */
    0xFE, 0x200, 0x201, 0x250, 0x26F, 0x2FF, /* MTRRs */
    0x79, 0xC0010020,             /* microcode update */
    0x17B, 0x400, 0x401, 0x402, 0x47F, /* MCG_CTL, MCi_* */
    0x199, 0x19A, 0x19B, 0x1B0, 0x1B2, 0x610, 0xC0010062, /* power/thermal */
    0xC1, 0x186, 0x38F, 0xC0010000, 0xC0010004, 0xC0010200, /* PMU */
    0x802, 0x830,                 /* x2APIC */
    0xC001001A, 0xC001001D, 0xC0010058, /* TOP_MEM, TOP_MEM2, MMIO_CONF_BASE */
    0x4B564D00, 0x40000000,       /* paravirt */
    0x12345678, 0xFFFFFFFF,
};

static void test_denied_sample(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
        give(denied[i], 0x77); /* the CPU has it: the policy must still refuse */
    for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
        uint64_t v = 0;
        assert_null(msr_policy_rule(denied[i]));
        assert_int_equal(rd(denied[i], &v), -1);
        assert_int_equal(wr(denied[i], 0), -1);
        assert_int_equal(cpu_value(denied[i]), 0x77);
    }
    assert_int_equal(hw_reads + hw_writes, 0);
    size_t n = sizeof(denied) / sizeof(denied[0]);
    assert_int_equal(st.denied_reads, n);
    assert_int_equal(st.denied_writes, n);
    assert_true(host_log_contains("msr: guest rdmsr 0xc0010117 (unlisted) denied: #GP"));
    assert_true(host_log_contains("msr: guest wrmsr 0x480 (unlisted) <- 0x0 denied: #GP"));
    /* budget spent, then one summary per power of two */
    assert_true(host_log_count() <= MSR_LOG_BUDGET + 8);
    assert_true(host_log_contains("denied MSR accesses so far"));
}

/* A listed MSR the CPU lacks raises #GP like an unlisted one. */
static void test_listed_but_absent(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(rd(0xC0011029, &v), -1);
    assert_int_equal(wr(0xC0000103, 1), -1);
    assert_int_equal(st.denied_reads, 1);
    assert_int_equal(st.denied_writes, 1);
}

/* ---- emulated ------------------------------------------------------------ */
static void test_virtualization_is_off(void **state)
{
    (void)state;
    give(0xC0010114, 0), give(0x3A, 0x5);  /* host: SVM on, VMX enabled */
    uint64_t v;
    assert_int_equal(rd(0xC0010114, &v), 0);
    assert_int_equal(v & VM_CR_SVMDIS, VM_CR_SVMDIS);
    assert_int_equal(wr(0xC0010114, 0), -1);
    assert_int_equal(rd(0x3A, &v), 0);
    assert_int_equal(v, FEATCTL_LOCK);     /* locked, VMX outside SMX off */
    assert_int_equal(wr(0x3A, 0x5), -1);
    assert_int_equal(cpu_value(0x3A), 0x5);
    assert_int_equal(hw_reads + hw_writes, 0);
}

static void test_tsc_write_becomes_offset(void **state)
{
    (void)state;
    now_tsc = 5000;
    assert_int_equal(wr(0x10, 1000000), 0);
    assert_int_equal(offset_sets, 1);
    assert_int_equal(hw_offset, 1000000 - 5000);
    assert_int_equal(hw_writes, 0);        /* the host TSC is never written */
    now_tsc = 7000;                        /* the guest's TSC runs on */
    assert_int_equal(now_tsc + hw_offset, 1002000);
    /* backwards works too (the offset is modular) */
    assert_int_equal(wr(0x10, 0), 0);
    assert_int_equal(now_tsc + hw_offset, 0);
}

static void test_tsc_adjust_is_the_guests(void **state)
{
    (void)state;
    give(0x3B, 0xABC); /* the host's own adjust: never shown, never written */
    uint64_t v = 1;
    assert_int_equal(rd(0x3B, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(wr(0x3B, 100), 0);
    assert_int_equal(hw_offset, 100);
    assert_int_equal(wr(0x3B, 40), 0);
    assert_int_equal(hw_offset, 40);
    assert_int_equal(rd(0x3B, &v), 0);
    assert_int_equal(v, 40);
    assert_int_equal(cpu_value(0x3B), 0xABC);
}

static void test_tsc_deadline_follows_the_offset(void **state)
{
    (void)state;
    give(0x6E0, 0);
    now_tsc = 1000;
    assert_int_equal(wr(0x10, 11000), 0);  /* offset 10000 */
    assert_int_equal(wr(0x6E0, 15000), 0);
    assert_int_equal(cpu_value(0x6E0), 5000);
    uint64_t v;
    assert_int_equal(rd(0x6E0, &v), 0);
    assert_int_equal(v, 15000);
    assert_int_equal(wr(0x6E0, 0), 0);     /* disarm stays disarm */
    assert_int_equal(cpu_value(0x6E0), 0);
    assert_int_equal(rd(0x6E0, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(wr(0x6E0, 10000), 0); /* exactly the offset: fires at once */
    assert_int_equal(cpu_value(0x6E0), 1);
}

static void test_debugctl_and_machine_check(void **state)
{
    (void)state;
    give(0x1D9, 0), give(0x179, 0x0C09), give(0x17A, 0);
    uint64_t v = 1;
    assert_int_equal(rd(0x1D9, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(wr(0x1D9, 0), 0);
    assert_int_equal(wr(0x1D9, 1), -1);    /* LBR */
    assert_int_equal(wr(0x1D9, 2), -1);    /* BTF */
    assert_int_equal(rd(0x179, &v), 0);
    assert_int_equal(v, 0);                /* no banks */
    assert_int_equal(wr(0x179, 0), -1);
    assert_int_equal(rd(0x17A, &v), 0);
    assert_int_equal(wr(0x17A, 0), 0);
    assert_int_equal(hw_reads + hw_writes, 0);
}

/* NB_CFG: Linux on AMD family 10h+ does rdmsr, sets EnableCf8ExtCfg (bit
 * 46), wrmsr, both unchecked. The guest sees 0 and its write goes nowhere:
 * the register is the node's, the CPU is never asked. */
static void test_northbridge_config_is_not_the_guests(void **state)
{
    (void)state;
    give(0xC001001F, 1ull << 46);
    uint64_t v = 1;
    assert_int_equal(rd(0xC001001F, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(wr(0xC001001F, 1ull << 46), 0);
    assert_int_equal(wr(0xC001001F, ~0ull), 0);
    assert_int_equal(hw_reads + hw_writes, 0);
    assert_int_equal(cpu_value(0xC001001F), 1ull << 46);
    assert_int_equal(st.denied_reads + st.denied_writes, 0);
}

static void test_apic_base_cannot_move(void **state)
{
    (void)state;
    give(0x1B, 0xFEE00900);
    uint64_t v;
    assert_int_equal(rd(0x1B, &v), 0);
    assert_int_equal(wr(0x1B, 0xFEE00900), 0);
    assert_int_equal(wr(0x1B, 0xFED00900), -1);
    assert_int_equal(wr(0x1B, 0xFEE00D00), -1);   /* x2APIC */
    assert_true(host_log_contains("(x2APIC)"));
    assert_int_equal(cpu_value(0x1B), 0xFEE00900);
}

/* ---- the backends' pass list -------------------------------------------- */
static unsigned pass_rd, pass_wr;
static bool passed_rd[0x2000], passed_wr[0x2000];

static void collect(void *ctx, uint32_t msr, bool r, bool w)
{
    (void)ctx;
    pass_rd += r, pass_wr += w;
    if (msr < 0x2000)
        passed_rd[msr] |= r, passed_wr[msr] |= w;
}

static void test_pass_list_is_exactly_hw(void **state)
{
    (void)state;
    memset(passed_rd, 0, sizeof(passed_rd));
    memset(passed_wr, 0, sizeof(passed_wr));
    pass_rd = pass_wr = 0;
    msr_policy_open_msrs(collect, NULL);
    unsigned n, want_rd = 0, want_wr = 0;
    const struct msr_rule *t = msr_policy_table(&n);
    for (unsigned i = 0; i < n; i++) {
        unsigned count = t[i].last - t[i].first + 1;
        want_rd += t[i].rd == MSR_OP_HW ? count : 0;
        want_wr += t[i].wr == MSR_OP_HW ? count : 0;
        if (i)
            assert_true(t[i].first > t[i - 1].last); /* sorted, no overlap */
    }
    assert_int_equal(pass_rd, want_rd);
    assert_int_equal(pass_wr, want_wr);
    assert_true(passed_rd[0x10] && !passed_wr[0x10]);     /* TSC write exits */
    assert_true(!passed_rd[0x6E0] && !passed_wr[0x6E0]);  /* deadline exits */
    assert_true(!passed_rd[0x3A] && !passed_wr[0x3A]);
    assert_true(!passed_rd[0x200] && !passed_wr[0x200]);
    assert_true(passed_rd[0x277] && passed_wr[0x277]);
    assert_true(!passed_rd[0x49] && passed_wr[0x49]);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(test_own_state_passes_both_ways), T(test_read_only_information),
        T(test_write_only_barriers), T(test_denied_sample), T(test_listed_but_absent),
        T(test_virtualization_is_off), T(test_tsc_write_becomes_offset),
        T(test_tsc_adjust_is_the_guests), T(test_tsc_deadline_follows_the_offset),
        T(test_debugctl_and_machine_check), T(test_apic_base_cannot_move),
        T(test_pass_list_is_exactly_hw), T(test_northbridge_config_is_not_the_guests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

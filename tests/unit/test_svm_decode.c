/* Unit tests for the pure SVM exit decoder (vmm/svm/svm_decode.c): exit
 * codes and EXITINFO fields, as the VMCB holds them, to struct vm_exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/svm/svm_decode.h"
#include "vmm/svm/vmcb.h"

#define RIP 0xffffffff81001000ull

static struct vm_exit decode(uint64_t code, uint64_t i1, uint64_t i2)
{
    struct svm_exit_fields f = { .code = code, .info1 = i1, .info2 = i2, .rip = RIP };
    struct vm_exit e;
    memset(&e, 0xA5, sizeof(e)); /* every field the decoder sets must be set */
    svm_decode_fields(&f, &e);
    return e;
}

static void test_raw_fields_kept(void **state)
{
    (void)state;
    struct vm_exit e = decode(SVM_EXIT_CPUID, 0x11, 0x22);
    assert_int_equal(e.reason, SVM_EXIT_CPUID);
    assert_int_equal(e.info1, 0x11);
    assert_int_equal(e.info2, 0x22);
    assert_int_equal(e.rip, RIP);
}

static void test_cpuid_fixed_length(void **state)
{
    (void)state;
    struct vm_exit e = decode(SVM_EXIT_CPUID, 0, 0);
    assert_int_equal(e.kind, EXIT_CPUID);
    assert_int_equal(e.insn_len, 2);
}

/* With NRIP-save the length is nRIP - RIP; implausible values fall back
 * to the fixed encoding. */
static void test_nrip_length(void **state)
{
    (void)state;
    struct svm_exit_fields f = { .code = SVM_EXIT_CPUID, .rip = RIP, .nrip = RIP + 3,
                                 .nrip_valid = true };
    struct vm_exit e;
    svm_decode_fields(&f, &e);
    assert_int_equal(e.insn_len, 3); /* e.g. a prefixed CPUID */
    f.nrip = RIP + 16;               /* longer than any instruction */
    svm_decode_fields(&f, &e);
    assert_int_equal(e.insn_len, 2);
    f.nrip = RIP;                    /* no progress */
    svm_decode_fields(&f, &e);
    assert_int_equal(e.insn_len, 2);
    f.nrip = RIP - 1;                /* backwards */
    svm_decode_fields(&f, &e);
    assert_int_equal(e.insn_len, 2);
    f.nrip = RIP + 3;                /* plausible, but the CPU lacks NRIP-save */
    f.nrip_valid = false;
    svm_decode_fields(&f, &e);
    assert_int_equal(e.insn_len, 2);
}

static void test_msr(void **state)
{
    (void)state;
    struct svm_exit_fields f = { .code = SVM_EXIT_MSR, .info1 = 0, .rip = RIP,
                                 .rcx = 0xFFFFFFFF0000001Bull };
    struct vm_exit e;
    svm_decode_fields(&f, &e);
    assert_int_equal(e.kind, EXIT_MSR_READ);
    assert_int_equal(e.u.msr.index, 0x1B); /* ECX only: RCX's top half ignored */
    assert_int_equal(e.insn_len, 2);
    f.info1 = 1;
    f.rcx = 0xC0000080;
    svm_decode_fields(&f, &e);
    assert_int_equal(e.kind, EXIT_MSR_WRITE);
    assert_int_equal(e.u.msr.index, 0xC0000080);
}

static void test_ioio(void **state)
{
    (void)state;
    /* out %al, $0x80 (2 bytes) */
    struct vm_exit e = decode(SVM_EXIT_IOIO, (0x80ull << IOIO_PORT_SHIFT) | IOIO_SZ8, RIP + 2);
    assert_int_equal(e.kind, EXIT_IO);
    assert_int_equal(e.u.io.port, 0x80);
    assert_int_equal(e.u.io.size, 1);
    assert_false(e.u.io.in || e.u.io.string || e.u.io.rep);
    assert_int_equal(e.insn_len, 2);
    /* in %dx, %eax on 0x3FD (1 byte) */
    e = decode(SVM_EXIT_IOIO, (0x3FDull << IOIO_PORT_SHIFT) | IOIO_SZ32 | IOIO_IN, RIP + 1);
    assert_int_equal(e.u.io.port, 0x3FD);
    assert_int_equal(e.u.io.size, 4);
    assert_true(e.u.io.in);
    assert_int_equal(e.insn_len, 1);
    /* rep outsw to 0xFFFF with an operand-size prefix (3 bytes) */
    e = decode(SVM_EXIT_IOIO, (0xFFFFull << IOIO_PORT_SHIFT) | IOIO_SZ16 | IOIO_STR | IOIO_REP,
               RIP + 3);
    assert_int_equal(e.u.io.port, 0xFFFF);
    assert_int_equal(e.u.io.size, 2);
    assert_true(e.u.io.string && e.u.io.rep);
    assert_false(e.u.io.in);
    assert_int_equal(e.insn_len, 3);
}

static void test_npf(void **state)
{
    (void)state;
    /* read of a not-present page */
    struct vm_exit e = decode(SVM_EXIT_NPF, NPF_US | NPF_FINAL_GPA, 0x1234567);
    assert_int_equal(e.kind, EXIT_STAGE2_FAULT);
    assert_int_equal(e.u.fault.gpa, 0x1234567);
    assert_int_equal(e.u.fault.access, ACC_R);
    assert_int_equal(e.u.fault.entry_rights, 0);
    assert_int_equal(e.u.fault.rip, RIP);
    assert_false(e.u.fault.gla_valid);
    assert_int_equal(e.u.fault.gla, 0);
    /* write to a present page (copy-on-write) */
    e = decode(SVM_EXIT_NPF, NPF_P | NPF_RW | NPF_FINAL_GPA, 0x2000);
    assert_int_equal(e.u.fault.access, ACC_W);
    assert_int_equal(e.u.fault.entry_rights, ACC_R);
    /* a fetch wins over the write bit */
    e = decode(SVM_EXIT_NPF, NPF_ID | NPF_RW | NPF_TABLE_GPA, 0x3000);
    assert_int_equal(e.u.fault.access, ACC_X);
    /* reserved bits set in an entry: a malformed table */
    e = decode(SVM_EXIT_NPF, NPF_P | NPF_RSVD, 0x4000);
    assert_int_equal(e.kind, EXIT_STAGE2_MISCONF);
    assert_int_equal(e.u.fault.gpa, 0x4000);
}

static void test_simple_kinds(void **state)
{
    (void)state;
    static const struct {
        uint64_t code;
        enum exit_kind kind;
        uint8_t len;
    } cases[] = {
        { SVM_EXIT_SHUTDOWN, EXIT_SHUTDOWN, 0 },
        { SVM_EXIT_VMMCALL, EXIT_HYPERCALL, 3 },
        { SVM_EXIT_HLT, EXIT_HLT, 1 },
        { SVM_EXIT_INTR, EXIT_INTR, 0 },
        { SVM_EXIT_XSETBV, EXIT_XSETBV, 3 },
        { SVM_EXIT_INVD, EXIT_CACHE_INVD, 2 },
        { SVM_EXIT_INVALID, EXIT_ENTRY_FAILED, 0 },
        { SVM_EXIT_NMI, EXIT_OTHER, 0 },   /* not translated */
        { 0x1234, EXIT_OTHER, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vm_exit e = decode(cases[i].code, 0, 0);
        assert_int_equal(e.kind, cases[i].kind);
        assert_int_equal(e.insn_len, cases[i].len);
        assert_int_equal(e.reason, cases[i].code);
    }
}

/* Every SVM instruction (and MONITOR/MWAIT) is hidden: #UD, 3 bytes. */
static void test_hidden_instructions_ud(void **state)
{
    (void)state;
    static const uint64_t codes[] = {
        SVM_EXIT_VMRUN, SVM_EXIT_VMLOAD, SVM_EXIT_VMSAVE, SVM_EXIT_STGI,
        SVM_EXIT_CLGI, SVM_EXIT_SKINIT, SVM_EXIT_MONITOR, SVM_EXIT_MWAIT,
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        struct vm_exit e = decode(codes[i], 0, 0);
        assert_int_equal(e.kind, EXIT_EXCEPTION);
        assert_int_equal(e.u.exc.vector, 6);
        assert_int_equal(e.insn_len, 3);
    }
}

static void test_intercepted_exceptions(void **state)
{
    (void)state;
    /* #PF (14) with its error code in EXITINFO1, the address in EXITINFO2 */
    struct vm_exit e = decode(SVM_EXIT_EXCP_BASE + 14, 0x6, 0xdead000);
    assert_int_equal(e.kind, EXIT_EXCEPTION);
    assert_int_equal(e.u.exc.vector, 14);
    assert_int_equal(e.u.exc.error, 6);
    e = decode(SVM_EXIT_EXCP_BASE, 0, 0);
    assert_int_equal(e.u.exc.vector, 0);
    e = decode(SVM_EXIT_EXCP_LAST, 0, 0);
    assert_int_equal(e.kind, EXIT_EXCEPTION);
    assert_int_equal(e.u.exc.vector, 31);
    e = decode(SVM_EXIT_EXCP_BASE - 1, 0, 0);
    assert_int_equal(e.kind, EXIT_OTHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_fields_kept),
        cmocka_unit_test(test_cpuid_fixed_length),
        cmocka_unit_test(test_nrip_length),
        cmocka_unit_test(test_msr),
        cmocka_unit_test(test_ioio),
        cmocka_unit_test(test_npf),
        cmocka_unit_test(test_simple_kinds),
        cmocka_unit_test(test_hidden_instructions_ud),
        cmocka_unit_test(test_intercepted_exceptions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

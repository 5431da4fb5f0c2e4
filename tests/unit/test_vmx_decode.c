/* Unit tests for the pure VMX exit decoders (vmm/vmx/vmx_decode.c: exit
 * qualifications, event re-injection, error and reason names) and the
 * guest-state entry checks (vmm/vmx/vmx_guest_check.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/vmx/vmcs.h"
#include "vmm/vmx/vmx_cr.h"
#include "vmm/vmx/vmx_decode.h"
#include "vmm/vmx/vmx_guest_check.h"

static void test_io_qualification(void **state)
{
    (void)state;
    struct vm_exit e;
    memset(&e, 0, sizeof(e));
    /* out %al, $0x80: 1 byte, immediate port */
    assert_int_equal(vmx_decode_io((0x80ull << VMX_IOQ_PORT_SHIFT) | VMX_IOQ_IMMEDIATE, &e), 0);
    assert_int_equal(e.u.io.port, 0x80);
    assert_int_equal(e.u.io.size, 1);
    assert_false(e.u.io.in || e.u.io.string || e.u.io.rep);
    /* in %dx, %eax on 0x3FD */
    assert_int_equal(vmx_decode_io((0x3FDull << VMX_IOQ_PORT_SHIFT) | 3 | VMX_IOQ_IN, &e), 0);
    assert_int_equal(e.u.io.port, 0x3FD);
    assert_int_equal(e.u.io.size, 4);
    assert_true(e.u.io.in);
    /* rep outsw to 0xCFC */
    assert_int_equal(vmx_decode_io((0xCFCull << VMX_IOQ_PORT_SHIFT) | 1 | VMX_IOQ_STRING |
                                       VMX_IOQ_REP, &e), 0);
    assert_int_equal(e.u.io.size, 2);
    assert_true(e.u.io.string && e.u.io.rep);
    assert_false(e.u.io.in);
    /* port 0xFFFF, the top of the field */
    assert_int_equal(vmx_decode_io(0xFFFFull << VMX_IOQ_PORT_SHIFT, &e), 0);
    assert_int_equal(e.u.io.port, 0xFFFF);
    /* size field 2 is undefined */
    assert_int_equal(vmx_decode_io(2, &e), -1);
}

static void test_cr_qualification(void **state)
{
    (void)state;
    struct vmx_cr_qual q;
    /* mov %rax, %cr4 */
    vmx_decode_cr(4 | ((uint64_t)VMX_CR_MOV_TO << VMX_CRQ_TYPE_SHIFT) |
                      ((uint64_t)GPR_RAX << VMX_CRQ_GPR_SHIFT), &q);
    assert_int_equal(q.cr, 4);
    assert_int_equal(q.type, VMX_CR_MOV_TO);
    assert_int_equal(q.gpr, GPR_RAX);
    /* mov %cr3, %r13 */
    vmx_decode_cr(3 | ((uint64_t)VMX_CR_MOV_FROM << VMX_CRQ_TYPE_SHIFT) |
                      ((uint64_t)GPR_R13 << VMX_CRQ_GPR_SHIFT), &q);
    assert_int_equal(q.cr, 3);
    assert_int_equal(q.type, VMX_CR_MOV_FROM);
    assert_int_equal(q.gpr, GPR_R13);
    /* lmsw (mem) with 0x000B */
    vmx_decode_cr(((uint64_t)VMX_CR_LMSW << VMX_CRQ_TYPE_SHIFT) | VMX_CRQ_LMSW_MEM |
                      (0xBull << VMX_CRQ_LMSW_SHIFT), &q);
    assert_int_equal(q.cr, 0);
    assert_int_equal(q.type, VMX_CR_LMSW);
    assert_true(q.lmsw_memory);
    assert_int_equal(q.lmsw_data, 0xB);
    vmx_decode_cr((uint64_t)VMX_CR_CLTS << VMX_CRQ_TYPE_SHIFT, &q);
    assert_int_equal(q.type, VMX_CR_CLTS);
}

static void test_ept_violation(void **state)
{
    (void)state;
    struct gpa_fault f;
    /* a write to a read+execute page (COW), linear address known */
    uint64_t q = VMX_EPTQ_WRITE | VMX_EPTQ_READABLE | VMX_EPTQ_EXECUTABLE |
                 VMX_EPTQ_GLA_VALID | VMX_EPTQ_GLA_TRANSLATION;
    assert_false(vmx_decode_ept_violation(q, 0x1234567, 0xffffffff81000000ull, 0x1000, &f));
    assert_int_equal(f.gpa, 0x1234567);
    assert_int_equal(f.access, ACC_W);
    assert_int_equal(f.entry_rights, ACC_R | ACC_X);
    assert_true(f.gla_valid);
    assert_int_equal(f.gla, 0xffffffff81000000ull);
    assert_int_equal(f.rip, 0x1000);
    assert_false(f.table_walk);
    /* the CPU reading a guest paging entry on the way (linear address
     * valid, not the final translation): a table walk */
    assert_false(vmx_decode_ept_violation(VMX_EPTQ_READ | VMX_EPTQ_GLA_VALID, 0xfee00000ull,
                                          0x7f0000001000ull, 0x1000, &f));
    assert_true(f.table_walk);
    /* instruction fetch from a not-present page, no linear address */
    assert_false(vmx_decode_ept_violation(VMX_EPTQ_FETCH | VMX_EPTQ_READ, 0x2000, 0xdead, 0, &f));
    assert_int_equal(f.access, ACC_X);
    assert_int_equal(f.entry_rights, 0);
    assert_false(f.gla_valid);
    assert_false(f.table_walk);
    assert_int_equal(f.gla, 0);
    /* a read; NMI unblocking by IRET is reported */
    assert_true(vmx_decode_ept_violation(VMX_EPTQ_READ | VMX_EPTQ_NMI_UNBLOCKING, 0x3000, 0, 0,
                                         &f));
    assert_int_equal(f.access, ACC_R);
}

static void test_reinjection(void **state)
{
    (void)state;
    bool len = true;
    assert_int_equal(vmx_reinject_info(0x20, &len), 0); /* not valid */
    assert_false(len);
    /* external interrupt 0x30 interrupted by an EPT violation */
    uint32_t ext = VMX_INTR_VALID | 0x30;
    assert_int_equal(vmx_reinject_info(ext, &len), ext);
    assert_false(len);
    /* #PF with error code; bit 12 (undefined here) is dropped */
    uint32_t pf = VMX_INTR_VALID | VMX_INTR_ERROR_VALID | VMX_INTR_NMI_UNBLOCKING |
                  ((uint32_t)VMX_INTR_TYPE_HW_EXCEPTION << VMX_INTR_TYPE_SHIFT) | 14;
    assert_int_equal(vmx_reinject_info(pf, &len), pf & ~VMX_INTR_NMI_UNBLOCKING);
    assert_false(len);
    /* int $0x80 needs the instruction length */
    uint32_t sw = VMX_INTR_VALID | ((uint32_t)VMX_INTR_TYPE_SW_INTR << VMX_INTR_TYPE_SHIFT) | 0x80;
    assert_int_equal(vmx_reinject_info(sw, &len), sw);
    assert_true(len);
    assert_int_equal(vmx_exception_info(13, true),
                     VMX_INTR_VALID | VMX_INTR_ERROR_VALID | (3u << VMX_INTR_TYPE_SHIFT) | 13);
    assert_int_equal(vmx_exception_info(6, false), VMX_INTR_VALID | (3u << 8) | 6);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(vmx_insn_error_name(7), "VM entry with invalid control field(s)");
    assert_string_equal(vmx_insn_error_name(8), "VM entry with invalid host-state field(s)");
    assert_string_equal(vmx_insn_error_name(5), "VMRESUME with non-launched VMCS");
    assert_string_equal(vmx_insn_error_name(14), "unknown error");
    assert_string_equal(vmx_insn_error_name(1000), "unknown error");
    assert_string_equal(vmx_exit_reason_name(48), "EPT violation");
    assert_string_equal(vmx_exit_reason_name(33), "VM-entry failure due to invalid guest state");
    assert_string_equal(vmx_exit_reason_name(12), "HLT");
    assert_string_equal(vmx_exit_reason_name(35), "unknown");
    assert_string_equal(vmx_exit_reason_name(0xFFFF), "unknown");
}

/* ---- guest-state checks ---- */

static char lines[16][160];
static int nlines;

static void collect(void *ctx, const char *line)
{
    (void)ctx;
    if (nlines < 16)
        strncpy(lines[nlines++], line, sizeof(lines[0]) - 1);
}

static bool said(const char *needle)
{
    for (int i = 0; i < nlines; i++)
        if (strstr(lines[i], needle))
            return true;
    return false;
}

/* The Linux 64-bit entry as vmx_state.c builds it. */
static struct vmx_guest_snapshot linux_entry(void)
{
    struct vmx_guest_snapshot g;
    memset(&g, 0, sizeof(g));
    g.cr0 = VMX_CR0_PE | VMX_CR0_NE | VMX_CR0_PG | (1ull << 4);
    g.cr3 = 0x9000;
    g.cr4 = VMX_CR4_PAE | VMX_CR4_VMXE;
    g.dr7 = 0x400;
    g.rip = 0x1000200;
    g.rsp = 0x8000;
    g.rflags = 0x2;
    g.efer = (1ull << 8) | (1ull << 10);
    g.pat = 0x0007040600070406ull;
    for (int i = 0; i < VMX_SEG_COUNT; i++)
        g.seg[i] = (struct vmx_seg_state){ 0x18, 0xFFFFFFFF, VMX_AR_DATA, 0 };
    g.seg[VMX_SEG_CS] = (struct vmx_seg_state){ 0x10, 0xFFFFFFFF, VMX_AR_CODE64, 0 };
    g.seg[VMX_SEG_TR] = (struct vmx_seg_state){ 0, 0x67, VMX_AR_TR_BUSY64, 0 };
    g.seg[VMX_SEG_LDTR] = (struct vmx_seg_state){ 0, 0, VMX_AR_UNUSABLE, 0 };
    g.gdtr_base = 0x6000;
    g.gdtr_limit = 0x1F;
    g.link_pointer = VMX_LINK_POINTER_NONE;
    g.entry_ctls = VMX_ENTRY_IA32E_GUEST | VMX_ENTRY_LOAD_EFER | VMX_ENTRY_LOAD_PAT |
                   VMX_ENTRY_LOAD_DEBUG;
    g.proc2_ctls = VMX_PROC2_EPT | VMX_PROC2_UNRESTRICTED;
    g.cr0_fixed0 = 0x80000021;
    g.cr0_fixed1 = 0xFFFFFFFF;
    g.cr4_fixed0 = 0x2000;
    g.cr4_fixed1 = 0x3727FF;
    return g;
}

static int check(const struct vmx_guest_snapshot *g)
{
    nlines = 0;
    memset(lines, 0, sizeof(lines));
    return vmx_check_guest(g, collect, NULL);
}

static void test_linux_entry_is_valid(void **state)
{
    (void)state;
    struct vmx_guest_snapshot g = linux_entry();
    assert_int_equal(check(&g), 0);
    g.activity = VMX_ACTIVITY_HLT; /* idle in HLT: fine */
    g.rflags |= 1ull << 9;
    assert_int_equal(check(&g), 0);
}

static void test_broken_guest_state_is_named(void **state)
{
    (void)state;
    struct vmx_guest_snapshot g = linux_entry();
    g.seg[VMX_SEG_CS].ar |= VMX_AR_DB;
    assert_int_equal(check(&g), 1);
    assert_true(said("CS access rights 0xe09b: L and D both set"));

    g = linux_entry();
    g.seg[VMX_SEG_TR].ar = VMX_AR_P | 0x9; /* available, not busy */
    assert_int_equal(check(&g), 1);
    assert_true(said("TR access rights 0x89: type 9 is not a busy 64-bit TSS"));

    g = linux_entry();
    g.cr4 &= ~VMX_CR4_VMXE;
    assert_int_equal(check(&g), 1);
    assert_true(said("CR4 0x20 breaks IA32_VMX_CR4_FIXED0/1"));

    g = linux_entry();
    g.rflags = 0x202;
    g.activity = VMX_ACTIVITY_HLT;
    g.interruptibility = VMX_INTERRUPTIBILITY_STI;
    assert_int_equal(check(&g), 1);
    assert_true(said("activity state 1 with blocking by STI/MOV SS"));

    g = linux_entry();
    g.rflags = 0;
    g.link_pointer = 0;
    g.efer = 1ull << 8; /* LME without LMA: breaks two EFER rules */
    assert_int_equal(check(&g), 4);
    assert_true(said("RFLAGS 0x0: reserved bits wrong"));
    assert_true(said("VMCS link pointer 0x0"));
    assert_true(said("LMA differs from the IA-32e mode guest control"));
    assert_true(said("LME differs from LMA with paging on"));

    g = linux_entry();
    g.seg[VMX_SEG_DS].limit = 0x12345; /* G=1 needs bits 11:0 all ones */
    g.pat = 0x0007040600070402ull;     /* type 2 is reserved */
    assert_int_equal(check(&g), 2);
    assert_true(said("DS limit 0x12345 with G=1"));
    assert_true(said("IA32_PAT"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_qualification),
        cmocka_unit_test(test_cr_qualification),
        cmocka_unit_test(test_ept_violation),
        cmocka_unit_test(test_reinjection),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_linux_entry_is_valid),
        cmocka_unit_test(test_broken_guest_state_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

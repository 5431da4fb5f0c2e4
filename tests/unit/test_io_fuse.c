/*
 * A PCI configuration read in one exit (vmm/io_fuse.c): after the exit of
 * an OUT to 0xCF8, the MOV-to-EDX and IN-from-0xCFC that follow in the
 * guest's code are carried out in the same exit, through the same policy
 * and PCI filter a trapped IN reaches (hidden functions still read as
 * absent), and only when the CPU would have run exactly those two
 * instructions: CPL 0, no single-step, long mode, on the OUT's page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/blk_file.h"
#include "tests/unit/guest_pt_env.h"
#include "tests/unit/host_log.h"
#include "tests/unit/test_pci_fake.h"
#include "tests/unit/vcpu_fake.h"
#include "vmm/io_fuse.h"
#include "vmm/io_policy.h"

#define CODE 0xffffffff81400000ull   /* guest-virtual code page */
#define CODE_GPA 0x200000ull
#define ENABLE (1u << 31)
#define RFLAGS_TF (1ull << 8)
#define RDX_HIGH 0x1234567800000000ull

/* Linux's read_pci_config: out %eax,(%dx); mov $0xcfc,%edx; in (%dx),%eax; ret */
static const uint8_t read32[] = { 0xef, 0xba, 0xfc, 0x0c, 0x00, 0x00, 0xed, 0xc3 };

static struct fake_vcpu cpu;
static struct guest_pt_env *g;
static struct io_policy pol;
static struct {
    unsigned calls;
    struct vm_exit last;
} handled;

/* ---- the I/O exit layer as io_fuse sees it: the policy, and a handler
 * that answers PCI ports through the real filter as io_policy_handle does */

const struct io_policy *io_policy_current(void) { return &pol; }

bool io_policy_handle(struct vcpu *v, const struct vm_exit *e)
{
    handled.calls++;
    handled.last = *e;
    assert_true(e->u.io.in && !e->u.io.string);
    assert_int_equal(io_policy_lookup(&pol, e->u.io.port, e->u.io.size, NULL), IO_PCI_CONFIG);
    uint32_t val = pci_filter_in(e->u.io.port, e->u.io.size);
    uint64_t mask = e->u.io.size == 4 ? 0xFFFFFFFFull : (1ull << (8 * e->u.io.size)) - 1;
    uint64_t *rax = &v->gpr[GPR_RAX];
    *rax = e->u.io.size == 4 ? val : (*rax & ~mask) | (val & mask);
    return true;
}

static uint32_t cfg_address(uint8_t dev, uint8_t reg)
{
    return ENABLE | (uint32_t)dev << 11 | reg;
}

static int setup(void **state)
{
    (void)state;
    fake_pci_install();
    struct fake_fn *host = fake_add(0, 0, 0, 0x8086, 0x29c0, PCI_CLASS_BRIDGE,
                                    PCI_SUBCLASS_HOST_BRIDGE, 0, 0);
    struct fake_fn *disk = fake_add(0, 4, 0, 0x1af4, 0x1001, PCI_CLASS_STORAGE, 0, 0, 0);
    assert_true(host && disk);
    struct guest_devices d;
    memset(&d, 0, sizeof(d));
    io_policy_init(&pol, &d, 0x3F8);
    g = guest_pt_env_new();
    gpt_map(g, CODE, CODE_GPA);
    gpt_map(g, CODE + PAGE_SIZE, CODE_GPA + PAGE_SIZE);
    fake_vcpu_init(&cpu, CODE);
    cpu.v.mm = &g->mem->mm;
    cpu.cr0 = GPT_CR0, cpu.cr3 = g->root, cpu.cr4 = GPT_CR4, cpu.efer = GPT_EFER;
    memset(&handled, 0, sizeof(handled));
    host_log_clear();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pci_set_cfg_ops(NULL);
    guest_pt_env_free(g);
    return 0;
}

/* The guest ran OUT %eax,(%dx) of addr at `at` (code placed there) and the
 * exit was handled: the filter latched the address, RIP moved past it. */
static struct vm_exit out_cf8(uint64_t at, const uint8_t *code, size_t len, uint32_t addr)
{
    gpt_poke(g, at, code, len);
    pci_filter_out(&cpu.v, PCI_CONFIG_ADDRESS, 4, addr);
    struct vm_exit e = { .kind = EXIT_IO, .rip = at, .insn_len = 1 };
    e.u.io.port = PCI_CONFIG_ADDRESS, e.u.io.size = 4;
    cpu.rip = at + 1;
    cpu.v.gpr[GPR_RAX] = addr;
    cpu.v.gpr[GPR_RDX] = RDX_HIGH | PCI_CONFIG_ADDRESS;
    return e;
}

static void test_decode(void **state)
{
    (void)state;
    struct io_fuse_seq s;
    assert_int_equal(io_fuse_decode(read32 + 1, 6, &s), 0);
    assert_true(s.mov && !s.mov16);
    assert_int_equal(s.imm, 0xcfc);
    assert_int_equal(s.in_size, 4);
    assert_int_equal(s.mov_len, 5);
    assert_int_equal(s.len, 6);

    const uint8_t w16[] = { 0x66, 0xba, 0xfe, 0x0c, 0x66, 0xed };
    assert_int_equal(io_fuse_decode(w16, sizeof(w16), &s), 0);
    assert_true(s.mov && s.mov16);
    assert_int_equal(s.imm, 0xcfe);
    assert_int_equal(s.in_size, 2);
    assert_int_equal(s.len, 6);

    const uint8_t in8[] = { 0xec };
    assert_int_equal(io_fuse_decode(in8, 1, &s), 0);
    assert_false(s.mov);
    assert_int_equal(s.in_size, 1);
    assert_int_equal(s.len, 1);

    /* anything else is no match */
    const uint8_t r10d[] = { 0x41, 0xba, 0xfc, 0x0c, 0x00, 0x00, 0xed };   /* mov to r10d */
    const uint8_t nop[] = { 0xba, 0xfc, 0x0c, 0x00, 0x00, 0x90 };          /* no IN */
    const uint8_t out[] = { 0xba, 0xfc, 0x0c, 0x00, 0x00, 0xef };          /* OUT, not IN */
    const uint8_t imm_in[] = { 0xe5, 0xfc };                               /* in $imm8 */
    assert_int_equal(io_fuse_decode(r10d, sizeof(r10d), &s), -1);
    assert_int_equal(io_fuse_decode(nop, sizeof(nop), &s), -1);
    assert_int_equal(io_fuse_decode(out, sizeof(out), &s), -1);
    assert_int_equal(io_fuse_decode(imm_in, sizeof(imm_in), &s), -1);
    assert_int_equal(io_fuse_decode(read32 + 1, 5, &s), -1);               /* cut short */
    assert_int_equal(io_fuse_decode(w16, 5, &s), -1);
}

/* read_pci_config of a visible function: one exit does both, the value is
 * the filter's, RDX and RIP as after the IN. */
static void test_fused_read(void **state)
{
    (void)state;
    uint64_t before = io_fuse_count();
    struct vm_exit e = out_cf8(CODE + 0x100, read32, sizeof(read32), cfg_address(0, 0));
    assert_true(io_fuse_pci_read(&cpu.v, &e));
    assert_int_equal(handled.calls, 1);
    assert_int_equal(handled.last.u.io.port, PCI_CONFIG_DATA);
    assert_int_equal(handled.last.u.io.size, 4);
    assert_int_equal(handled.last.rip, CODE + 0x106);
    assert_int_equal(cpu.v.gpr[GPR_RAX], 0x29c08086);
    assert_int_equal(cpu.v.gpr[GPR_RDX], 0xcfc);      /* mov to edx zero-extends */
    assert_int_equal(cpu.rip, CODE + 0x107);          /* at the ret */
    assert_int_equal(io_fuse_count(), before + 1);
}

/* The fused path is the filter's: the swap disk (hidden) reads as absent,
 * exactly as a trapped IN would find it. */
static void test_hidden_function_still_absent(void **state)
{
    (void)state;
    unsigned reads = fake_reads;
    struct vm_exit e = out_cf8(CODE + 0x100, read32, sizeof(read32), cfg_address(4, 0));
    assert_true(io_fuse_pci_read(&cpu.v, &e));
    assert_int_equal(cpu.v.gpr[GPR_RAX], 0xffffffff);
    assert_int_equal(cpu.rip, CODE + 0x107);
    /* the host was asked only the class (to decide visibility) */
    assert_int_equal(fake_reads, reads + 1);
}

/* Byte and word reads: the IN merges into AL / AX; a 16-bit MOV keeps the
 * rest of RDX. */
static void test_narrow_reads(void **state)
{
    (void)state;
    const uint8_t byte_code[] = { 0xef, 0xba, 0xfe, 0x0c, 0x00, 0x00, 0xec };
    struct vm_exit e = out_cf8(CODE + 0x200, byte_code, sizeof(byte_code), cfg_address(0, 0));
    cpu.v.gpr[GPR_RAX] = 0xaaaaaaaaaaaaaa00ull;
    assert_true(io_fuse_pci_read(&cpu.v, &e));
    assert_int_equal(cpu.v.gpr[GPR_RAX], 0xaaaaaaaaaaaaaac0ull); /* device id low byte */
    assert_int_equal(cpu.v.gpr[GPR_RDX], 0xcfe);
    assert_int_equal(cpu.rip, CODE + 0x207);

    const uint8_t word_code[] = { 0xef, 0x66, 0xba, 0xfe, 0x0c, 0x66, 0xed };
    e = out_cf8(CODE + 0x300, word_code, sizeof(word_code), cfg_address(0, 0));
    cpu.v.gpr[GPR_RAX] = 0xbbbbbbbbbbbb0000ull;
    assert_true(io_fuse_pci_read(&cpu.v, &e));
    assert_int_equal(cpu.v.gpr[GPR_RAX], 0xbbbbbbbbbbbb29c0ull);
    assert_int_equal(cpu.v.gpr[GPR_RDX], RDX_HIGH | 0xcfe);
    assert_int_equal(cpu.rip, CODE + 0x307);
}

/* Nothing is done (RIP, RDX, RAX untouched, no IN) when fusing is refused. */
static void expect_refused(const struct vm_exit *e)
{
    uint64_t rip = cpu.rip, rdx = cpu.v.gpr[GPR_RDX], rax = cpu.v.gpr[GPR_RAX];
    uint64_t before = io_fuse_count();
    assert_false(io_fuse_pci_read(&cpu.v, e));
    assert_int_equal(handled.calls, 0);
    assert_int_equal(cpu.rip, rip);
    assert_int_equal(cpu.v.gpr[GPR_RDX], rdx);
    assert_int_equal(cpu.v.gpr[GPR_RAX], rax);
    assert_int_equal(io_fuse_count(), before);
}

static void test_refused_by_cpu_state(void **state)
{
    (void)state;
    struct vm_exit e = out_cf8(CODE + 0x100, read32, sizeof(read32), cfg_address(0, 0));
    cpu.cpl = 3;                       /* IOPL / TSS bitmap not evaluated */
    expect_refused(&e);
    cpu.cpl = 0;
    cpu.rflags |= RFLAGS_TF;           /* single-step traps after the OUT */
    expect_refused(&e);
    cpu.rflags &= ~RFLAGS_TF;
    cpu.efer &= ~GW_EFER_LMA;          /* not long mode */
    expect_refused(&e);
    cpu.efer = GPT_EFER;
    cpu.v.stopped = true;              /* the OUT stopped the guest */
    expect_refused(&e);
}

static void test_refused_other_exits(void **state)
{
    (void)state;
    struct vm_exit e = out_cf8(CODE + 0x100, read32, sizeof(read32), cfg_address(0, 0));
    struct vm_exit x = e;
    x.u.io.in = true;                  /* IN from 0xCF8 */
    expect_refused(&x);
    x = e;
    x.u.io.size = 1;                   /* byte OUT: 0xCF8 is not the address then */
    expect_refused(&x);
    x = e;
    x.u.io.port = 0x80;
    expect_refused(&x);
    x = e;
    x.u.io.string = true;
    expect_refused(&x);
    x = e;
    x.kind = EXIT_CPUID;
    expect_refused(&x);
}

static void test_refused_other_code(void **state)
{
    (void)state;
    /* the IN targets a port that is not a PCI data port */
    const uint8_t to_cf8[] = { 0xef, 0xba, 0xf8, 0x0c, 0x00, 0x00, 0xed };
    struct vm_exit e = out_cf8(CODE + 0x100, to_cf8, sizeof(to_cf8), cfg_address(0, 0));
    expect_refused(&e);
    const uint8_t to_cf9[] = { 0xef, 0xba, 0xf9, 0x0c, 0x00, 0x00, 0xec };
    e = out_cf8(CODE + 0x100, to_cf9, sizeof(to_cf9), cfg_address(0, 0));
    expect_refused(&e);
    /* a dword IN at 0xCFE straddles past the data ports */
    const uint8_t straddle[] = { 0xef, 0xba, 0xfe, 0x0c, 0x00, 0x00, 0xed };
    e = out_cf8(CODE + 0x100, straddle, sizeof(straddle), cfg_address(0, 0));
    expect_refused(&e);
    /* no MOV and DX still 0xCF8: not a data port either */
    const uint8_t bare_in[] = { 0xef, 0xed };
    e = out_cf8(CODE + 0x100, bare_in, sizeof(bare_in), cfg_address(0, 0));
    expect_refused(&e);
    /* something else follows */
    const uint8_t other[] = { 0xef, 0x89, 0xc3, 0xc3 };
    e = out_cf8(CODE + 0x100, other, sizeof(other), cfg_address(0, 0));
    expect_refused(&e);
}

/* Only bytes on the OUT's own page: a sequence running onto the next page,
 * or an OUT whose next instruction starts on another page, is left alone. */
static void test_refused_across_pages(void **state)
{
    (void)state;
    struct vm_exit e = out_cf8(CODE + PAGE_SIZE - 4, read32, sizeof(read32), cfg_address(0, 0));
    expect_refused(&e);
    e = out_cf8(CODE + PAGE_SIZE - 1, read32, sizeof(read32), cfg_address(0, 0));
    expect_refused(&e);
}

/* A backend without get_cpl (VMX today) never fuses. */
static void test_refused_without_cpl(void **state)
{
    (void)state;
    struct vcpu_ops ops = fake_vcpu_ops;
    ops.get_cpl = NULL;
    cpu.v.ops = &ops;
    struct vm_exit e = out_cf8(CODE + 0x100, read32, sizeof(read32), cfg_address(0, 0));
    expect_refused(&e);
    cpu.v.ops = &fake_vcpu_ops;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test_setup_teardown(test_fused_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hidden_function_still_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_by_cpu_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_other_exits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_other_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_across_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_without_cpl, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

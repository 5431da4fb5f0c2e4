/*
 * Unit tests for the emulation of guest accesses nothing backs
 * (vmm/access_emul.c): the instruction at RIP is fetched through the
 * guest's own page tables (in a real guest_mm) and decoded; a load from
 * open bus gets all-ones merged into its register as the CPU would, a
 * store to open bus or ROM is dropped, RIP moves past the instruction; any
 * other instruction is refused by name and RIP stays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/guest_pt_env.h"
#include "tests/unit/host_log.h"
#include "tests/unit/vcpu_fake.h"
#include "vmm/exit_fault.h"
#include "vmm/vdev/mmio_dev.h"

#define CODE 0xffffffff81000000ull   /* guest-virtual RIP ... */
#define CODE_GPA 0x200000ull         /* ... and where it lives */
#define HOLE 0xfed00000ull           /* a guest-physical address in no region */
#define RAX0 0x1122334455667788ull
#define RSP0 0xffffc90000003f00ull
#define CR0_PE 1ull

static struct guest_pt_env *g;
static struct fake_vcpu cpu;

static int setup(void **state)
{
    (void)state;
    g = guest_pt_env_new();
    gpt_map(g, CODE, CODE_GPA);
    fake_vcpu_init(&cpu, CODE);
    cpu.v.mm = &g->mem->mm;
    cpu.cr0 = GPT_CR0;
    cpu.cr3 = g->root;
    cpu.cr4 = GPT_CR4;
    cpu.efer = GPT_EFER;
    cpu.rsp = RSP0;
    for (int r = 0; r < GPR_COUNT; r++)
        cpu.v.gpr[r] = RAX0 + (uint64_t)r;
    host_log_clear();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    guest_pt_env_free(g);
    return 0;
}

/* Emulate the instruction bytes at rip for a fault of the given access at
 * HOLE; bytes are written through the guest's mapping when paging is on,
 * straight to guest-physical rip when it is off. */
static int emulate_at(uint64_t rip, const char *bytes, size_t len, uint32_t access,
                      enum fault_res res)
{
    if (cpu.cr0 & GW_CR0_PG)
        gpt_poke(g, rip, bytes, len);
    else
        assert_int_equal(mm_write(&g->mem->mm, rip, bytes, len), 0);
    cpu.rip = rip;
    struct vm_exit e = {
        .kind = EXIT_STAGE2_FAULT,
        .rip = rip,
        .u.fault = { .gpa = HOLE, .access = access, .rip = rip },
    };
    struct fault_outcome o = {
        .kind = res == RES_OPEN_BUS ? FAULT_OPEN_BUS : FAULT_DENIED,
        .res = res,
    };
    return emulate_access(&cpu.v, &e, &o);
}

static int emulate(const char *bytes, size_t len, uint32_t access)
{
    return emulate_at(CODE, bytes, len, access, RES_OPEN_BUS);
}

#define INSN(s) s, sizeof(s) - 1

/* What each register's all-ones load leaves, by operand size. */
static void test_loads_read_all_ones(void **state)
{
    (void)state;
    /* mov (%rdx),%eax: a 32-bit destination clears bits 63:32 */
    assert_int_equal(emulate(INSN("\x8b\x02"), ACC_R), 0);
    assert_int_equal(cpu.v.gpr[GPR_RAX], 0x00000000ffffffffull);
    assert_int_equal(cpu.rip, CODE + 2);
    assert_true(host_log_contains("open-bus load of 4 bytes at gpa 0xfed00000 -> all-ones"));
    /* mov (%rdx),%al and mov (%rdx),%ah: only that byte */
    cpu.v.gpr[GPR_RAX] = RAX0;
    assert_int_equal(emulate(INSN("\x8a\x02"), ACC_R), 0);
    assert_int_equal(cpu.v.gpr[GPR_RAX], 0x11223344556677ffull);
    cpu.v.gpr[GPR_RAX] = RAX0;
    assert_int_equal(emulate(INSN("\x8a\x22"), ACC_R), 0);
    assert_int_equal(cpu.v.gpr[GPR_RAX], 0x112233445566ff88ull);
    /* mov (%rdx),%cx: 16 bits, the rest kept */
    assert_int_equal(emulate(INSN("\x66\x8b\x0a"), ACC_R), 0);
    assert_int_equal(cpu.v.gpr[GPR_RCX], ((RAX0 + GPR_RCX) & ~0xffffull) | 0xffff);
    assert_int_equal(cpu.rip, CODE + 3);
    /* movzbl (%rdx),%ebx and movsbq (%rdx),%rsi */
    assert_int_equal(emulate(INSN("\x0f\xb6\x1a"), ACC_R), 0);
    assert_int_equal(cpu.v.gpr[GPR_RBX], 0xff);
    assert_int_equal(emulate(INSN("\x48\x0f\xbe\x32"), ACC_R), 0);
    assert_int_equal(cpu.v.gpr[GPR_RSI], UINT64_MAX);
    assert_int_equal(cpu.rip, CODE + 4);
    /* mov 0x10(%rdx),%r9: REX.R selects r9 */
    assert_int_equal(emulate(INSN("\x4c\x8b\x4a\x10"), ACC_R), 0);
    assert_int_equal(cpu.v.gpr[GPR_R9], UINT64_MAX);
    /* mov (%rdx),%rsp: RSP lives in the backend, not in gpr[] */
    uint64_t slot = cpu.v.gpr[GPR_RSP];
    assert_int_equal(emulate(INSN("\x48\x8b\x22"), ACC_R), 0);
    assert_int_equal(cpu.rsp, UINT64_MAX);
    assert_int_equal(cpu.v.gpr[GPR_RSP], slot);
    assert_int_equal(cpu.injections, 0);
}

/* An emulated device's registers (vmm/vdev/mmio_dev.h): the decoded load
 * or store reaches the model with the region offset and the access size. */
struct fake_dev {
    uint64_t last_off, last_value;
    unsigned last_size, reads, writes;
};

static uint64_t fake_read(void *ctx, uint64_t off, unsigned size)
{
    struct fake_dev *d = ctx;
    d->reads++;
    d->last_off = off;
    d->last_size = size;
    /* the low size bytes, as a register of that width holds them */
    return size == 8 ? 0x8877665544332211ull
                     : 0x8877665544332211ull & ((1ull << (8 * size)) - 1);
}

static void fake_write(void *ctx, uint64_t off, unsigned size, uint64_t value)
{
    struct fake_dev *d = ctx;
    d->writes++;
    d->last_off = off;
    d->last_size = size;
    d->last_value = value;
}

static int emulate_mmio_at(struct mmio_dev *dev, const char *bytes, size_t len, uint32_t access)
{
    gpt_poke(g, CODE, bytes, len);
    cpu.rip = CODE;
    struct vm_exit e = {
        .kind = EXIT_STAGE2_FAULT,
        .rip = CODE,
        .u.fault = { .gpa = HOLE + 0x14, .access = access, .rip = CODE },
    };
    struct fault_outcome o = {
        .kind = FAULT_MMIO, .res = RES_MMIO, .mmio_dev = VDEV_MMIO_DEV, .mmio_ctx = dev,
        .mmio_offset = 0x14,
    };
    return emulate_access(&cpu.v, &e, &o);
}

static void test_mmio_device(void **state)
{
    (void)state;
    struct fake_dev d = { 0 };
    struct mmio_dev dev = { fake_read, fake_write, &d };
    /* readl: mov (%rdx),%eax */
    assert_int_equal(emulate_mmio_at(&dev, INSN("\x8b\x02"), ACC_R), 0);
    assert_int_equal(d.last_size, 4);
    assert_int_equal(d.last_off, 0x14);
    assert_int_equal(cpu.v.gpr[GPR_RAX], 0x44332211ull);
    assert_int_equal(cpu.rip, CODE + 2);
    /* readb into a zero-extended register: movzbl (%rdx),%ebx */
    assert_int_equal(emulate_mmio_at(&dev, INSN("\x0f\xb6\x1a"), ACC_R), 0);
    assert_int_equal(d.last_size, 1);
    assert_int_equal(cpu.v.gpr[GPR_RBX], 0x11);
    /* writew: mov %cx,(%rdx) */
    cpu.v.gpr[GPR_RCX] = 0xabcd1234;
    assert_int_equal(emulate_mmio_at(&dev, INSN("\x66\x89\x0a"), ACC_W), 0);
    assert_int_equal(d.writes, 1);
    assert_int_equal(d.last_size, 2);
    assert_int_equal(d.last_value, 0x1234);
    assert_int_equal(cpu.rip, CODE + 3);
    /* writel of an immediate: movl $0x7,(%rdx) */
    assert_int_equal(emulate_mmio_at(&dev, INSN("\xc7\x02\x07\x00\x00\x00"), ACC_W), 0);
    assert_int_equal(d.last_size, 4);
    assert_int_equal(d.last_value, 7);
    /* writeb: mov %al,(%rdx) */
    assert_int_equal(emulate_mmio_at(&dev, INSN("\x88\x02"), ACC_W), 0);
    assert_int_equal(d.last_size, 1);
    assert_int_equal(d.last_value, 0x11);
    /* a read-modify-write is refused, RIP stays, the device is not touched */
    unsigned r0 = d.reads, w0 = d.writes;
    assert_int_equal(emulate_mmio_at(&dev, INSN("\x83\x02\x01"), ACC_W), -1);
    assert_int_equal(cpu.rip, CODE);
    assert_int_equal(d.reads, r0);
    assert_int_equal(d.writes, w0);
    assert_true(host_log_contains("device access at gpa"));
}

static void test_stores_dropped(void **state)
{
    (void)state;
    uint64_t before[GPR_COUNT];
    memcpy(before, cpu.v.gpr, sizeof(before));
    /* mov %eax,(%rdx) to open bus */
    assert_int_equal(emulate(INSN("\x89\x02"), ACC_W), 0);
    assert_int_equal(cpu.rip, CODE + 2);
    assert_true(host_log_contains("open-bus store of 0x55667788 (4 bytes) at gpa 0xfed00000 "
                                  "dropped"));
    /* movl $0x12345678,(%rdx) to ROM */
    assert_int_equal(emulate_at(CODE, INSN("\xc7\x02\x78\x56\x34\x12"), ACC_W, RES_DENIED), 0);
    assert_int_equal(cpu.rip, CODE + 6);
    assert_true(host_log_contains("denied store of 0x12345678 (4 bytes)"));
    /* mov %ah,(%rdx): the stored value is bits 15:8 */
    assert_int_equal(emulate(INSN("\x88\x22"), ACC_W), 0);
    assert_true(host_log_contains("store of 0x77 (1 bytes)"));
    assert_memory_equal(cpu.v.gpr, before, sizeof(before));
    assert_int_equal(cpu.rsp, RSP0);
}

/* Instructions that are not a plain load or store are refused. */
static void test_refused(void **state)
{
    (void)state;
    uint64_t before[GPR_COUNT];
    memcpy(before, cpu.v.gpr, sizeof(before));
    /* addl $1,(%rdx): read-modify-write */
    assert_int_equal(emulate(INSN("\x83\x02\x01"), ACC_W), -1);
    assert_true(host_log_contains("open-bus access at gpa 0xfed00000 by a"));
    assert_true(host_log_contains("instruction (3 bytes at rip 0xffffffff81000000) is not "
                                  "emulated"));
    /* rep movsb: a string operation */
    assert_int_equal(emulate(INSN("\xf3\xa4"), ACC_R), -1);
    /* a load reported as a write fault: the two disagree, nothing is guessed */
    assert_int_equal(emulate(INSN("\x8b\x02"), ACC_W), -1);
    /* lea (%rdx),%rax touches no memory */
    assert_int_equal(emulate(INSN("\x48\x8d\x02"), ACC_R), -1);
    assert_int_equal(cpu.rip, CODE);
    assert_memory_equal(cpu.v.gpr, before, sizeof(before));
}

static void test_fetch_and_decode_failures(void **state)
{
    (void)state;
    /* RIP on a page the guest has not mapped */
    cpu.rip = CODE + 0x10000;
    struct vm_exit e = { .kind = EXIT_STAGE2_FAULT, .rip = CODE + 0x10000,
                         .u.fault = { .gpa = HOLE, .access = ACC_R } };
    struct fault_outcome o = { .kind = FAULT_OPEN_BUS, .res = RES_OPEN_BUS };
    assert_int_equal(emulate_access(&cpu.v, &e, &o), -1);
    assert_true(host_log_contains("cannot fetch the instruction at rip 0xffffffff81010000"));
    assert_int_equal(cpu.rip, CODE + 0x10000);
    /* an instruction cut by the end of the mapping: mov (%rdx),%rax whose
     * last byte would be on the next, unmapped page */
    uint64_t end = CODE + PAGE_SIZE - 2;
    assert_int_equal(emulate_at(end, INSN("\x48\x8b"), ACC_R, RES_OPEN_BUS), -1);
    assert_true(host_log_contains("cannot decode 48 8b 00 00 at rip 0xffffffff81000ffe"));
    assert_int_equal(cpu.rip, end);
}

/* The decoder mode follows the guest's: the same bytes differ. */
static void test_cpu_modes(void **state)
{
    (void)state;
    cpu.cr0 = CR0_PE; /* protected mode, paging off: 32-bit code at gpa = gva */
    cpu.cr4 = 0;
    cpu.efer = 0;
    cpu.v.gpr[GPR_RAX] = RAX0;
    /* 66 8b 02: a 16-bit load in 32-bit code (mov (%edx),%ax) */
    assert_int_equal(emulate_at(0x3000, INSN("\x66\x8b\x02"), ACC_R, RES_OPEN_BUS), 0);
    assert_int_equal(cpu.v.gpr[GPR_RAX], (RAX0 & ~0xffffull) | 0xffff);
    assert_int_equal(cpu.rip, 0x3003);
    /* and a 32-bit load in real mode (mov (%bp,%si),%eax) */
    cpu.cr0 = 0;
    cpu.v.gpr[GPR_RAX] = RAX0;
    assert_int_equal(emulate_at(0x3000, INSN("\x66\x8b\x02"), ACC_R, RES_OPEN_BUS), 0);
    assert_int_equal(cpu.v.gpr[GPR_RAX], 0xffffffffull);
    assert_int_equal(cpu.rip, 0x3003);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loads_read_all_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stores_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmio_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_and_decode_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_modes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* String port I/O on the empty bus (vmm/io_string.c): INS stores all-ones
 * through the guest's page tables and the memory core, OUTS drops its data,
 * REP counts, the direction flag, batching, and a destination that does
 * not translate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/guest_pt_env.h"
#include "tests/unit/host_log.h"
#include "tests/unit/vcpu_fake.h"
#include "vmm/io_string.h"

#define RIP 0xffffffff81001000ull
#define BUF 0x400000ull          /* guest-virtual buffer: two pages */
#define BUF_GPA0 0x300000ull     /* its first page, physically */
#define BUF_GPA1 0x250000ull     /* its second, not contiguous with the first */
#define RFLAGS_DF (1ull << 10)

static struct fake_vcpu cpu;
static struct guest_pt_env *g;

static int setup(void **state)
{
    (void)state;
    g = guest_pt_env_new();
    gpt_map(g, BUF, BUF_GPA0);
    gpt_map(g, BUF + PAGE_SIZE, BUF_GPA1);
    fake_vcpu_init(&cpu, RIP);
    cpu.v.mm = &g->mem->mm;
    cpu.cr0 = GPT_CR0, cpu.cr3 = g->root, cpu.cr4 = GPT_CR4, cpu.efer = GPT_EFER;
    host_log_clear();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    guest_pt_env_free(g);
    return 0;
}

static struct vm_exit str(bool in, bool rep, uint8_t size)
{
    struct vm_exit e = { .kind = EXIT_IO, .rip = RIP, .insn_len = 2 };
    e.u.io.port = 0x511, e.u.io.in = in, e.u.io.string = true, e.u.io.rep = rep;
    e.u.io.size = size;
    return e;
}

static uint8_t byte_at(uint64_t gpa)
{
    uint8_t b;
    assert_int_equal(mm_read(&g->mem->mm, gpa, &b, 1), 0);
    return b;
}

/* OUTSB: nothing is read or written, RSI moves by one element. */
static void test_outs_drops(void **state)
{
    (void)state;
    struct vm_exit e = str(false, false, 4);
    cpu.v.gpr[GPR_RSI] = BUF + 8;
    uint64_t n;
    assert_int_equal(io_string_open_bus(&cpu.v, &e, &n), IO_STRING_DONE);
    assert_int_equal(n, 1);
    assert_int_equal(cpu.v.gpr[GPR_RSI], BUF + 12);
    assert_int_equal(byte_at(BUF_GPA0 + 8), 0); /* untouched (demand-zero) */
}

/* REP OUTSB with DF set: RSI walks down, RCX reaches 0. */
static void test_rep_outs_backwards(void **state)
{
    (void)state;
    struct vm_exit e = str(false, true, 1);
    cpu.rflags |= RFLAGS_DF;
    cpu.v.gpr[GPR_RSI] = BUF + 100;
    cpu.v.gpr[GPR_RCX] = 10;
    uint64_t n;
    assert_int_equal(io_string_open_bus(&cpu.v, &e, &n), IO_STRING_DONE);
    assert_int_equal(n, 10);
    assert_int_equal(cpu.v.gpr[GPR_RSI], BUF + 90);
    assert_int_equal(cpu.v.gpr[GPR_RCX], 0);
}

/* REP INSW across a page boundary onto two non-contiguous frames, one of
 * them never touched before: all-ones exactly where the elements go. */
static void test_rep_ins_stores_ones_across_pages(void **state)
{
    (void)state;
    struct vm_exit e = str(true, true, 2);
    uint64_t start = BUF + PAGE_SIZE - 3; /* the second element straddles */
    cpu.v.gpr[GPR_RDI] = start;
    cpu.v.gpr[GPR_RCX] = 4;
    uint64_t n;
    assert_int_equal(io_string_open_bus(&cpu.v, &e, &n), IO_STRING_DONE);
    assert_int_equal(n, 4);
    assert_int_equal(cpu.v.gpr[GPR_RDI], start + 8);
    assert_int_equal(cpu.v.gpr[GPR_RCX], 0);
    assert_int_equal(byte_at(BUF_GPA0 + PAGE_SIZE - 4), 0);     /* before */
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(byte_at(BUF_GPA0 + PAGE_SIZE - 3 + i), 0xFF);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(byte_at(BUF_GPA1 + i), 0xFF);
    assert_int_equal(byte_at(BUF_GPA1 + 5), 0);                  /* after */
}

/* A huge RCX: one batch per exit, RIP not advanced until the last. */
static void test_batches(void **state)
{
    (void)state;
    struct vm_exit e = str(false, true, 1);
    cpu.v.gpr[GPR_RSI] = 0x1000;
    cpu.v.gpr[GPR_RCX] = IO_STRING_BATCH + 5;
    uint64_t n;
    assert_int_equal(io_string_open_bus(&cpu.v, &e, &n), IO_STRING_AGAIN);
    assert_int_equal(n, IO_STRING_BATCH);
    assert_int_equal(cpu.v.gpr[GPR_RCX], 5);
    assert_int_equal(io_string_open_bus(&cpu.v, &e, &n), IO_STRING_DONE);
    assert_int_equal(n, 5);
    assert_int_equal(cpu.v.gpr[GPR_RCX], 0);
    assert_int_equal(cpu.v.gpr[GPR_RSI], 0x1000 + IO_STRING_BATCH + 5);
}

/* REP with RCX = 0 does nothing, like the CPU. */
static void test_rep_zero(void **state)
{
    (void)state;
    struct vm_exit e = str(true, true, 1);
    cpu.v.gpr[GPR_RDI] = BUF;
    cpu.v.gpr[GPR_RCX] = 0;
    uint64_t n;
    assert_int_equal(io_string_open_bus(&cpu.v, &e, &n), IO_STRING_DONE);
    assert_int_equal(n, 0);
    assert_int_equal(cpu.v.gpr[GPR_RDI], BUF);
    assert_int_equal(byte_at(BUF_GPA0), 0);
}

/* A destination the guest's tables do not map: the guest is stopped with
 * the address named, nothing written, the hypervisor unharmed. */
static void test_ins_to_unmapped_stops(void **state)
{
    (void)state;
    struct vm_exit e = str(true, false, 1);
    cpu.v.gpr[GPR_RDI] = 0x7fff00000000ull;
    uint64_t n;
    assert_int_equal(io_string_open_bus(&cpu.v, &e, &n), IO_STRING_FAULT);
    assert_int_equal(n, 0);
    assert_true(cpu.v.stopped);
    assert_non_null(strstr(cpu.v.stop_reason, "0x7fff00000000"));
}

/* 32-bit paging mode: addresses and counts are 32 bits wide and wrap. */
static void test_32bit_addresses_wrap(void **state)
{
    (void)state;
    struct vm_exit e = str(false, true, 4);
    cpu.efer = 0;
    cpu.v.gpr[GPR_RSI] = 0xAAAAAAAAFFFFFFFCull;
    cpu.v.gpr[GPR_RCX] = 0x5555555500000002ull;
    uint64_t n;
    assert_int_equal(io_string_open_bus(&cpu.v, &e, &n), IO_STRING_DONE);
    assert_int_equal(n, 2);
    assert_int_equal(cpu.v.gpr[GPR_RSI], 0xAAAAAAAA00000004ull);
    assert_int_equal(cpu.v.gpr[GPR_RCX], 0x5555555500000000ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_outs_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rep_outs_backwards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rep_ins_stores_ones_across_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rep_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ins_to_unmapped_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_32bit_addresses_wrap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the vendor-neutral exit core (vmm/exit.c, vmm/vcpu.c):
 * the vCPU loop on a fake backend (tests/unit/vcpu_fake.h) counts every
 * exit by kind, dispatches through the const table, and sends a kind with
 * no handler to the default one, which dumps and stops. The policies the
 * handlers call into (port I/O, MSRs, stage-2 faults) are replaced by
 * recording fakes here: their own tests cover them; CPUID goes to the
 * real CPU and the real policy.
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
#include "vmm/arch/exception.h"
#include "vmm/cpuid_policy.h"
#include "vmm/exit_fault.h"
#include "vmm/console.h"
#include "vmm/insn_policy.h"
#include "vmm/monitor/telemetry.h"
#include "vmm/io_fuse.h"
#include "vmm/io_policy.h"
#include "vmm/msr_policy.h"
#include "vmm/power.h"

#define RIP 0xffffffff81000000ull
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- recording fakes of the policies the handlers call ---- */

static struct {
    unsigned calls;
    struct vm_exit last;
    bool stop;           /* the access stops the guest (e.g. power-off) */
    bool again;          /* a REP string not finished: no skip */
} io_fake;

bool io_policy_handle(struct vcpu *v, const struct vm_exit *e)
{
    io_fake.calls++;
    io_fake.last = *e;
    if (io_fake.stop)
        vcpu_stop(v, PV_EXIT_SUCCESS, "power-off by port");
    return !io_fake.again;
}

/* The PCI read fusion (vmm/io_fuse.c, test_io_fuse): here only that a
 * handled OUT is offered to it, after RIP moved past the OUT. */
static struct {
    unsigned calls;
    uint64_t rip_seen;
} fuse_fake;

bool io_fuse_pci_read(struct vcpu *v, const struct vm_exit *e)
{
    (void)e;
    fuse_fake.calls++;
    fuse_fake.rip_seen = v->ops->get_rip(v);
    return false;
}

static struct {
    int rc;              /* what both calls return */
    uint64_t value;      /* read: the value; write: the value seen */
    uint32_t msr;
    unsigned reads, writes;
} msr_fake;

int msr_exit_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    (void)v;
    msr_fake.reads++;
    msr_fake.msr = msr;
    if (msr_fake.rc == 0)
        *value = msr_fake.value;
    return msr_fake.rc;
}

int msr_exit_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
    (void)v;
    msr_fake.writes++;
    msr_fake.msr = msr;
    msr_fake.value = value;
    return msr_fake.rc;
}

/* The console and telemetry run after every exit (their own tests cover
 * what they do): here only that the loop calls them. */
static unsigned before_entry_calls, after_exit_calls, telemetry_ticks, telemetry_finals;

void console_before_entry(void) { before_entry_calls++; }

void console_after_exit(struct vcpu *v, uint64_t now)
{
    (void)v, (void)now;
    after_exit_calls++;
}

void telemetry_tick(struct vcpu *v, uint64_t now)
{
    (void)v, (void)now;
    telemetry_ticks++;
}

void telemetry_final(struct vcpu *v)
{
    (void)v;
    telemetry_finals++;
}

static unsigned gp_policy_calls;

void insn_policy_gp(struct vcpu *v, const struct vm_exit *e)
{
    (void)e;
    gp_policy_calls++;
    v->ops->inject_exception(v, EXC_GP, true, e->u.exc.error);
}

static unsigned stage2_faults;
static uint64_t stage2_gpa;

void handle_stage2_fault(struct vcpu *v, struct vm_exit *e)
{
    (void)v;
    stage2_faults++;
    stage2_gpa = e->u.fault.gpa;
}

/* ---- fixture ---- */

static struct fake_vcpu cpu;

static int setup(void **state)
{
    (void)state;
    fake_vcpu_init(&cpu, RIP);
    memset(&io_fake, 0, sizeof(io_fake));
    memset(&msr_fake, 0, sizeof(msr_fake));
    memset(&fuse_fake, 0, sizeof(fuse_fake));
    stage2_faults = 0;
    gp_policy_calls = 0;
    before_entry_calls = after_exit_calls = telemetry_ticks = telemetry_finals = 0;
    stage2_gpa = 0;
    host_log_clear();
    return 0;
}

static struct vm_exit ex(enum exit_kind kind, uint64_t rip, uint8_t len)
{
    return (struct vm_exit){ .kind = kind, .rip = rip, .insn_len = len, .reason = 0x1000 + kind };
}

/* The guest halts for good: ends a script. */
static const struct vm_exit halt = { .kind = EXIT_HLT, .rip = 0x5000, .insn_len = 1 };

static void run_script(const struct vm_exit *script, size_t len)
{
    fake_vcpu_script(&cpu, script, len);
    vcpu_run_loop(&cpu.v);
    assert_true(cpu.v.stopped);
    assert_int_equal(cpu.runs, len); /* the loop stopped at the script's end, not later */
}

/* ---- tests ---- */

static void test_kind_names(void **state)
{
    (void)state;
    for (int k = 0; k < EXIT_KIND_COUNT; k++) {
        assert_string_not_equal(exit_kind_name(k), "?");
        for (int j = 0; j < k; j++)
            assert_string_not_equal(exit_kind_name(k), exit_kind_name(j));
    }
    assert_string_equal(exit_kind_name(EXIT_KIND_COUNT), "?");
    assert_string_equal(exit_kind_name((enum exit_kind)-1), "?");
}

static void test_counts_and_dispatch(void **state)
{
    (void)state;
    struct vm_exit s[] = {
        ex(EXIT_CPUID, RIP, 2), ex(EXIT_CPUID, RIP + 2, 2), ex(EXIT_IO, RIP + 4, 1),
        ex(EXIT_MSR_READ, RIP + 5, 2), ex(EXIT_STAGE2_FAULT, RIP + 7, 3),
        ex(EXIT_PREEMPT_TIMER, RIP + 7, 0), ex(EXIT_CACHE_INVD, RIP + 7, 2), halt,
    };
    s[4].u.fault.gpa = 0xfee00000;
    run_script(s, ARRAY_LEN(s));
    assert_int_equal(cpu.v.exits[EXIT_CPUID], 2);
    assert_int_equal(cpu.v.exits[EXIT_IO], 1);
    assert_int_equal(cpu.v.exits[EXIT_MSR_READ], 1);
    assert_int_equal(cpu.v.exits[EXIT_STAGE2_FAULT], 1);
    assert_int_equal(cpu.v.exits[EXIT_PREEMPT_TIMER], 1);
    assert_int_equal(cpu.v.exits[EXIT_CACHE_INVD], 1);
    assert_int_equal(cpu.v.exits[EXIT_HLT], 1);
    uint64_t total = 0;
    for (int k = 0; k < EXIT_KIND_COUNT; k++)
        total += cpu.v.exits[k];
    assert_int_equal(total, ARRAY_LEN(s));
    assert_int_equal(cpu.v.entries, ARRAY_LEN(s));
    assert_int_equal(io_fake.calls, 1);
    assert_int_equal(io_fake.last.rip, RIP + 4);
    assert_int_equal(fuse_fake.calls, 1);             /* offered once ... */
    assert_int_equal(fuse_fake.rip_seen, RIP + 5);    /* ... past the port access */
    assert_int_equal(msr_fake.reads, 1);
    assert_int_equal(stage2_faults, 1);
    assert_int_equal(stage2_gpa, 0xfee00000);
    /* handled instructions are skipped; the fault handler and the timer
     * leave RIP alone */
    assert_int_equal(cpu.resume_rip[1], RIP + 2);
    assert_int_equal(cpu.resume_rip[2], RIP + 4);
    assert_int_equal(cpu.resume_rip[3], RIP + 5);
    assert_int_equal(cpu.resume_rip[4], RIP + 7);
    assert_int_equal(cpu.resume_rip[5], RIP + 7);
    assert_int_equal(cpu.resume_rip[6], RIP + 7);
    assert_int_equal(cpu.resume_rip[7], RIP + 9);
    assert_int_equal(cpu.injections, 0);
    assert_int_equal(cpu.dumps, 0);
    /* console input and telemetry after every exit, the final sample once */
    assert_int_equal(after_exit_calls, ARRAY_LEN(s));
    assert_int_equal(before_entry_calls, cpu.runs); /* the line state before each entry */
    assert_int_equal(telemetry_ticks, ARRAY_LEN(s));
    assert_int_equal(telemetry_finals, 1);
}

/* HLT with interrupts off: Linux powering off without ACPI. */
static void test_hlt_stops_with_success(void **state)
{
    (void)state;
    run_script(&halt, 1);
    assert_int_equal(cpu.v.stop_status, PV_EXIT_SUCCESS);
    assert_non_null(strstr(cpu.v.stop_reason, "halted with interrupts disabled"));
    assert_int_equal(cpu.dumps, 0);
}

static void test_cpuid_policy_applied(void **state)
{
    (void)state;
    struct vm_exit s[] = { ex(EXIT_CPUID, RIP, 2), halt };
    /* the hypervisor leaf: only pagevisor answers it like this */
    cpu.v.gpr[GPR_RAX] = PV_CPUID_HV_MAX;
    cpu.v.gpr[GPR_RCX] = 0;
    run_script(s, ARRAY_LEN(s));
    assert_int_equal(cpu.v.gpr[GPR_RAX], PV_CPUID_HV_MAX);
    char sig[PV_CPUID_SIGNATURE_LEN];
    uint32_t regs[3] = { (uint32_t)cpu.v.gpr[GPR_RBX], (uint32_t)cpu.v.gpr[GPR_RCX],
                         (uint32_t)cpu.v.gpr[GPR_RDX] };
    memcpy(sig, regs, sizeof(sig));
    assert_memory_equal(sig, PV_CPUID_SIGNATURE, PV_CPUID_SIGNATURE_LEN);
    assert_int_equal(cpu.resume_rip[1], RIP + 2);

    /* leaf 1: the hypervisor-present bit is set whatever the host says */
    setup(NULL);
    cpu.v.gpr[GPR_RAX] = 1;
    cpu.v.gpr[GPR_RCX] = 0xdead;
    run_script(s, ARRAY_LEN(s));
    assert_true(cpu.v.gpr[GPR_RCX] & (1u << 31));
}

static void test_msr_read(void **state)
{
    (void)state;
    struct vm_exit s[] = { ex(EXIT_MSR_READ, RIP, 2), halt };
    s[0].u.msr.index = 0x1B;
    cpu.v.gpr[GPR_RAX] = 0xffffffffffffffffull;
    cpu.v.gpr[GPR_RDX] = 0xffffffffffffffffull;
    msr_fake.value = 0x1122334455667788ull;
    run_script(s, ARRAY_LEN(s));
    assert_int_equal(msr_fake.msr, 0x1B);
    assert_int_equal(cpu.v.gpr[GPR_RAX], 0x55667788);
    assert_int_equal(cpu.v.gpr[GPR_RDX], 0x11223344);
    assert_int_equal(cpu.resume_rip[1], RIP + 2);
    assert_int_equal(cpu.injections, 0);
}

static void test_msr_write(void **state)
{
    (void)state;
    struct vm_exit s[] = { ex(EXIT_MSR_WRITE, RIP, 2), halt };
    s[0].u.msr.index = 0xC0000080;
    /* EDX:EAX; the upper halves of RAX and RDX are not part of the value */
    cpu.v.gpr[GPR_RAX] = 0xdeadbeef00000d01ull;
    cpu.v.gpr[GPR_RDX] = 0x0000000000000002ull;
    run_script(s, ARRAY_LEN(s));
    assert_int_equal(msr_fake.writes, 1);
    assert_int_equal(msr_fake.msr, 0xC0000080);
    assert_int_equal(msr_fake.value, 0x0000000200000d01ull);
    assert_int_equal(cpu.resume_rip[1], RIP + 2);
}

/* A refused MSR access is #GP(0) at the instruction, registers untouched. */
static void test_msr_refused_gp(void **state)
{
    (void)state;
    struct vm_exit s[] = { ex(EXIT_MSR_READ, RIP, 2), ex(EXIT_MSR_WRITE, RIP, 2), halt };
    msr_fake.rc = -1;
    cpu.v.gpr[GPR_RAX] = 0xa;
    cpu.v.gpr[GPR_RDX] = 0xd;
    run_script(s, ARRAY_LEN(s));
    assert_int_equal(msr_fake.reads, 1);
    assert_int_equal(msr_fake.writes, 1);
    assert_int_equal(cpu.injections, 2);
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(cpu.inj[i].vector, EXC_GP);
        assert_true(cpu.inj[i].has_error);
        assert_int_equal(cpu.inj[i].error, 0);
    }
    assert_int_equal(cpu.resume_rip[1], RIP);
    assert_int_equal(cpu.resume_rip[2], RIP);
    assert_int_equal(cpu.v.gpr[GPR_RAX], 0xa);
    assert_int_equal(cpu.v.gpr[GPR_RDX], 0xd);
}

/* A port access that stops the guest is not skipped: the report names the
 * instruction that did it. */
static void test_io_stop_not_skipped(void **state)
{
    (void)state;
    struct vm_exit s[] = { ex(EXIT_IO, RIP, 2) };
    s[0].u.io.port = 0x604;
    io_fake.stop = true;
    run_script(s, ARRAY_LEN(s));
    assert_int_equal(io_fake.last.u.io.port, 0x604);
    assert_int_equal(fuse_fake.calls, 0); /* a stopped guest runs nothing more */
    assert_int_equal(cpu.rip, RIP);
    assert_int_equal(cpu.v.stop_status, PV_EXIT_SUCCESS);
    assert_string_equal(cpu.v.stop_reason, "power-off by port");
}

/* No hypercall interface: VMMCALL/VMCALL raise #UD, as on a bare CPU. */
static void test_hypercall_ud(void **state)
{
    (void)state;
    struct vm_exit s[] = { ex(EXIT_HYPERCALL, RIP, 3), halt };
    run_script(s, ARRAY_LEN(s));
    assert_int_equal(cpu.injections, 1);
    assert_int_equal(cpu.inj[0].vector, EXC_UD);
    assert_false(cpu.inj[0].has_error);
    assert_int_equal(cpu.resume_rip[1], RIP);
}

/* Intercepted exceptions go back to the guest, with an error code exactly
 * for the vectors that push one. */
static void test_exception_reflected(void **state)
{
    (void)state;
    static const struct {
        uint8_t vector;
        bool has_error;
    } cases[] = {
        { EXC_DE, false }, { EXC_DB, false }, { EXC_UD, false }, { EXC_DF, true },
        { EXC_TS, true }, { EXC_NP, true }, { EXC_SS, true }, { EXC_GP, true },
        { EXC_PF, true }, { EXC_MF, false }, { EXC_AC, true }, { EXC_MC, false },
        { EXC_CP, true }, { 31, false },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        setup(NULL);
        struct vm_exit s[] = { ex(EXIT_EXCEPTION, RIP, 0), halt };
        s[0].u.exc.vector = cases[i].vector;
        s[0].u.exc.error = 0x10 + (uint32_t)i;
        run_script(s, ARRAY_LEN(s));
        assert_int_equal(cpu.injections, 1);
        assert_int_equal(cpu.inj[0].vector, cases[i].vector);
        assert_int_equal(cpu.inj[0].has_error, cases[i].has_error);
        assert_int_equal(cpu.inj[0].error, 0x10 + i);
        assert_int_equal(exc_has_error_code(cases[i].vector), cases[i].has_error);
        /* #GP goes to the instruction policy (an SVM instruction's #GP is
         * the guest's #UD); every other vector is reflected directly. */
        assert_int_equal(gp_policy_calls, cases[i].vector == EXC_GP ? 1 : 0);
    }
    assert_false(exc_has_error_code(EXC_COUNT + EXC_PF)); /* interrupts never do */
}

/* Kinds without a handler: dump, stop with failure, name the exit. */
static void test_default_handler(void **state)
{
    (void)state;
    static const enum exit_kind unhandled[] = { EXIT_XSETBV, EXIT_CR_ACCESS, EXIT_INTR,
                                                EXIT_OTHER };
    for (size_t i = 0; i < ARRAY_LEN(unhandled); i++) {
        setup(NULL);
        cpu.rsp = 0x7fff0;
        struct vm_exit s[] = { ex(unhandled[i], RIP, 3) };
        s[0].info1 = 0xabc;
        run_script(s, 1);
        assert_int_equal(cpu.v.exits[unhandled[i]], 1);
        assert_int_equal(cpu.v.stop_status, PV_EXIT_FAILURE);
        char want[64];
        snprintf(want, sizeof(want), "unhandled exit %s", exit_kind_name(unhandled[i]));
        assert_string_equal(cpu.v.stop_reason, want);
        assert_int_equal(cpu.dumps, 1);
        snprintf(want, sizeof(want), "(vendor code 0x%x, info 0xabc / 0x0) at rip 0x%llx",
                 0x1000 + unhandled[i], (unsigned long long)RIP);
        assert_true(host_log_contains(want));
        /* the dump shows RSP from the backend, not the unused gpr slot */
        assert_true(host_log_contains("rsp=000000000007fff0"));
        assert_int_equal(cpu.rip, RIP);
    }
}

static void test_entry_refused(void **state)
{
    (void)state;
    cpu.refuse_at = 0;
    fake_vcpu_script(&cpu, NULL, 0);
    vcpu_run_loop(&cpu.v);
    assert_int_equal(cpu.v.exits[EXIT_ENTRY_FAILED], 1);
    assert_int_equal(cpu.dumps, 1);
    assert_int_equal(cpu.v.stop_status, PV_EXIT_FAILURE);
    assert_string_equal(cpu.v.stop_reason, "the CPU refused to enter the guest");
}

static void test_stage2_misconfig(void **state)
{
    (void)state;
    struct vm_exit s[] = { ex(EXIT_STAGE2_MISCONF, RIP, 0) };
    s[0].u.fault.gpa = 0x12345000;
    run_script(s, 1);
    assert_int_equal(stage2_faults, 0);
    assert_int_equal(cpu.dumps, 1);
    assert_int_equal(cpu.v.stop_status, PV_EXIT_FAILURE);
    assert_string_equal(cpu.v.stop_reason, "stage-2 misconfiguration at 0x12345000");
}

/* The triple-fault report walks the guest's page tables for RIP. */
static void test_shutdown_dump_walk(void **state)
{
    (void)state;
    struct guest_pt_env *g = guest_pt_env_new();
    cpu.v.mm = &g->mem->mm;
    cpu.cr0 = GPT_CR0;
    cpu.cr3 = g->root;
    cpu.cr4 = GPT_CR4;
    cpu.efer = GPT_EFER;
    gpt_map(g, RIP, 0x200000);
    struct vm_exit s[] = { ex(EXIT_SHUTDOWN, RIP + 0x10, 0) };
    run_script(s, 1);
    assert_int_equal(cpu.v.stop_status, PV_EXIT_FAILURE);
    assert_string_equal(cpu.v.stop_reason, "guest triple fault");
    assert_int_equal(cpu.dumps, 1);
    assert_true(host_log_contains("guest walk of 0xffffffff81000010: gpa 0x200010 flags 0x1"));

    /* not mapped: every entry read, the not-present PDE last */
    setup(NULL);
    cpu.v.mm = &g->mem->mm;
    cpu.cr0 = GPT_CR0;
    cpu.cr3 = g->root;
    cpu.cr4 = GPT_CR4;
    cpu.efer = GPT_EFER;
    const uint64_t far = RIP + (8ull << 30); /* another PDPT entry: no PD there */
    gpt_entry_at(g, far, 3);                 /* PML4 entry exists (shared), PDPTE 0 */
    s[0] = ex(EXIT_SHUTDOWN, far, 0);
    run_script(s, 1);
    char want[96];
    snprintf(want, sizeof(want), "guest walk of 0x%llx: fails (-", (unsigned long long)far);
    assert_true(host_log_contains(want));
    snprintf(want, sizeof(want), "level 4 table 0x%llx [%u] = 0x",
             (unsigned long long)g->root, (unsigned)((far >> 39) & 511));
    assert_true(host_log_contains(want));
    assert_true(host_log_contains("level 3 table"));
    snprintf(want, sizeof(want), "[%u] = 0x0000000000000000", (unsigned)((far >> 30) & 511));
    assert_true(host_log_contains(want));
    assert_false(host_log_contains("level 2 table"));
    cpu.v.mm = NULL;
    guest_pt_env_free(g);
}

static unsigned ticks;
static void count_tick(struct vcpu *v)
{
    (void)v;
    ticks++;
}

/* Periodic work runs after an exit once the interval has passed. */
static void test_tick(void **state)
{
    (void)state;
    struct vm_exit s[] = { ex(EXIT_CPUID, RIP, 2), ex(EXIT_CPUID, RIP, 2), halt };
    ticks = 0;
    cpu.v.tick = count_tick;
    cpu.v.tick_interval = UINT64_MAX / 2; /* once, then not for ages */
    cpu.v.next_tick = 0;
    run_script(s, ARRAY_LEN(s));
    assert_int_equal(ticks, 1);
    assert_true(cpu.v.next_tick >= UINT64_MAX / 2);

    setup(NULL);
    ticks = 0;
    cpu.v.tick = count_tick;
    cpu.v.tick_interval = 0; /* after every exit */
    run_script(s, ARRAY_LEN(s));
    assert_int_equal(ticks, 3);
}

static void test_stop_keeps_first_reason(void **state)
{
    (void)state;
    vcpu_stop(&cpu.v, PV_EXIT_FAILURE, "first %d", 1);
    vcpu_stop(&cpu.v, PV_EXIT_SUCCESS, "second");
    assert_true(cpu.v.stopped);
    assert_int_equal(cpu.v.stop_status, PV_EXIT_FAILURE);
    assert_string_equal(cpu.v.stop_reason, "first 1");
    /* a stopped guest is not entered again */
    fake_vcpu_script(&cpu, NULL, 0);
    vcpu_run_loop(&cpu.v);
    assert_int_equal(cpu.runs, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_kind_names, setup),
        cmocka_unit_test_setup(test_counts_and_dispatch, setup),
        cmocka_unit_test_setup(test_hlt_stops_with_success, setup),
        cmocka_unit_test_setup(test_cpuid_policy_applied, setup),
        cmocka_unit_test_setup(test_msr_read, setup),
        cmocka_unit_test_setup(test_msr_write, setup),
        cmocka_unit_test_setup(test_msr_refused_gp, setup),
        cmocka_unit_test_setup(test_io_stop_not_skipped, setup),
        cmocka_unit_test_setup(test_hypercall_ud, setup),
        cmocka_unit_test_setup(test_exception_reflected, setup),
        cmocka_unit_test_setup(test_default_handler, setup),
        cmocka_unit_test_setup(test_entry_refused, setup),
        cmocka_unit_test_setup(test_stage2_misconfig, setup),
        cmocka_unit_test_setup(test_shutdown_dump_walk, setup),
        cmocka_unit_test_setup(test_tick, setup),
        cmocka_unit_test_setup(test_stop_keeps_first_reason, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The vendor-neutral vCPU loop: run the guest, count the exit by kind,
 * dispatch through a const table indexed by kind. An exit kind without a
 * handler goes to handle_default, which dumps the guest state and stops
 * the guest with a message naming the exit: never a silent hang.
 */
#include "vmm/arch/arch.h"
#include "vmm/arch/exception.h"
#include "vmm/console.h"
#include "vmm/exit_stats.h"
#include "vmm/monitor/telemetry.h"
#include "vmm/cpuid_policy.h"
#include "vmm/exit_fault.h"
#include "vmm/guest_walk.h"
#include "vmm/insn_policy.h"
#include "vmm/io_fuse.h"
#include "vmm/io_policy.h"
#include "vmm/lib/cycles.h"
#include "vmm/lib/log.h"
#include "vmm/msr_policy.h"
#include "vmm/power.h"
#include "vmm/vcpu.h"

static void handle_default(struct vcpu *v, struct vm_exit *e)
{
    pv_err("unhandled exit %s (vendor code 0x%llx, info 0x%llx / 0x%llx) at rip 0x%llx",
           exit_kind_name(e->kind), (unsigned long long)e->reason,
           (unsigned long long)e->info1, (unsigned long long)e->info2,
           (unsigned long long)e->rip);
    v->ops->dump(v);
    vcpu_stop(v, PV_EXIT_FAILURE, "unhandled exit %s", exit_kind_name(e->kind));
}

static void handle_cpuid(struct vcpu *v, struct vm_exit *e)
{
    uint32_t leaf = (uint32_t)v->gpr[GPR_RAX], sub = (uint32_t)v->gpr[GPR_RCX];
    struct cpuid_regs r = cpuid(leaf, sub);
    cpuid_policy_apply(leaf, sub, &r);
    v->gpr[GPR_RAX] = r.eax;
    v->gpr[GPR_RBX] = r.ebx;
    v->gpr[GPR_RCX] = r.ecx;
    v->gpr[GPR_RDX] = r.edx;
    vcpu_skip(v, e);
}

static void handle_msr(struct vcpu *v, struct vm_exit *e)
{
    uint32_t msr = e->u.msr.index;
    bool write = e->kind == EXIT_MSR_WRITE;
    uint64_t val = write ? (v->gpr[GPR_RDX] << 32) | (uint32_t)v->gpr[GPR_RAX] : 0;
    int rc = v->ops->msr_own ? v->ops->msr_own(v, msr, write, &val) : 0;
    if (rc == 0)
        rc = write ? msr_exit_write(v, msr, val) : msr_exit_read(v, msr, &val);
    if (rc < 0) {
        v->ops->inject_exception(v, EXC_GP, true, 0);
        return;
    }
    if (!write) {
        v->gpr[GPR_RAX] = (uint32_t)val;
        v->gpr[GPR_RDX] = val >> 32;
    }
    vcpu_skip(v, e);
}

static void handle_io(struct vcpu *v, struct vm_exit *e)
{
    if (io_policy_handle(v, e) && !v->stopped) {
        vcpu_skip(v, e);
        io_fuse_pci_read(v, e); /* a PCI address write's data read, same exit */
    }
}

static int read_guest(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    return mm_read(ctx, gpa, dst, len);
}

/* Where the guest's own page tables send gva; when they do not, every
 * entry the walk read, top level first, the failing one last. */
static void dump_guest_walk(struct vcpu *v, uint64_t gva)
{
    uint64_t cr0, cr3, cr4, efer, gpa = 0;
    uint32_t flags = 0;
    struct gw_trace t;
    v->ops->get_paging(v, &cr0, &cr3, &cr4, &efer);
    int rc = guest_walk_traced(cr0, cr3, cr4, efer, gva, read_guest, v->mm, &gpa, &flags, &t);
    if (rc < 0) {
        pv_err("guest walk of 0x%llx: fails (%d)", (unsigned long long)gva, rc);
        for (unsigned i = 0; i < t.steps; i++)
            pv_err("  level %u table 0x%llx [%u] = 0x%016llx", t.step[i].level,
                   (unsigned long long)t.step[i].table, t.step[i].index,
                   (unsigned long long)t.step[i].entry);
    } else {
        pv_err("guest walk of 0x%llx: gpa 0x%llx flags 0x%x", (unsigned long long)gva,
               (unsigned long long)gpa, flags);
    }
}

static void handle_shutdown(struct vcpu *v, struct vm_exit *e)
{
    pv_err("guest triple fault (shutdown)");
    v->ops->dump(v);
    dump_guest_walk(v, e->rip);
    vcpu_stop(v, PV_EXIT_FAILURE, "guest triple fault");
}

static void handle_hypercall(struct vcpu *v, struct vm_exit *e)
{
    /* No hypercall interface yet: behave like a CPU without one. */
    (void)e;
    v->ops->inject_exception(v, EXC_UD, false, 0);
}

static void handle_exception(struct vcpu *v, struct vm_exit *e)
{
    uint8_t vec = e->u.exc.vector;
    if (vec == EXC_GP) {
        insn_policy_gp(v, e); /* an SVM instruction's #GP becomes #UD */
        return;
    }
    v->ops->inject_exception(v, vec, exc_has_error_code(vec), e->u.exc.error);
}

static void handle_invd(struct vcpu *v, struct vm_exit *e)
{
    /* INVD would drop dirty lines of hypervisor data: treat as a no-op
     * (the guest owns no cache state worth discarding). */
    vcpu_skip(v, e);
}

static void handle_stage2_misconf(struct vcpu *v, struct vm_exit *e)
{
    pv_err("stage-2 misconfiguration at gpa 0x%llx: the table is malformed (a bug)",
           (unsigned long long)e->u.fault.gpa);
    v->ops->dump(v);
    vcpu_stop(v, PV_EXIT_FAILURE, "stage-2 misconfiguration at 0x%llx",
              (unsigned long long)e->u.fault.gpa);
}

/* Backends report HLT only when nothing can wake the guest (interrupts
 * disabled; see EXIT_HLT in vcpu.h): Linux halts like this to power off
 * when it has no ACPI. */
static void handle_hlt(struct vcpu *v, struct vm_exit *e)
{
    (void)e;
    vcpu_stop(v, PV_EXIT_SUCCESS, "guest halted with interrupts disabled (power-off without ACPI)");
}

/* The timer only bounds how long the guest runs without exiting: the loop
 * below does the periodic work after any exit. */
static void handle_preempt_timer(struct vcpu *v, struct vm_exit *e)
{
    (void)v, (void)e;
}

typedef void (*exit_handler)(struct vcpu *v, struct vm_exit *e);

static const exit_handler handlers[EXIT_KIND_COUNT] = {
    [EXIT_CPUID] = handle_cpuid,
    [EXIT_MSR_READ] = handle_msr,
    [EXIT_MSR_WRITE] = handle_msr,
    [EXIT_IO] = handle_io,
    [EXIT_STAGE2_FAULT] = handle_stage2_fault,
    [EXIT_STAGE2_MISCONF] = handle_stage2_misconf,
    [EXIT_SHUTDOWN] = handle_shutdown,
    [EXIT_HYPERCALL] = handle_hypercall,
    [EXIT_EXCEPTION] = handle_exception,
    [EXIT_CACHE_INVD] = handle_invd,
    [EXIT_PREEMPT_TIMER] = handle_preempt_timer,
    [EXIT_HLT] = handle_hlt,
};

void vcpu_run_loop(struct vcpu *v)
{
    pv_info("vcpu: entering the guest at rip 0x%llx (%s)",
            (unsigned long long)v->ops->get_rip(v), v->ops->name);
    while (!v->stopped) {
        struct vm_exit e;
        console_before_entry(); /* the line state, when output needs no exit */
        uint64_t entered = rdtsc();
        if (v->ops->run(v, &e) < 0) {
            v->exits[EXIT_ENTRY_FAILED]++;
            v->ops->dump(v);
            vcpu_stop(v, PV_EXIT_FAILURE, "the CPU refused to enter the guest");
            break;
        }
        uint64_t exited = rdtsc();
        v->guest_cycles += exited - entered;
        exit_account(v, &vm_exit_stats, &e);
        exit_handler h = handlers[e.kind] ? handlers[e.kind] : handle_default;
        h(v, &e);
        uint64_t now = rdtsc();
        v->exit_cycles[e.kind] += now - exited;
        if (v->ops->get_rflags && !v->stopped)
            irqwd_observe(&v->irqwd, (v->ops->get_rflags(v) & RFLAGS_IF) != 0, now,
                          v->ops->get_rip(v));
        if (v->tick && now >= v->next_tick) {
            v->tick(v);
            v->next_tick = now + v->tick_interval;
        }
        /* Console input (the monitor escape) and telemetry samples: both
         * rate-limited by TSC, so an exit costs a compare when nothing is due. */
        console_after_exit(v, now);
        telemetry_tick(v, now);
        v->tick_cycles += rdtsc() - now;
    }
    telemetry_final(v);
    pv_info("vcpu: guest stopped: %s", v->stop_reason);
}

/*
 * vCPU services the exit handlers share (see vmm/vcpu.h): exit kind names,
 * stopping the guest with a reason, the register dump, skipping the
 * exiting instruction. Apart from the dispatch loop (vmm/exit.c) so that
 * handlers and their host tests can use them without the whole exit core.
 */
#include "vmm/gpr_frame.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"
#include "vmm/vcpu.h"

#include <stdarg.h>

static const char *const kind_names[EXIT_KIND_COUNT] = {
    [EXIT_CPUID] = "cpuid", [EXIT_MSR_READ] = "rdmsr", [EXIT_MSR_WRITE] = "wrmsr",
    [EXIT_IO] = "io", [EXIT_HLT] = "hlt", [EXIT_STAGE2_FAULT] = "stage2-fault",
    [EXIT_STAGE2_MISCONF] = "stage2-misconfig", [EXIT_SHUTDOWN] = "shutdown",
    [EXIT_HYPERCALL] = "hypercall", [EXIT_INTR] = "interrupt",
    [EXIT_PREEMPT_TIMER] = "preemption-timer", [EXIT_XSETBV] = "xsetbv",
    [EXIT_CR_ACCESS] = "cr-access", [EXIT_EXCEPTION] = "exception",
    [EXIT_CACHE_INVD] = "invd", [EXIT_ENTRY_FAILED] = "entry-failed", [EXIT_OTHER] = "other",
};

_Static_assert(GPR_OFF_RAX == GPR_RAX * 8 && GPR_OFF_RCX == GPR_RCX * 8 &&
                   GPR_OFF_RDX == GPR_RDX * 8 && GPR_OFF_RBX == GPR_RBX * 8 &&
                   GPR_OFF_RBP == GPR_RBP * 8 && GPR_OFF_RSI == GPR_RSI * 8 &&
                   GPR_OFF_RDI == GPR_RDI * 8 && GPR_OFF_R8 == GPR_R8 * 8 &&
                   GPR_OFF_R15 == GPR_R15 * 8 && GPR_OFF_R12 == GPR_R12 * 8,
               "vmm/gpr_frame.h must match enum gpr");

const char *exit_kind_name(enum exit_kind k)
{
    return (unsigned)k < EXIT_KIND_COUNT && kind_names[k] ? kind_names[k] : "?";
}

void vcpu_stop(struct vcpu *v, int status, const char *fmt, ...)
{
    if (v->stopped)
        return;
    va_list ap;
    va_start(ap, fmt);
    pv_vsnprintf(v->stop_reason, sizeof(v->stop_reason), fmt, ap);
    va_end(ap);
    v->stopped = true;
    v->stop_status = status;
}

void vcpu_dump_gprs(struct vcpu *v)
{
    static const char *const names[GPR_COUNT] = {
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    };
    for (int i = 0; i < GPR_COUNT; i += 4)
        pv_err("guest %-3s=%016llx %-3s=%016llx %-3s=%016llx %-3s=%016llx",
               names[i], (unsigned long long)(i == GPR_RSP ? v->ops->get_rsp(v) : v->gpr[i]),
               names[i + 1], (unsigned long long)v->gpr[i + 1],
               names[i + 2], (unsigned long long)v->gpr[i + 2],
               names[i + 3], (unsigned long long)v->gpr[i + 3]);
}

void vcpu_skip(struct vcpu *v, const struct vm_exit *e)
{
    v->ops->set_rip(v, e->rip + e->insn_len);
}

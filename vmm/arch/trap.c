/*
 * Exception reporting: an exception inside the hypervisor is a bug, so the
 * report is everything a developer needs from a serial log alone — vector,
 * error code, faulting address (CR2 for #PF), every general register,
 * control registers and EFER — and then the machine stops with a failure
 * status (vmm/power.c).
 */
#include "vmm/arch/trap.h"
#include "vmm/arch/arch.h"
#include "vmm/lib/log.h"
#include "vmm/arch/msr_safe.h"

#define PF_ERR_P (1u << 0)
#define PF_ERR_W (1u << 1)
#define PF_ERR_I (1u << 4)

static const char *const mnemonics[EXC_COUNT] = {
    [EXC_DE] = "#DE divide error", [EXC_DB] = "#DB debug", [EXC_NMI] = "NMI",
    [EXC_BP] = "#BP breakpoint", [EXC_OF] = "#OF overflow", [EXC_BR] = "#BR bound range",
    [EXC_UD] = "#UD invalid opcode", [EXC_NM] = "#NM device not available",
    [EXC_DF] = "#DF double fault", [9] = "coprocessor overrun", [EXC_TS] = "#TS invalid TSS",
    [EXC_NP] = "#NP segment not present", [EXC_SS] = "#SS stack fault",
    [EXC_GP] = "#GP general protection", [EXC_PF] = "#PF page fault", [15] = "reserved-15",
    [EXC_MF] = "#MF x87 error", [EXC_AC] = "#AC alignment check",
    [EXC_MC] = "#MC machine check", [EXC_XM] = "#XM SIMD error",
    [EXC_VE] = "#VE virtualization", [EXC_CP] = "#CP control protection",
    [22] = "reserved-22", [23] = "reserved-23", [24] = "reserved-24", [25] = "reserved-25",
    [26] = "reserved-26", [27] = "reserved-27", [EXC_HV] = "#HV hypervisor injection",
    [EXC_VC] = "#VC VMM communication", [EXC_SX] = "#SX security", [31] = "reserved-31",
};

const char *exception_mnemonic(uint64_t vector)
{
    return vector < EXC_COUNT ? mnemonics[vector] : "external interrupt";
}

static int depth;

void trap_handler(struct trap_frame *f)
{
    /* An expected #GP from rdmsr_safe/wrmsr_safe: resume at its recovery. */
    uint64_t resume = f->vector == EXC_GP ? exception_fixup(f->rip) : 0;
    if (resume) {
        f->rip = resume;
        return;
    }
    if (depth++) {
        /* Fault while reporting a fault: say the minimum and stop. */
        pv_err("nested exception %llu at rip=0x%llx while reporting; halting",
               (unsigned long long)f->vector, (unsigned long long)f->rip);
        for (;;) { cli(); hlt(); }
    }
    pv_err("EXCEPTION %s (vector %llu) error=0x%llx at rip=0x%llx",
           exception_mnemonic(f->vector), (unsigned long long)f->vector,
           (unsigned long long)f->error, (unsigned long long)f->rip);
    if (f->vector == EXC_PF)
        pv_err("  faulting address cr2=0x%llx (%s, %s%s)", (unsigned long long)read_cr2(),
               (f->error & PF_ERR_P) ? "protection" : "not present",
               (f->error & PF_ERR_W) ? "write" : "read",
               (f->error & PF_ERR_I) ? ", instruction fetch" : "");
    pv_err("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx",
           (unsigned long long)f->rax, (unsigned long long)f->rbx,
           (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    pv_err("  rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx",
           (unsigned long long)f->rsi, (unsigned long long)f->rdi,
           (unsigned long long)f->rbp, (unsigned long long)f->rsp);
    pv_err("  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx",
           (unsigned long long)f->r8, (unsigned long long)f->r9,
           (unsigned long long)f->r10, (unsigned long long)f->r11);
    pv_err("  r12=%016llx r13=%016llx r14=%016llx r15=%016llx",
           (unsigned long long)f->r12, (unsigned long long)f->r13,
           (unsigned long long)f->r14, (unsigned long long)f->r15);
    pv_err("  rip=%016llx cs=%04llx rflags=%08llx ss=%04llx",
           (unsigned long long)f->rip, (unsigned long long)f->cs,
           (unsigned long long)f->rflags, (unsigned long long)f->ss);
    pv_err("  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx",
           (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
           (unsigned long long)read_cr3(), (unsigned long long)read_cr4(),
           (unsigned long long)rdmsr(MSR_EFER));
    trap_fatal_stop();
}

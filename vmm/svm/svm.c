/*
 * SVM backend: enable SVM, build the VMCB for the guest's 64-bit entry,
 * permission maps from the generic I/O and MSR policies, and run.
 *
 * Interception policy (thin hypervisor): CPUID, every I/O port and MSR but
 * those the policies let through, SHUTDOWN, INVD, every SVM instruction
 * (the guest is told there is no SVM) and #GP (an SVM instruction at
 * CPL > 0 faults before its intercept; vmm/insn_policy.h). Physical
 * interrupts are not intercepted and V_INTR_MASKING is off, so they reach
 * the guest's IDT directly; HLT is not intercepted, so the guest halts the
 * CPU itself and its interrupts wake it.
 */
#include "vmm/arch/exception.h"
#include "vmm/svm/svm.h"
#include "vmm/arch/arch.h"
#include "vmm/lib/heap.h"
#include "vmm/io_policy.h"
#include "vmm/lib/log.h"
#include "vmm/msr_policy.h"
#include "vmm/svm/vmcb.h"

#include <string.h>

#define MSR_VM_HSAVE_PA 0xC0010117u
#define GUEST_ASID 1
#define DR6_INIT 0xFFFF0FF0ull
#define DR7_INIT 0x400ull
#define SEG_LIMIT_FLAT 0xFFFFFFFFu
#define TSS_LIMIT 0x67u

/* MSR permission map: three ranges of 8192 MSRs, two bits per MSR
 * (read, write), at these byte offsets. */
static const struct {
    uint32_t first;
    uint32_t offset;
} msrpm_ranges[] = {
    { 0x00000000u, 0x0000 },
    { 0xC0000000u, 0x0800 },
    { 0xC0010000u, 0x1000 },
};
#define MSRPM_RANGE_MSRS 0x2000u

static struct svm_state state;

/* The permission maps start all ones (everything exits); the policies
 * name what the guest reaches directly. */
static void pass_ports(void *ctx, uint16_t port, uint16_t count)
{
    uint8_t *iopm = ctx;
    for (uint32_t p = port; p < (uint32_t)port + count; p++)
        iopm[p / 8] &= (uint8_t)~(1u << (p % 8));
}

static void set_msr_bits(uint8_t *msrpm, uint32_t msr, bool rd, bool wr, bool intercept)
{
    for (unsigned i = 0; i < sizeof(msrpm_ranges) / sizeof(msrpm_ranges[0]); i++) {
        uint32_t first = msrpm_ranges[i].first;
        if (msr < first || msr >= first + MSRPM_RANGE_MSRS)
            continue;
        uint32_t bit = (msr - first) * 2;
        uint8_t *b = msrpm + msrpm_ranges[i].offset + bit / 8;
        uint8_t mask = (uint8_t)((rd ? 1u << (bit % 8) : 0) | (wr ? 1u << (bit % 8 + 1) : 0));
        *b = intercept ? (uint8_t)(*b | mask) : (uint8_t)(*b & ~mask);
        return;
    }
    /* MSRs outside the ranges always exit: nothing to set. */
}

static void pass_msr(void *ctx, uint32_t msr, bool rd, bool wr)
{
    set_msr_bits(ctx, msr, rd, wr, false);
}

static void set_seg(void *vmcb, unsigned seg, uint16_t sel, uint16_t attr,
                    uint32_t limit, uint64_t base)
{
    vmcb_wr16(vmcb, seg + SEG_SELECTOR, sel);
    vmcb_wr16(vmcb, seg + SEG_ATTRIB, attr);
    vmcb_wr32(vmcb, seg + SEG_LIMIT, limit);
    vmcb_wr64(vmcb, seg + SEG_BASE, base);
}

static void setup_guest_state(void *vmcb, const struct guest_entry *g)
{
    const uint16_t code = SEG_TYPE_CODE_XRA | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_L | SEG_ATTR_G;
    const uint16_t data = SEG_TYPE_DATA_RWA | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G;
    set_seg(vmcb, VMCB_CS, g->cs, code, SEG_LIMIT_FLAT, 0);
    set_seg(vmcb, VMCB_DS, g->ds, data, SEG_LIMIT_FLAT, 0);
    set_seg(vmcb, VMCB_ES, g->ds, data, SEG_LIMIT_FLAT, 0);
    set_seg(vmcb, VMCB_SS, g->ds, data, SEG_LIMIT_FLAT, 0);
    set_seg(vmcb, VMCB_FS, g->ds, data, SEG_LIMIT_FLAT, 0);
    set_seg(vmcb, VMCB_GS, g->ds, data, SEG_LIMIT_FLAT, 0);
    set_seg(vmcb, VMCB_TR, 0, SEG_TYPE_TSS64_BUSY | SEG_ATTR_P, TSS_LIMIT, 0);
    set_seg(vmcb, VMCB_LDTR, 0, SEG_TYPE_LDT | SEG_ATTR_P, 0, 0);
    set_seg(vmcb, VMCB_GDTR, 0, 0, g->gdt_limit, g->gdt_base);
    set_seg(vmcb, VMCB_IDTR, 0, 0, 0, 0);
    vmcb_wr8(vmcb, VMCB_CPL, 0);
    /* EFER.SVME must be set in the guest's EFER for VMRUN to accept it. */
    vmcb_wr64(vmcb, VMCB_EFER, g->efer | EFER_SVME);
    vmcb_wr64(vmcb, VMCB_CR0, g->cr0);
    vmcb_wr64(vmcb, VMCB_CR3, g->cr3);
    vmcb_wr64(vmcb, VMCB_CR4, g->cr4);
    vmcb_wr64(vmcb, VMCB_DR6, DR6_INIT);
    vmcb_wr64(vmcb, VMCB_DR7, DR7_INIT);
    vmcb_wr64(vmcb, VMCB_RFLAGS, g->rflags);
    vmcb_wr64(vmcb, VMCB_RIP, g->rip);
    vmcb_wr64(vmcb, VMCB_RSP, g->rsp);
    vmcb_wr64(vmcb, VMCB_G_PAT, g->pat);
}

static void svm_invalidate(struct s2pt *pt, enum s2_inv_scope scope, gpa_t gpa,
                           uint64_t size, void *ctx)
{
    (void)pt, (void)scope, (void)gpa, (void)size, (void)ctx;
    /* NPT translations are tagged by ASID; SVM has no per-address nested
     * flush, so any change flushes this ASID (or everything) on next entry. */
    state.flush_pending = true;
}

bool svm_host_nx(void)
{
    if (!(cpuid(CPUID_EXT_FEATURES, 0).edx & CPUID_EXT1_EDX_NX))
        return false;
    /* With EFER.NXE clear no entry of the host's page tables may have bit
     * 63 set (reserved): setting it changes no host mapping. */
    uint64_t efer = rdmsr(MSR_EFER);
    if (!(efer & EFER_NXE))
        wrmsr(MSR_EFER, efer | EFER_NXE);
    return true;
}

int svm_setup(struct vcpu *v, const struct svm_features *f, const struct guest_entry *entry)
{
    state.vmcb = heap_alloc(VMCB_SIZE, 4096, "vmcb");
    state.host_vmcb = heap_alloc(VMCB_SIZE, 4096, "host vmcb");
    state.hsave = heap_alloc(4096, 4096, "host save area");
    state.iopm = heap_alloc(IOPM_SIZE, 4096, "I/O permission map");
    state.msrpm = heap_alloc(MSRPM_SIZE, 4096, "MSR permission map");
    if (!state.vmcb || !state.host_vmcb || !state.hsave || !state.iopm || !state.msrpm)
        return -1;
    state.nrip = f->nrip;
    state.flush_by_asid = f->flush_by_asid;
    state.asid = GUEST_ASID;
    state.flush_pending = true;

    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, va_hpa(state.hsave));

    memset(state.iopm, 0xFF, IOPM_SIZE);
    memset(state.msrpm, 0xFF, MSRPM_SIZE);
    io_policy_open_ports(v, pass_ports, state.iopm);
    msr_policy_open_msrs(pass_msr, state.msrpm);
    /* EFER holds SVME, which VMRUN needs and the guest must not see
     * (svm_msr_own hides it). */
    set_msr_bits(state.msrpm, MSR_EFER, true, true, true);

    void *vmcb = state.vmcb;
    vmcb_wr32(vmcb, VMCB_INTERCEPT_MISC1,
              INTERCEPT_CPUID | INTERCEPT_INVD | INTERCEPT_IOIO | INTERCEPT_MSR |
                  INTERCEPT_SHUTDOWN | INTERCEPT_INVLPGA);
    vmcb_wr32(vmcb, VMCB_INTERCEPT_MISC2,
              INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD | INTERCEPT_VMSAVE |
                  INTERCEPT_STGI | INTERCEPT_CLGI | INTERCEPT_SKINIT |
                  INTERCEPT_MONITOR | INTERCEPT_MWAIT);
    /* With SVME set in the guest's EFER an SVM instruction at CPL > 0
     * raises #GP before its intercept: #GP exits so svm_insn can turn
     * those into the #UD a CPU without SVM gives (vmm/insn_policy.c). */
    vmcb_wr32(vmcb, VMCB_INTERCEPT_EXC, 1u << EXC_GP);
    vmcb_wr64(vmcb, VMCB_IOPM_BASE, va_hpa(state.iopm));
    vmcb_wr64(vmcb, VMCB_MSRPM_BASE, va_hpa(state.msrpm));
    vmcb_wr32(vmcb, VMCB_ASID, state.asid);
    vmcb_wr64(vmcb, VMCB_NP_CTL, NP_ENABLE);
    vmcb_wr64(vmcb, VMCB_N_CR3, v->mm->s2.root);
    setup_guest_state(vmcb, entry);
    v->gpr[GPR_RSI] = entry->rsi;
    v->vendor = &state;
    v->ops = &svm_ops;
    state.host_cr0 = read_cr0();
    state.host_cr4 = read_cr4();
    pv_info("svm: vmcb at 0x%llx, asid %u, nested cr3 0x%llx, nrip-save %s",
            (unsigned long long)va_hpa(vmcb), state.asid,
            (unsigned long long)v->mm->s2.root, state.nrip ? "yes" : "no");
    return 0;
}

int svm_vmrun(uint64_t guest_vmcb, uint64_t *gpr, uint64_t host_vmcb);

/*
 * The host's paging-control bits follow the guest's: CR0.WP and CR4's
 * PGE, PSE, SMEP and SMAP. VMRUN and #VMEXIT load the other side's CR0
 * and CR4, and an emulator that models the TLB in software (QEMU TCG,
 * where the e2e tests and the benchmark run) drops every cached
 * translation when one of these bits differs between the two: two full
 * flushes per exit on top of the CR3 load's. Equal bits cost nothing on
 * hardware and keep those two away. Safe for the host: its mappings are
 * supervisor and writable (vmm/arch/paging.c), the guest can hold only
 * bits its CPU accepts, and the guest's early modes (no paging, no PAE)
 * touch none of the host's PE, PG or PAE, which stay as they are. CR4.LA57
 * cannot follow (it changes only with paging off): the guest is not
 * offered 5-level paging (vmm/cpuid_policy.h) for this reason too.
 */
#define HOST_CR0_FOLLOW CR0_WP
#define HOST_CR4_FOLLOW (CR4_PGE | CR4_PSE | CR4_SMEP | CR4_SMAP)

static void host_follow_guest_paging(struct svm_state *s, const void *vmcb)
{
    uint64_t cr0 = (s->host_cr0 & ~HOST_CR0_FOLLOW) | (vmcb_rd64(vmcb, VMCB_CR0) & HOST_CR0_FOLLOW);
    uint64_t cr4 = (s->host_cr4 & ~HOST_CR4_FOLLOW) | (vmcb_rd64(vmcb, VMCB_CR4) & HOST_CR4_FOLLOW);
    if (cr0 != s->host_cr0) {
        write_cr0(cr0);
        s->host_cr0 = cr0;
    }
    if (cr4 != s->host_cr4) {
        write_cr4(cr4);
        s->host_cr4 = cr4;
    }
}

static int svm_run(struct vcpu *v, struct vm_exit *e)
{
    struct svm_state *s = v->vendor;
    void *vmcb = s->vmcb;
    uint8_t tlb = TLB_CONTROL_NONE;
    if (s->flush_pending)
        tlb = s->flush_by_asid ? TLB_CONTROL_FLUSH_ASID : TLB_CONTROL_FLUSH_ALL;
    vmcb_wr8(vmcb, VMCB_TLB_CONTROL, tlb);
    s->flush_pending = false;
    vmcb_wr32(vmcb, VMCB_CLEAN, 0); /* no VMCB state caching */
    vmcb_wr64(vmcb, VMCB_RAX, v->gpr[GPR_RAX]);
    host_follow_guest_paging(s, vmcb);
    svm_vmrun(va_hpa(vmcb), v->gpr, va_hpa(s->host_vmcb));
    v->gpr[GPR_RAX] = vmcb_rd64(vmcb, VMCB_RAX);
    v->entries++;
    svm_decode_exit(v, s, e);
    return e->kind == EXIT_ENTRY_FAILED ? -1 : 0;
}

static uint64_t svm_get_rip(struct vcpu *v)
{
    return vmcb_rd64(((struct svm_state *)v->vendor)->vmcb, VMCB_RIP);
}
static void svm_set_rip(struct vcpu *v, uint64_t rip)
{
    vmcb_wr64(((struct svm_state *)v->vendor)->vmcb, VMCB_RIP, rip);
}
static uint64_t svm_get_rsp(struct vcpu *v)
{
    return vmcb_rd64(((struct svm_state *)v->vendor)->vmcb, VMCB_RSP);
}
static uint64_t svm_get_rflags(struct vcpu *v)
{
    return vmcb_rd64(((struct svm_state *)v->vendor)->vmcb, VMCB_RFLAGS);
}
static unsigned svm_get_cpl(struct vcpu *v)
{
    return ((const uint8_t *)((struct svm_state *)v->vendor)->vmcb)[VMCB_CPL];
}
static void svm_set_rsp(struct vcpu *v, uint64_t rsp)
{
    vmcb_wr64(((struct svm_state *)v->vendor)->vmcb, VMCB_RSP, rsp);
}

static void svm_get_paging(struct vcpu *v, uint64_t *cr0, uint64_t *cr3, uint64_t *cr4,
                           uint64_t *efer)
{
    void *vmcb = ((struct svm_state *)v->vendor)->vmcb;
    *cr0 = vmcb_rd64(vmcb, VMCB_CR0);
    *cr3 = vmcb_rd64(vmcb, VMCB_CR3);
    *cr4 = vmcb_rd64(vmcb, VMCB_CR4);
    *efer = vmcb_rd64(vmcb, VMCB_EFER);
}

static void svm_inject(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    uint64_t ev = (vector & EVENTINJ_VECTOR_MASK) | EVENTINJ_TYPE_EXCEPTION | EVENTINJ_VALID;
    if (has_error)
        ev |= EVENTINJ_EV | ((uint64_t)error << EVENTINJ_ERROR_SHIFT);
    vmcb_wr64(((struct svm_state *)v->vendor)->vmcb, VMCB_EVENTINJ, ev);
}

static void svm_dump(struct vcpu *v)
{
    void *vmcb = ((struct svm_state *)v->vendor)->vmcb;
    pv_err("guest rip=%016llx rsp=%016llx rflags=%08llx cpl=%u",
           (unsigned long long)vmcb_rd64(vmcb, VMCB_RIP),
           (unsigned long long)vmcb_rd64(vmcb, VMCB_RSP),
           (unsigned long long)vmcb_rd64(vmcb, VMCB_RFLAGS),
           ((const uint8_t *)vmcb)[VMCB_CPL]);
    pv_err("guest cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx",
           (unsigned long long)vmcb_rd64(vmcb, VMCB_CR0),
           (unsigned long long)vmcb_rd64(vmcb, VMCB_CR2),
           (unsigned long long)vmcb_rd64(vmcb, VMCB_CR3),
           (unsigned long long)vmcb_rd64(vmcb, VMCB_CR4),
           (unsigned long long)vmcb_rd64(vmcb, VMCB_EFER));
    vcpu_dump_gprs(v);
    pv_err("vmcb exitcode=0x%llx exitinfo1=0x%llx exitinfo2=0x%llx exitintinfo=0x%llx",
           (unsigned long long)vmcb_rd64(vmcb, VMCB_EXITCODE),
           (unsigned long long)vmcb_rd64(vmcb, VMCB_EXITINFO1),
           (unsigned long long)vmcb_rd64(vmcb, VMCB_EXITINFO2),
           (unsigned long long)vmcb_rd64(vmcb, VMCB_EXITINTINFO));
}

static void svm_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
    vmcb_wr64(((struct svm_state *)v->vendor)->vmcb, VMCB_TSC_OFFSET, offset);
}

/* The IOPM is read at every IN/OUT and VMCB_CLEAN is 0 at every VMRUN:
 * the change takes effect at the next entry. */
static void svm_set_port_trap(struct vcpu *v, uint16_t port, bool trap)
{
    struct svm_state *s = v->vendor;
    uint8_t bit = (uint8_t)(1u << (port % 8));
    if (trap)
        s->iopm[port / 8] |= bit;
    else
        s->iopm[port / 8] &= (uint8_t)~bit;
}

const struct vcpu_ops svm_ops = {
    .name = "svm",
    .s2_format = &s2pt_format_npt,
    .run = svm_run,
    .get_rip = svm_get_rip,
    .set_rip = svm_set_rip,
    .get_rsp = svm_get_rsp,
    .get_rflags = svm_get_rflags,
    .get_cpl = svm_get_cpl,
    .set_rsp = svm_set_rsp,
    .get_paging = svm_get_paging,
    .inject_exception = svm_inject,
    .invalidate = svm_invalidate,
    .dump = svm_dump,
    .set_tsc_offset = svm_set_tsc_offset,
    .msr_own = svm_msr_own,
    .set_port_trap = svm_set_port_trap,
};

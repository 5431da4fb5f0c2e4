/*
 * VM-execution, VM-exit and VM-entry controls, the I/O and MSR bitmaps and
 * the EPT pointer of the guest's VMCS.
 *
 * Interception policy (thin hypervisor, as on SVM): CPUID, INVD, XSETBV,
 * triple fault and the VMX instructions exit unconditionally; every I/O
 * port and MSR exits except those vmm/io_policy.c and vmm/msr_policy.c
 * let through; HLT exits (so a guest halted with interrupts off can be
 * told from an idle one); MONITOR/MWAIT exit where the CPU allows it (they
 * are hidden from the guest). External interrupts and NMIs do not exit: they are delivered
 * through the guest's IDT. No exception exits.
 */
#include "ept/s2pt_ept.h"
#include "vmm/arch/arch.h"
#include "vmm/arch/clock.h"
#include "vmm/arch/cpufeat.h"
#include "vmm/lib/heap.h"
#include "vmm/io_policy.h"
#include "vmm/lib/log.h"
#include "vmm/msr_policy.h"
#include "vmm/vmx/vmcs.h"
#include "vmm/vmx/vmx.h"

#include <string.h>

#define VMX_PREEMPT_MS 10 /* background work at least this often */

#define VMX_BITMAP_SIZE 4096u
#define IO_PORTS_PER_BITMAP 0x8000u
/* MSR bitmap: four 1 KiB quarters (read low, read high, write low,
 * write high), one bit per MSR of the ranges 0..0x1FFF and
 * 0xC0000000..0xC0001FFF. Other MSRs always exit. */
#define MSR_LOW_FIRST 0x00000000u
#define MSR_HIGH_FIRST 0xC0000000u
#define MSR_RANGE_MSRS 0x2000u
#define MSRBM_READ_LOW 0x000u
#define MSRBM_READ_HIGH 0x400u
#define MSRBM_WRITE_LOW 0x800u
#define MSRBM_WRITE_HIGH 0xC00u
#define GUEST_VPID 1

/* The bitmaps start all ones (everything exits); the policies name what
 * the guest reaches directly. */
static void clear_bit(uint8_t *map, uint32_t bit)
{
    map[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

/* The I/O bitmaps are consulted at every IN/OUT of the guest; between an
 * exit and the next entry the hypervisor may change them. */
void vmx_set_port_trap(struct vcpu *v, uint16_t port, bool trap)
{
    struct vmx_state *s = v->vendor;
    uint8_t *map = port < IO_PORTS_PER_BITMAP ? s->io_bitmap_a : s->io_bitmap_b;
    uint32_t bit = port % IO_PORTS_PER_BITMAP;
    if (trap)
        map[bit / 8] |= (uint8_t)(1u << (bit % 8));
    else
        clear_bit(map, bit);
}

static void pass_ports(void *ctx, uint16_t port, uint16_t count)
{
    struct vmx_state *s = ctx;
    for (uint32_t p = port; p < (uint32_t)port + count && p <= UINT16_MAX; p++) {
        if (p < IO_PORTS_PER_BITMAP)
            clear_bit(s->io_bitmap_a, p);
        else
            clear_bit(s->io_bitmap_b, p - IO_PORTS_PER_BITMAP);
    }
}

static void pass_msr(void *ctx, uint32_t msr, bool rd, bool wr)
{
    uint8_t *bm = ctx;
    uint32_t rd_off, wr_off, bit;
    if (msr - MSR_LOW_FIRST < MSR_RANGE_MSRS) {
        rd_off = MSRBM_READ_LOW, wr_off = MSRBM_WRITE_LOW, bit = msr - MSR_LOW_FIRST;
    } else if (msr - MSR_HIGH_FIRST < MSR_RANGE_MSRS) {
        rd_off = MSRBM_READ_HIGH, wr_off = MSRBM_WRITE_HIGH, bit = msr - MSR_HIGH_FIRST;
    } else {
        return; /* outside the bitmap: always exits */
    }
    if (rd)
        clear_bit(bm + rd_off, bit);
    if (wr)
        clear_bit(bm + wr_off, bit);
}

static int alloc_bitmaps(struct vcpu *v, struct vmx_state *s)
{
    s->io_bitmap_a = heap_alloc(VMX_BITMAP_SIZE, VMX_BITMAP_SIZE, "VMX I/O bitmap A");
    s->io_bitmap_b = heap_alloc(VMX_BITMAP_SIZE, VMX_BITMAP_SIZE, "VMX I/O bitmap B");
    s->msr_bitmap = heap_alloc(VMX_BITMAP_SIZE, VMX_BITMAP_SIZE, "VMX MSR bitmap");
    if (!s->io_bitmap_a || !s->io_bitmap_b || !s->msr_bitmap)
        return -1;
    memset(s->io_bitmap_a, 0xFF, VMX_BITMAP_SIZE);
    memset(s->io_bitmap_b, 0xFF, VMX_BITMAP_SIZE);
    memset(s->msr_bitmap, 0xFF, VMX_BITMAP_SIZE);
    io_policy_open_ports(v, pass_ports, s);
    msr_policy_open_msrs(pass_msr, s->msr_bitmap);
    return 0;
}

/* What each control word must have, and what it takes where allowed. */
static const struct vmx_ctl_policy policy[VMX_CTL_WORDS] = {
    /* The preemption timer bounds how long the guest runs without an exit,
     * so background reclaim gets its tick even from a guest that never
     * exits on its own. */
    [VMX_CTL_PIN] = { 0, VMX_PIN_PREEMPT_TIMER },
    /* TSC offsetting: a guest TSC write becomes an offset (msr_policy.c). */
    [VMX_CTL_PROC] = { VMX_PROC_HLT_EXITING | VMX_PROC_IO_BITMAPS | VMX_PROC_MSR_BITMAPS |
                           VMX_PROC_SECONDARY | VMX_PROC_TSC_OFFSET,
                       VMX_PROC_MWAIT_EXITING | VMX_PROC_MONITOR_EXITING },
    /* RDTSCP, INVPCID, XSAVES, user wait/pause: without their enable
     * control these instructions raise #UD in the guest even where CPUID
     * offers them. VPID is added below when the CPU has it. */
    [VMX_CTL_PROC2] = { VMX_PROC2_EPT,
                        VMX_PROC2_UNRESTRICTED | VMX_PROC2_RDTSCP | VMX_PROC2_INVPCID |
                            VMX_PROC2_XSAVES | VMX_PROC2_USER_WAIT_PAUSE },
    [VMX_CTL_EXIT] = { VMX_EXIT_HOST_64BIT | VMX_EXIT_SAVE_EFER | VMX_EXIT_LOAD_EFER |
                           VMX_EXIT_SAVE_PAT | VMX_EXIT_LOAD_PAT,
                       VMX_EXIT_SAVE_DEBUG },
    [VMX_CTL_ENTRY] = { VMX_ENTRY_IA32E_GUEST | VMX_ENTRY_LOAD_EFER | VMX_ENTRY_LOAD_PAT,
                        VMX_ENTRY_LOAD_DEBUG },
};

static const uint32_t ctl_fields[VMX_CTL_WORDS] = {
    [VMX_CTL_PIN] = VMCS_PIN_CONTROLS,     [VMX_CTL_PROC] = VMCS_PROC_CONTROLS,
    [VMX_CTL_PROC2] = VMCS_PROC2_CONTROLS, [VMX_CTL_EXIT] = VMCS_EXIT_CONTROLS,
    [VMX_CTL_ENTRY] = VMCS_ENTRY_CONTROLS,
};

/* Controls that would break the thin model if a CPU forced them on. */
static const uint32_t must_stay_off[VMX_CTL_WORDS] = {
    [VMX_CTL_PIN] = VMX_PIN_EXT_INTR_EXITING | VMX_PIN_NMI_EXITING,
    [VMX_CTL_EXIT] = VMX_EXIT_ACK_INTR,
};

static int compute_controls(struct vmx_state *s, const struct vmx_features *f)
{
    bool tru = (rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CONTROLS) != 0;
    struct vmx_ctl_policy pol[VMX_CTL_WORDS];
    for (int w = 0; w < VMX_CTL_WORDS; w++) {
        s->caps[w] = rdmsr(vmx_ctl_cap_msr((enum vmx_ctl_word)w, tru));
        pol[w] = policy[w];
    }
    if (f->vpid)
        pol[VMX_CTL_PROC2].optional |= VMX_PROC2_VPID;
    struct vmx_ctl_plan plan;
    int rc = vmx_plan_controls(s->caps, pol, &plan);
    /* Under a hypervisor (nested KVM) the controls offered are its choice. */
    bool below = (cpuid(CPUID_FEATURES, 0).ecx & CPUID1_ECX_HYPERVISOR) != 0;
    for (int w = 0; w < VMX_CTL_WORDS; w++) {
        enum vmx_ctl_word cw = (enum vmx_ctl_word)w;
        for (uint32_t m = plan.missing[w]; m; m &= m - 1)
            pv_err("vmx: the CPU does not allow the %s control '%s' (capability MSR 0x%llx)%s",
                   vmx_ctl_word_name(cw), vmx_ctl_name(cw, (unsigned)__builtin_ctz(m)),
                   (unsigned long long)s->caps[w],
                   below ? "; the hypervisor below decides (docs/nested-kvm.md)" : "");
        for (uint32_t d = plan.dropped[w]; d; d &= d - 1) {
            unsigned bit = (unsigned)__builtin_ctz(d);
            const char *without = vmx_ctl_fallback(cw, bit);
            pv_info("vmx: %s control '%s' not offered: %s", vmx_ctl_word_name(cw),
                    vmx_ctl_name(cw, bit), without ? without : "not used");
        }
    }
    if (rc < 0)
        return -1;
    for (int w = 0; w < VMX_CTL_WORDS; w++) {
        s->ctl[w] = plan.ctl[w];
        uint32_t bad = s->ctl[w] & must_stay_off[w];
        if (bad) {
            pv_err("vmx: the CPU forces the %s control '%s' on; pagevisor cannot run so",
                   vmx_ctl_word_name((enum vmx_ctl_word)w),
                   vmx_ctl_name((enum vmx_ctl_word)w, (unsigned)__builtin_ctz(bad)));
            return -1;
        }
    }
    if (s->ctl[VMX_CTL_PROC] & (VMX_PROC_CR3_LOAD_EXITING | VMX_PROC_CR3_STORE_EXITING))
        pv_info("vmx: CR3 accesses exit (no TRUE controls to turn them off)");
    return 0;
}

static uint64_t ept_pointer(const struct guest_mm *mm)
{
    return (mm->s2.root & EPT_ADDR_MASK) | VMX_EPTP_MEMTYPE_WB | VMX_EPTP_WALK_4LEVEL |
           (mm->s2.use_ad ? VMX_EPTP_AD : 0);
}

int vmx_setup_controls(struct vcpu *v, struct vmx_state *s, const struct vmx_features *f)
{
    if (compute_controls(s, f) < 0 || alloc_bitmaps(v, s) < 0)
        return -1;
    for (int w = 0; w < VMX_CTL_WORDS; w++)
        vmcs_write(s, ctl_fields[w], s->ctl[w]);
    uint32_t p2 = s->ctl[VMX_CTL_PROC2];

    vmcs_write(s, VMCS_EXCEPTION_BITMAP, 0);
    vmcs_write(s, VMCS_PF_ERROR_MASK, 0);
    vmcs_write(s, VMCS_PF_ERROR_MATCH, 0);
    vmcs_write(s, VMCS_CR3_TARGET_COUNT, 0);
    vmcs_write(s, VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write(s, VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write(s, VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write(s, VMCS_ENTRY_INTR_INFO, 0);
    vmcs_write(s, VMCS_TSC_OFFSET, 0);
    vmcs_write(s, VMCS_IO_BITMAP_A, va_hpa(s->io_bitmap_a));
    vmcs_write(s, VMCS_IO_BITMAP_B, va_hpa(s->io_bitmap_b));
    vmcs_write(s, VMCS_MSR_BITMAP, va_hpa(s->msr_bitmap));
    if (p2 & VMX_PROC2_XSAVES)
        vmcs_write(s, VMCS_XSS_EXIT_BITMAP, 0); /* no XSAVES/XRSTORS exits */

    vmx_cr0_rule(s->cr0_fixed[0], s->cr0_fixed[1], (p2 & VMX_PROC2_UNRESTRICTED) != 0,
                 &s->cr0);
    vmx_cr4_rule(s->cr4_fixed[0], s->cr4_fixed[1], &s->cr4);
    vmcs_write(s, VMCS_CR0_MASK, s->cr0.mask);
    vmcs_write(s, VMCS_CR4_MASK, s->cr4.mask);

    s->eptp = ept_pointer(v->mm);
    vmcs_write(s, VMCS_EPT_POINTER, s->eptp);
    s->invept_single = f->invept_single;
    s->invept_all = f->invept_all;
    s->flush_pending = true;
    s->vpid = (p2 & VMX_PROC2_VPID) ? GUEST_VPID : 0;
    if (s->vpid)
        vmcs_write(s, VMCS_VPID, s->vpid);
    s->hlt_activity = (rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_ACTIVITY_HLT) != 0;
    if (s->ctl[VMX_CTL_PIN] & VMX_PIN_PREEMPT_TIMER) {
        unsigned rate = (unsigned)(rdmsr(MSR_IA32_VMX_MISC) & VMX_MISC_PREEMPT_RATE_MASK);
        uint64_t ticks = clock_ms_to_ticks(clock_tsc_hz(), VMX_PREEMPT_MS) >> rate;
        s->preempt_value = ticks == 0 ? 1 : ticks > UINT32_MAX ? UINT32_MAX : (uint32_t)ticks;
        pv_info("vmx: preemption timer every %u ms (value %u, rate 2^%u)", VMX_PREEMPT_MS,
                s->preempt_value, rate);
    }

    pv_info("vmx: controls pin 0x%x proc 0x%x proc2 0x%x exit 0x%x entry 0x%x",
            s->ctl[VMX_CTL_PIN], s->ctl[VMX_CTL_PROC], p2, s->ctl[VMX_CTL_EXIT],
            s->ctl[VMX_CTL_ENTRY]);
    pv_info("vmx: eptp 0x%llx (A/D %s), vpid %u, unrestricted guest %s, "
            "rdtscp/invpcid/xsaves %s/%s/%s, HLT activity %s",
            (unsigned long long)s->eptp, (s->eptp & VMX_EPTP_AD) ? "on" : "off", s->vpid,
            (p2 & VMX_PROC2_UNRESTRICTED) ? "yes" : "no", (p2 & VMX_PROC2_RDTSCP) ? "on" : "off",
            (p2 & VMX_PROC2_INVPCID) ? "on" : "off", (p2 & VMX_PROC2_XSAVES) ? "on" : "off",
            s->hlt_activity ? "yes" : "no");
    return s->write_errors ? -1 : 0;
}

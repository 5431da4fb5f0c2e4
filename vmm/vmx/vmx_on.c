/*
 * Entering VMX operation: IA32_FEATURE_CONTROL, the CR0/CR4 bits VMX
 * requires, CR4.VMXE, the VMXON region, then the guest's VMCS made clear
 * and current.
 *
 * Contract: runs once, on the CPU that will run the guest, after the
 * hypervisor's own GDT/IDT/paging are in place and before any VMCS access.
 */
#include "vmm/arch/arch.h"
#include "vmm/arch/cpufeat.h"
#include "vmm/arch/memtype.h"
#include "vmm/arch/memtype_read.h"
#include "vmm/arch/msr_safe.h"
#include "vmm/lib/heap.h"
#include "vmm/lib/log.h"
#include "vmm/vmx/vmcs.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_decode.h"
#include "vmm/vmx/vmx_insn.h"

#define VMX_REGION_SIZE 4096u
#define FOUR_GIB (1ull << 32)
#define MEMTYPE_WB 6u
#define CPUID_XSAVE_LEAF 0xDu
#define CPUID1_ECX_XSAVE (1u << 26)

void vmcs_write(struct vmx_state *s, uint32_t field, uint64_t value)
{
    if (vmwrite_raw(field, value) == 0)
        return;
    uint32_t err = (uint32_t)vmread(VMCS_INSN_ERROR);
    pv_err("vmx: VMWRITE of 0x%llx to field 0x%04x refused: error %u (%s)",
           (unsigned long long)value, field, err, vmx_insn_error_name(err));
    s->write_errors++;
}

/* VMXON outside SMX needs IA32_FEATURE_CONTROL to say so, and the MSR
 * is writable only until firmware (or we) lock it; the decision is
 * featctl_plan's, and a write is read back (a hypervisor below us may
 * refuse or drop it). */
static int feature_control(void)
{
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL), want = 0;
    const char *why = "";
    switch (featctl_plan(fc, &want, &why)) {
    case FEATCTL_ACT_USE:
        return 0;
    case FEATCTL_ACT_REFUSE:
        pv_err("vmx: IA32_FEATURE_CONTROL 0x%llx %s", (unsigned long long)fc, why);
        return -1;
    case FEATCTL_ACT_LOCK:
        break;
    }
    int faulted = wrmsr_safe(MSR_IA32_FEATURE_CONTROL, want) < 0;
    uint64_t back = 0;
    if (!faulted && rdmsr_safe(MSR_IA32_FEATURE_CONTROL, &back) < 0)
        faulted = 1;
    const char *bad = "";
    if (featctl_verify(want, faulted, back, &bad) < 0) {
        pv_err("vmx: IA32_FEATURE_CONTROL was unlocked (0x%llx); writing 0x%llx failed: %s",
               (unsigned long long)fc, (unsigned long long)want, bad);
        return -1;
    }
    pv_info("vmx: IA32_FEATURE_CONTROL was unlocked (0x%llx): locked with VMX outside SMX "
            "(reads back 0x%llx)", (unsigned long long)fc, (unsigned long long)back);
    return 0;
}

/* Set what FIXED0 demands and clear what FIXED1 forbids, in the host's
 * own CR0/CR4 (VMXON and every VM exit need them); CR4.VMXE is among
 * FIXED0's bits. CR4.OSXSAVE is left to follow the guest's (see
 * vmx_sync_host_osxsave). */
static int fix_control_registers(struct vmx_state *s)
{
    s->cr0_fixed[0] = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    s->cr0_fixed[1] = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    s->cr4_fixed[0] = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
    s->cr4_fixed[1] = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
    uint64_t cr0 = read_cr0(), cr4 = read_cr4();
    uint64_t want_cr0 = (cr0 | s->cr0_fixed[0]) & s->cr0_fixed[1];
    uint64_t want_cr4 = (cr4 | s->cr4_fixed[0] | VMX_CR4_VMXE) & s->cr4_fixed[1];
    /* XSAVE state is usable by the guest only if the host may follow it
     * (CR4.OSXSAVE allowed in VMX operation). */
    if ((cpuid(CPUID_FEATURES, 0).ecx & CPUID1_ECX_XSAVE) &&
        (s->cr4_fixed[1] & VMX_CR4_OSXSAVE)) {
        struct cpuid_regs x = cpuid(CPUID_XSAVE_LEAF, 0);
        s->xcr0_supported = ((uint64_t)x.edx << 32) | x.eax;
    }
    if (!(want_cr4 & VMX_CR4_VMXE)) {
        pv_err("vmx: IA32_VMX_CR4_FIXED1 (0x%llx) does not allow CR4.VMXE",
               (unsigned long long)s->cr4_fixed[1]);
        return -1;
    }
    if (want_cr0 != cr0) {
        pv_info("vmx: host CR0 0x%llx -> 0x%llx (VMX fixed bits)", (unsigned long long)cr0,
                (unsigned long long)want_cr0);
        write_cr0(want_cr0);
    }
    if (want_cr4 != cr4)
        write_cr4(want_cr4);
    return 0;
}

/* VMX reads and writes its regions in the memory type IA32_VMX_BASIC
 * names (write-back); the MTRRs must agree. Under nested KVM they are the
 * outer VM's firmware's: a VM started without firmware has them disabled
 * (all UC), which KVM tolerates but real hardware would not. */
static void check_region_memtype(const void *region, const char *what)
{
    struct mtrr_state m;
    if (!memtype_read_mtrrs(&m))
        return;
    unsigned t = mtrr_range_type(&m, va_hpa(region), VMX_REGION_SIZE);
    if (t == MTYPE_WB)
        return;
    pv_warn("vmx: the MTRRs make the %s at 0x%llx %s, not WB%s", what,
            (unsigned long long)va_hpa(region), memtype_name(t),
            (m.def_type & MTRR_DEF_E) ? "" : " (MTRRs disabled: IA32_MTRR_DEF_TYPE.E = 0)");
}

static void *alloc_region(const struct vmx_state *s, uint64_t basic, const char *what)
{
    uint32_t *region = heap_alloc(VMX_REGION_SIZE, VMX_REGION_SIZE, what);
    if (!region)
        return NULL;
    if ((basic & VMX_BASIC_ADDR_32BIT) && va_hpa(region) + VMX_REGION_SIZE > FOUR_GIB) {
        pv_err("vmx: the %s at 0x%llx is above 4 GiB, which this CPU's VMX cannot address",
               what, (unsigned long long)va_hpa(region));
        return NULL;
    }
    region[0] = s->revision; /* bit 31 clear: not a shadow VMCS */
    check_region_memtype(region, what);
    return region;
}

int vmx_enable(struct vmx_state *s)
{
    uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
    s->revision = (uint32_t)(basic & VMX_BASIC_REVISION_MASK);
    uint64_t size = (basic & VMX_BASIC_REGION_SIZE_MASK) >> VMX_BASIC_REGION_SIZE_SHIFT;
    uint64_t memtype = (basic & VMX_BASIC_MEMTYPE_MASK) >> VMX_BASIC_MEMTYPE_SHIFT;
    if (size > VMX_REGION_SIZE) {
        pv_err("vmx: IA32_VMX_BASIC asks for %llu-byte VMX regions (at most %u supported)",
               (unsigned long long)size, VMX_REGION_SIZE);
        return -1;
    }
    if (memtype != MEMTYPE_WB)
        pv_warn("vmx: the CPU wants VMCS memory type %llu; pagevisor's memory is write-back",
                (unsigned long long)memtype);
    if (feature_control() < 0 || fix_control_registers(s) < 0)
        return -1;
    s->vmxon_region = alloc_region(s, basic, "VMXON region");
    if (!s->vmxon_region)
        return -1;
    if (vmxon(va_hpa(s->vmxon_region)) < 0) {
        pv_err("vmx: VMXON failed (CR0 0x%llx, CR4 0x%llx, IA32_FEATURE_CONTROL 0x%llx)",
               (unsigned long long)read_cr0(), (unsigned long long)read_cr4(),
               (unsigned long long)rdmsr(MSR_IA32_FEATURE_CONTROL));
        return -1;
    }
    pv_info("vmx: in VMX root operation (VMCS revision 0x%x, region 0x%llx)", s->revision,
            (unsigned long long)va_hpa(s->vmxon_region));
    return 0;
}

int vmx_vmcs_load(struct vmx_state *s)
{
    s->vmcs = alloc_region(s, rdmsr(MSR_IA32_VMX_BASIC), "VMCS");
    if (!s->vmcs)
        return -1;
    uint64_t pa = va_hpa(s->vmcs);
    if (vmclear(pa) < 0) {
        pv_err("vmx: VMCLEAR of the VMCS at 0x%llx failed", (unsigned long long)pa);
        return -1;
    }
    if (vmptrld(pa) < 0) {
        uint32_t err = (uint32_t)vmread(VMCS_INSN_ERROR);
        pv_err("vmx: VMPTRLD of the VMCS at 0x%llx failed: error %u (%s)",
               (unsigned long long)pa, err, vmx_insn_error_name(err));
        return -1;
    }
    s->launched = false;
    return 0;
}

/*
 * The VMCS guest-state area for Linux's 64-bit entry (struct guest_entry)
 * and the host-state area the CPU loads on every VM exit.
 *
 * Host state is the hypervisor as it runs now: its CR0/CR3/CR4 (after
 * vmx_enable fixed them), the selectors of vmm/cpu_tables.h, the bases of
 * the GDT, IDT and TSS as loaded (sgdt/sidt/str), FS/GS bases, SYSENTER,
 * EFER and PAT MSRs, and RIP = vmx_exit_stub. HOST_RSP is written by
 * vmx_enter on every entry (the stack depth is the caller's).
 */
#include "vmm/arch/arch.h"
#include "vmm/arch/cpu_tables.h"
#include "vmm/lib/log.h"
#include "vmm/vmx/vmcs.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_insn.h"

#define MSR_IA32_SYSENTER_CS 0x174u
#define MSR_IA32_SYSENTER_ESP 0x175u
#define MSR_IA32_SYSENTER_EIP 0x176u
#define MSR_IA32_PAT 0x277u
#define MSR_FS_BASE 0xC0000100u
#define MSR_GS_BASE 0xC0000101u

#define SEL_INDEX_MASK 0xFFF8u
#define SEG_LIMIT_FLAT 0xFFFFFFFFu
#define TSS64_LIMIT 0x67u
#define DR7_INIT 0x400ull

/* 16-byte system descriptor (TSS): base 23:0 in bits 39:16, base 31:24
 * in bits 63:56, base 63:32 in the low half of the second quadword. */
#define DESC_BASE_LOW_SHIFT 16
#define DESC_BASE_LOW_MASK 0xFFFFFFull
#define DESC_BASE_MID_SHIFT 56
#define DESC_BASE_MID_MASK 0xFFull
#define DESC_BASE_MID_POS 24
#define DESC_BASE_HIGH_MASK 0xFFFFFFFFull
#define DESC_BASE_HIGH_POS 32

struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint64_t base;
};

static uint64_t tss_base(uint64_t gdt_base, uint16_t tr)
{
    const uint64_t *d = (const uint64_t *)(uintptr_t)(gdt_base + (tr & SEL_INDEX_MASK));
    return ((d[0] >> DESC_BASE_LOW_SHIFT) & DESC_BASE_LOW_MASK) |
           (((d[0] >> DESC_BASE_MID_SHIFT) & DESC_BASE_MID_MASK) << DESC_BASE_MID_POS) |
           ((d[1] & DESC_BASE_HIGH_MASK) << DESC_BASE_HIGH_POS);
}

void vmx_setup_host_state(struct vmx_state *s)
{
    struct dtr gdtr, idtr;
    uint16_t tr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    __asm__ volatile("sidt %0" : "=m"(idtr));
    __asm__ volatile("str %0" : "=r"(tr));
    if (tr != SEL_TSS)
        pv_warn("vmx: host TR is 0x%x, expected 0x%x", tr, SEL_TSS);

    vmcs_write(s, VMCS_HOST_CR0, read_cr0());
    vmcs_write(s, VMCS_HOST_CR3, read_cr3());
    vmcs_write(s, VMCS_HOST_CR4, read_cr4());
    vmcs_write(s, VMCS_HOST_CS_SEL, SEL_CODE64);
    vmcs_write(s, VMCS_HOST_SS_SEL, SEL_DATA);
    vmcs_write(s, VMCS_HOST_DS_SEL, SEL_DATA);
    vmcs_write(s, VMCS_HOST_ES_SEL, SEL_DATA);
    vmcs_write(s, VMCS_HOST_FS_SEL, SEL_DATA);
    vmcs_write(s, VMCS_HOST_GS_SEL, SEL_DATA);
    vmcs_write(s, VMCS_HOST_TR_SEL, tr);
    vmcs_write(s, VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
    vmcs_write(s, VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
    vmcs_write(s, VMCS_HOST_TR_BASE, tss_base(gdtr.base, tr));
    vmcs_write(s, VMCS_HOST_GDTR_BASE, gdtr.base);
    vmcs_write(s, VMCS_HOST_IDTR_BASE, idtr.base);
    vmcs_write(s, VMCS_HOST_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
    vmcs_write(s, VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
    vmcs_write(s, VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
    vmcs_write(s, VMCS_HOST_EFER, rdmsr(MSR_EFER));
    vmcs_write(s, VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
    vmcs_write(s, VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_stub);
}

static void set_seg(struct vmx_state *s, enum vmx_seg seg, uint16_t sel, uint32_t limit,
                    uint32_t ar, uint64_t base)
{
    vmcs_write(s, VMCS_GUEST_SEL(seg), sel);
    vmcs_write(s, VMCS_GUEST_LIMIT(seg), limit);
    vmcs_write(s, VMCS_GUEST_AR(seg), ar);
    vmcs_write(s, VMCS_GUEST_BASE(seg), base);
}

/*
 * Linux's 64-bit entry: flat CS (L=1) and data segments from the boot GDT,
 * a busy 64-bit TSS at 0 (Linux loads its own before it needs one), no
 * LDT (unusable), no IDT yet. CR0/CR4 get the bits VMX forces; the read
 * shadows keep what the guest set, so it never sees them.
 */
void vmx_setup_guest_state(struct vmx_state *s, const struct guest_entry *g)
{
    set_seg(s, VMX_SEG_CS, g->cs, SEG_LIMIT_FLAT, VMX_AR_CODE64, 0);
    set_seg(s, VMX_SEG_SS, g->ds, SEG_LIMIT_FLAT, VMX_AR_DATA, 0);
    set_seg(s, VMX_SEG_DS, g->ds, SEG_LIMIT_FLAT, VMX_AR_DATA, 0);
    set_seg(s, VMX_SEG_ES, g->ds, SEG_LIMIT_FLAT, VMX_AR_DATA, 0);
    set_seg(s, VMX_SEG_FS, g->ds, SEG_LIMIT_FLAT, VMX_AR_DATA, 0);
    set_seg(s, VMX_SEG_GS, g->ds, SEG_LIMIT_FLAT, VMX_AR_DATA, 0);
    set_seg(s, VMX_SEG_TR, 0, TSS64_LIMIT, VMX_AR_TR_BUSY64, 0);
    set_seg(s, VMX_SEG_LDTR, 0, 0, VMX_AR_UNUSABLE, 0);
    vmcs_write(s, VMCS_GUEST_GDTR_BASE, g->gdt_base);
    vmcs_write(s, VMCS_GUEST_GDTR_LIMIT, g->gdt_limit);
    vmcs_write(s, VMCS_GUEST_IDTR_BASE, 0);
    vmcs_write(s, VMCS_GUEST_IDTR_LIMIT, 0);

    uint64_t cr0 = g->cr0, cr4 = g->cr4;
    if (vmx_cr0_apply(&s->cr0, g->cr0, &cr0) < 0 || vmx_cr4_apply(&s->cr4, g->cr4, &cr4) < 0) {
        pv_err("vmx: the entry CR0 0x%llx / CR4 0x%llx conflict with VMX's fixed bits",
               (unsigned long long)g->cr0, (unsigned long long)g->cr4);
        s->write_errors++;
    }
    vmcs_write(s, VMCS_GUEST_CR0, cr0);
    vmcs_write(s, VMCS_CR0_SHADOW, g->cr0);
    vmcs_write(s, VMCS_GUEST_CR3, g->cr3);
    vmcs_write(s, VMCS_GUEST_CR4, cr4);
    vmcs_write(s, VMCS_CR4_SHADOW, g->cr4);
    vmcs_write(s, VMCS_GUEST_DR7, DR7_INIT);
    vmcs_write(s, VMCS_GUEST_DEBUGCTL, 0);
    vmcs_write(s, VMCS_GUEST_EFER, g->efer);
    vmcs_write(s, VMCS_GUEST_PAT, g->pat);
    vmcs_write(s, VMCS_GUEST_SYSENTER_CS, 0);
    vmcs_write(s, VMCS_GUEST_SYSENTER_ESP, 0);
    vmcs_write(s, VMCS_GUEST_SYSENTER_EIP, 0);
    vmcs_write(s, VMCS_GUEST_RSP, g->rsp);
    vmcs_write(s, VMCS_GUEST_RIP, g->rip);
    vmcs_write(s, VMCS_GUEST_RFLAGS, g->rflags);
    vmcs_write(s, VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmcs_write(s, VMCS_GUEST_ACTIVITY, VMX_ACTIVITY_ACTIVE);
    vmcs_write(s, VMCS_GUEST_PENDING_DBG, 0);
    vmcs_write(s, VMCS_LINK_POINTER, VMX_LINK_POINTER_NONE);
}

/*
 * The host's CR4.OSXSAVE mirrors the guest's whenever the hypervisor acts
 * for the guest on XSAVE state: CPUID.1:ECX.OSXSAVE reports the CR4 of
 * whoever executes CPUID (here the host, for a CPUID exit), and XSETBV
 * needs it set. VM exits load CR4 from HOST_CR4, so both change together.
 * Called before CPUID and XSETBV exits are handled.
 */
void vmx_sync_host_osxsave(struct vmx_state *s)
{
    if (!s->xcr0_supported)
        return;
    uint64_t cr4 = read_cr4();
    uint64_t want = (cr4 & ~VMX_CR4_OSXSAVE) | (vmread(VMCS_GUEST_CR4) & VMX_CR4_OSXSAVE);
    if (want == cr4)
        return;
    write_cr4(want);
    vmcs_write(s, VMCS_HOST_CR4, want);
}

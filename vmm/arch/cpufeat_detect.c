/*
 * Read virtualization features from the running CPU. Capability MSRs are
 * only read when CPUID says the feature exists (reading them otherwise
 * raises #GP).
 */
#include "vmm/arch/arch.h"
#include "vmm/arch/cpufeat.h"

#include <string.h>


static void copy_sig(char out[13], uint32_t a, uint32_t b, uint32_t c)
{
    memcpy(out, &a, 4);
    memcpy(out + 4, &b, 4);
    memcpy(out + 8, &c, 4);
    out[12] = 0;
}

void cpufeat_detect(struct cpu_features *f)
{
    memset(f, 0, sizeof(*f));
    struct cpuid_regs r = cpuid(CPUID_VENDOR, 0);
    copy_sig(f->vendor, r.ebx, r.edx, r.ecx);

    struct cpuid_regs f1 = cpuid(CPUID_FEATURES, 0);
    f->hypervisor = (f1.ecx & CPUID1_ECX_HYPERVISOR) != 0;
    if (f->hypervisor) {
        struct cpuid_regs h = cpuid(CPUID_HV_BASE, 0);
        copy_sig(f->hv_signature, h.ebx, h.ecx, h.edx);
    }

    uint32_t ext_max = cpuid(CPUID_EXT_MAX, 0).eax;
    struct cpuid_regs e1 = { 0, 0, 0, 0 };
    if (ext_max >= CPUID_EXT_FEATURES)
        e1 = cpuid(CPUID_EXT_FEATURES, 0);
    f->page1gb = (e1.edx & CPUID_EXT1_EDX_PAGE1GB) != 0;

    bool vmx = (f1.ecx & CPUID1_ECX_VMX) != 0;
    struct vmx_raw vr = { 0, 0, 0, 0, 0, 0 };
    if (vmx) {
        vr.feature_control = rdmsr(MSR_IA32_FEATURE_CONTROL);
        vr.basic = rdmsr(MSR_IA32_VMX_BASIC);
        bool tru = (vr.basic & VMX_BASIC_TRUE_CTLS) != 0;
        vr.pinbased = rdmsr(tru ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
        vr.procbased = rdmsr(tru ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
        if ((uint32_t)(vr.procbased >> 32) & PROC_ACTIVATE_SECONDARY) {
            vr.procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
            if ((uint32_t)(vr.procbased2 >> 32) & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
                vr.ept_vpid_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
        }
    }
    vmx_decode(&f->vmx, vmx, &vr);

    bool svm = (e1.ecx & CPUID_EXT1_ECX_SVM) != 0;
    struct svm_raw sr = { 0, 0, 0 };
    if (svm) {
        sr.vm_cr = rdmsr(MSR_VM_CR);
        if (ext_max >= CPUID_SVM) {
            struct cpuid_regs s = cpuid(CPUID_SVM, 0);
            sr.svm_edx = s.edx;
            sr.svm_ebx = s.ebx;
        }
    }
    svm_decode(&f->svm, svm, &sr);
}

/* Decoding of virtualization features; see cpufeat.h. */
#include "vmm/arch/cpufeat.h"
#include "vmm/lib/fmt.h"

#include <string.h>

/* A capability MSR's bits 63:32 are the controls that may be 1. */
static uint32_t allowed1(uint64_t msr) { return (uint32_t)(msr >> 32); }

void vmx_decode(struct vmx_features *v, bool present, const struct vmx_raw *raw)
{
    memset(v, 0, sizeof(*v));
    v->present = present;
    if (!present)
        return;
    if (!(raw->feature_control & FEATCTL_LOCK))
        v->featctl = FEATCTL_UNLOCKED;
    else if (raw->feature_control & FEATCTL_VMX_OUTSIDE_SMX)
        v->featctl = FEATCTL_LOCKED_ON;
    else
        v->featctl = FEATCTL_LOCKED_OFF;
    v->true_ctls = (raw->basic & VMX_BASIC_TRUE_CTLS) != 0;
    v->preempt_timer = (allowed1(raw->pinbased) & PIN_PREEMPT_TIMER) != 0;
    if (!(allowed1(raw->procbased) & PROC_ACTIVATE_SECONDARY))
        return;
    uint32_t p2 = allowed1(raw->procbased2);
    v->ept = (p2 & PROC2_ENABLE_EPT) != 0;
    v->vpid = (p2 & PROC2_ENABLE_VPID) != 0;
    v->unrestricted = (p2 & PROC2_UNRESTRICTED_GUEST) != 0;
    if (!v->ept)
        return;
    uint64_t cap = raw->ept_vpid_cap;
    v->ept_4level = (cap & EPTCAP_PWL4) != 0;
    v->ept_wb = (cap & EPTCAP_WB) != 0;
    v->ept_2m = (cap & EPTCAP_2M) != 0;
    v->ept_1g = (cap & EPTCAP_1G) != 0;
    v->ept_ad = (cap & EPTCAP_AD) != 0;
    v->invept = (cap & EPTCAP_INVEPT) != 0;
    v->invept_single = v->invept && (cap & EPTCAP_INVEPT_SINGLE);
    v->invept_all = v->invept && (cap & EPTCAP_INVEPT_ALL);
}

void svm_decode(struct svm_features *s, bool present, const struct svm_raw *raw)
{
    memset(s, 0, sizeof(*s));
    s->present = present;
    if (!present)
        return;
    s->disabled = (raw->vm_cr & VM_CR_SVMDIS) != 0;
    s->npt = (raw->svm_edx & CPUID_SVM_EDX_NP) != 0;
    s->nrip = (raw->svm_edx & CPUID_SVM_EDX_NRIPS) != 0;
    s->decode_assists = (raw->svm_edx & CPUID_SVM_EDX_DECODE_ASSISTS) != 0;
    s->flush_by_asid = (raw->svm_edx & CPUID_SVM_EDX_FLUSH_BY_ASID) != 0;
    s->nasid = raw->svm_ebx;
}

static const char *vmx_missing(const struct vmx_features *v)
{
    if (!v->present)
        return "vmx: not offered by the CPU";
    if (v->featctl == FEATCTL_LOCKED_OFF)
        return "vmx: disabled by firmware (IA32_FEATURE_CONTROL locked without VMX)";
    if (!v->ept)
        return "vmx: no EPT (secondary control 'enable EPT' not allowed)";
    if (!v->ept_4level)
        return "vmx: EPT without 4-level page walk";
    if (!v->ept_wb)
        return "vmx: EPT without write-back paging-structure memory type";
    if (!v->invept)
        return "vmx: EPT without INVEPT";
    return NULL;
}

static const char *svm_missing(const struct svm_features *s)
{
    if (!s->present)
        return "svm: not offered by the CPU";
    if (s->disabled)
        return "svm: disabled by firmware (VM_CR.SVMDIS)";
    if (!s->npt)
        return "svm: no nested paging (NPT)";
    return NULL;
}

enum virt_kind cpufeat_choose(const struct cpu_features *f, char *why, size_t len)
{
    const char *vm = vmx_missing(&f->vmx);
    const char *sm = svm_missing(&f->svm);
    if (!vm) {
        pv_snprintf(why, len, "vmx+ept");
        return VIRT_VMX;
    }
    if (!sm) {
        pv_snprintf(why, len, "svm+npt");
        return VIRT_SVM;
    }
    pv_snprintf(why, len, "%s; %s", vm, sm);
    return VIRT_NONE;
}

static const char *yes_no(bool b) { return b ? "yes" : "no"; }

void cpufeat_describe(const struct cpu_features *f,
                      void (*emit)(void *ctx, const char *line), void *ctx)
{
    char line[128];
#define LINE(...) (pv_snprintf(line, sizeof(line), __VA_ARGS__), emit(ctx, line))
    LINE("feature vendor %s", f->vendor);
    if (f->hypervisor)
        LINE("feature host-hypervisor %s", f->hv_signature[0] ? f->hv_signature : "unknown");
    LINE("feature vmx %s", yes_no(f->vmx.present));
    if (f->vmx.present) {
        static const char *const fc[] = { "unlocked", "locked-on", "locked-off" };
        LINE("feature vmx-feature-control %s", fc[f->vmx.featctl]);
        LINE("feature ept %s", yes_no(f->vmx.ept));
        LINE("feature ept-2m %s", yes_no(f->vmx.ept_2m));
        LINE("feature ept-1g %s", yes_no(f->vmx.ept_1g));
        LINE("feature ept-ad %s", yes_no(f->vmx.ept_ad));
        LINE("feature invept %s", !f->vmx.invept ? "none"
                                  : f->vmx.invept_single && f->vmx.invept_all ? "single,all"
                                  : f->vmx.invept_single ? "single"
                                  : f->vmx.invept_all ? "all" : "none");
        LINE("feature vpid %s", yes_no(f->vmx.vpid));
        LINE("feature unrestricted-guest %s", yes_no(f->vmx.unrestricted));
        LINE("feature preemption-timer %s", yes_no(f->vmx.preempt_timer));
    }
    LINE("feature svm %s", yes_no(f->svm.present));
    if (f->svm.present) {
        LINE("feature svm-disabled %s", yes_no(f->svm.disabled));
        LINE("feature npt %s", yes_no(f->svm.npt));
        LINE("feature nrip-save %s", yes_no(f->svm.nrip));
        LINE("feature decode-assists %s", yes_no(f->svm.decode_assists));
        LINE("feature flush-by-asid %s", yes_no(f->svm.flush_by_asid));
        LINE("feature asids %u", f->svm.nasid);
    }
#undef LINE
}

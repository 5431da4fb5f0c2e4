/*
 * Hardware virtualization features: what the CPU offers, decoded from raw
 * CPUID and capability-MSR values by pure functions (unit-tested on the
 * host), and read from the real CPU by cpufeat_detect() in the hypervisor.
 */
#ifndef PV_VMM_CPUFEAT_H
#define PV_VMM_CPUFEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CPUID leaves (spelled exactly as cpufeat_detect.c's local copies) */
#define CPUID_VENDOR 0x0u
#define CPUID_FEATURES 0x1u
#define CPUID_CACHE_PARAMS 0x4u     /* Intel deterministic cache parameters */
#define CPUID_STRUCT_EXT 0x7u       /* structured extended features, subleaf 0 */
#define CPUID_TOPOLOGY 0xBu         /* Intel extended topology */
#define CPUID_TOPOLOGY_V2 0x1Fu     /* Intel V2 extended topology */
#define CPUID_HV_BASE 0x40000000u   /* 0x40000000..0x4FFFFFFF: reserved for hypervisors */
#define CPUID_HV_LAST 0x4FFFFFFFu
#define CPUID_EXT_MAX 0x80000000u
#define CPUID_EXT_FEATURES 0x80000001u
#define CPUID_EXT_ADDR_SIZES 0x80000008u
#define CPUID_SVM 0x8000000Au

/* CPUID bits */
#define CPUID1_EBX_LOGICAL_COUNT_SHIFT 16
#define CPUID1_EBX_LOGICAL_COUNT (0xFFu << CPUID1_EBX_LOGICAL_COUNT_SHIFT)
#define CPUID1_EBX_APIC_ID_SHIFT 24     /* initial APIC ID in EBX[31:24] */
#define CPUID1_ECX_MONITOR (1u << 3)
#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_X2APIC (1u << 21)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID1_EDX_MTRR (1u << 12)
#define CPUID7_ECX_LA57 (1u << 16)         /* 5-level paging */
#define CPUID4_EAX_SHARING (0xFFFu << 14)  /* logical processors sharing - 1 */
#define CPUID4_EAX_CORES (0x3Fu << 26)     /* cores per package - 1 */
/* leaves 0xB / 0x1F, per subleaf (= level) */
#define CPUID_TOPO_EAX_SHIFT 0x1Fu         /* x2APIC id bits below the next level */
#define CPUID_TOPO_EBX_COUNT 0xFFFFu       /* logical processors at this level */
#define CPUID_TOPO_ECX_LEVEL 0xFFu         /* echoes the subleaf */
#define CPUID_TOPO_ECX_TYPE_SHIFT 8
#define CPUID_TOPO_ECX_TYPE (0xFFu << CPUID_TOPO_ECX_TYPE_SHIFT)
#define CPUID_TOPO_TYPE_INVALID 0u
#define CPUID_TOPO_TYPE_SMT 1u
#define CPUID_TOPO_TYPE_CORE 2u
#define CPUID_EXT1_ECX_SVM (1u << 2)
#define CPUID_EXT1_EDX_NX (1u << 20)
#define CPUID_EXT1_EDX_PAGE1GB (1u << 26)
#define CPUID_EXT8_ECX_NC 0xFFu            /* AMD: cores per package - 1 */
#define CPUID_EXT8_ECX_APICIDSIZE (0xFu << 12) /* AMD: core-id bits in the APIC id */
#define CPUID_SVM_EDX_NP (1u << 0)
#define CPUID_SVM_EDX_NRIPS (1u << 3)
#define CPUID_SVM_EDX_FLUSH_BY_ASID (1u << 6)
#define CPUID_SVM_EDX_DECODE_ASSISTS (1u << 7)

/* IA32_FEATURE_CONTROL */
#define FEATCTL_LOCK (1ull << 0)
#define FEATCTL_VMX_INSIDE_SMX (1ull << 1)
#define FEATCTL_VMX_OUTSIDE_SMX (1ull << 2)

/* VM_CR (AMD) */
#define VM_CR_SVMDIS (1ull << 4)

/* VMX control bits (allowed-1 halves of the capability MSRs, bits 63:32) */
#define PIN_PREEMPT_TIMER (1u << 6)
#define PROC_ACTIVATE_SECONDARY (1u << 31)
#define PROC2_ENABLE_EPT (1u << 1)
#define PROC2_ENABLE_VPID (1u << 5)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define VMX_BASIC_TRUE_CTLS (1ull << 55)

/* IA32_VMX_EPT_VPID_CAP */
#define EPTCAP_PWL4 (1ull << 6)
#define EPTCAP_WB (1ull << 14)
#define EPTCAP_2M (1ull << 16)
#define EPTCAP_1G (1ull << 17)
#define EPTCAP_INVEPT (1ull << 20)
#define EPTCAP_AD (1ull << 21)
#define EPTCAP_INVEPT_SINGLE (1ull << 25)
#define EPTCAP_INVEPT_ALL (1ull << 26)

enum featctl_state { FEATCTL_UNLOCKED, FEATCTL_LOCKED_ON, FEATCTL_LOCKED_OFF };

struct vmx_features {
    bool present;             /* CPUID.1:ECX.VMX */
    enum featctl_state featctl;
    bool true_ctls;
    bool ept, ept_4level, ept_wb, ept_2m, ept_1g, ept_ad;
    bool invept, invept_single, invept_all;
    bool unrestricted, preempt_timer, vpid;
};

struct svm_features {
    bool present;             /* CPUID.80000001:ECX.SVM */
    bool disabled;            /* VM_CR.SVMDIS set by firmware */
    bool npt, nrip, decode_assists, flush_by_asid;
    uint32_t nasid;
};

enum virt_kind { VIRT_NONE = 0, VIRT_VMX, VIRT_SVM };

struct cpu_features {
    char vendor[13];
    bool hypervisor;          /* we are ourselves a guest */
    char hv_signature[13];    /* CPUID 0x40000000, e.g. "TCGTCGTCGTCG" */
    bool page1gb;             /* 1 GiB pages in the host's own paging */
    struct vmx_features vmx;
    struct svm_features svm;
};

/* Raw values the decoders take (what cpufeat_detect reads). */
struct vmx_raw {
    uint64_t feature_control, basic, pinbased, procbased, procbased2, ept_vpid_cap;
};
struct svm_raw {
    uint64_t vm_cr;
    uint32_t svm_edx, svm_ebx;
};

void vmx_decode(struct vmx_features *v, bool present, const struct vmx_raw *raw);
void svm_decode(struct svm_features *s, bool present, const struct svm_raw *raw);

/* Which backend to use: VMX needs EPT (4-level, WB) and not locked off;
 * SVM needs NPT and not disabled. On VIRT_NONE, *why says why, naming the
 * missing feature ("vmx: no EPT", "svm: disabled by firmware (VM_CR.SVMDIS)"). */
enum virt_kind cpufeat_choose(const struct cpu_features *f, char *why, size_t len);

/* Emit one "feature NAME VALUE" line per feature through emit(). */
void cpufeat_describe(const struct cpu_features *f,
                      void (*emit)(void *ctx, const char *line), void *ctx);

/*
 * What to do with IA32_FEATURE_CONTROL value fc before VMXON
 * (cpufeat_featctl.c): USE it as it is, LOCK it by writing *write_value
 * (VMX outside SMX + lock, other bits kept), or REFUSE (locked without VMX
 * outside SMX). *why is a sentence for the log, naming the fix on REFUSE.
 */
enum featctl_action { FEATCTL_ACT_USE, FEATCTL_ACT_LOCK, FEATCTL_ACT_REFUSE };
enum featctl_action featctl_plan(uint64_t fc, uint64_t *write_value, const char **why);
/* After a LOCK write of wanted: 0 when the value read back is locked with
 * VMX outside SMX; -1 (with *why) when the write faulted or did not stick. */
int featctl_verify(uint64_t wanted, int write_faulted, uint64_t read_back, const char **why);

/* Read the running CPU (hypervisor build only). */
void cpufeat_detect(struct cpu_features *f);

#endif

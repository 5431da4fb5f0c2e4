/*
 * VMCS field encodings and the architectural bits of the VMX control,
 * exit-information and event-information fields (Intel SDM vol. 3C,
 * appendix B "Field Encoding in VMCS", chapters 25 "VM-execution controls"
 * to 28). Constants only: usable from host-built tests.
 */
#ifndef PV_VMM_VMX_VMCS_H
#define PV_VMM_VMX_VMCS_H

/* ---- segment registers: the eight guest segments share one layout ---- */
enum vmx_seg {
    VMX_SEG_ES, VMX_SEG_CS, VMX_SEG_SS, VMX_SEG_DS, VMX_SEG_FS, VMX_SEG_GS,
    VMX_SEG_LDTR, VMX_SEG_TR, VMX_SEG_COUNT,
};
#define VMCS_GUEST_SEL(s)   (0x0800u + 2u * (unsigned)(s))
#define VMCS_GUEST_LIMIT(s) (0x4800u + 2u * (unsigned)(s))
#define VMCS_GUEST_AR(s)    (0x4814u + 2u * (unsigned)(s))
#define VMCS_GUEST_BASE(s)  (0x6806u + 2u * (unsigned)(s))

/* ---- 16-bit fields ---- */
#define VMCS_VPID                   0x0000u
#define VMCS_HOST_ES_SEL            0x0C00u
#define VMCS_HOST_CS_SEL            0x0C02u
#define VMCS_HOST_SS_SEL            0x0C04u
#define VMCS_HOST_DS_SEL            0x0C06u
#define VMCS_HOST_FS_SEL            0x0C08u
#define VMCS_HOST_GS_SEL            0x0C0Au
#define VMCS_HOST_TR_SEL            0x0C0Cu

/* ---- 64-bit fields ---- */
#define VMCS_IO_BITMAP_A            0x2000u
#define VMCS_IO_BITMAP_B            0x2002u
#define VMCS_MSR_BITMAP             0x2004u
#define VMCS_EXIT_MSR_STORE_ADDR    0x2006u
#define VMCS_EXIT_MSR_LOAD_ADDR     0x2008u
#define VMCS_ENTRY_MSR_LOAD_ADDR    0x200Au
#define VMCS_TSC_OFFSET             0x2010u
#define VMCS_EPT_POINTER            0x201Au
#define VMCS_XSS_EXIT_BITMAP        0x202Cu
#define VMCS_GUEST_PHYSICAL_ADDRESS 0x2400u
#define VMCS_LINK_POINTER           0x2800u
#define VMCS_GUEST_DEBUGCTL         0x2802u
#define VMCS_GUEST_PAT              0x2804u
#define VMCS_GUEST_EFER             0x2806u
#define VMCS_HOST_PAT               0x2C00u
#define VMCS_HOST_EFER              0x2C02u

/* ---- 32-bit fields ---- */
#define VMCS_PIN_CONTROLS           0x4000u
#define VMCS_PROC_CONTROLS          0x4002u
#define VMCS_EXCEPTION_BITMAP       0x4004u
#define VMCS_PF_ERROR_MASK          0x4006u
#define VMCS_PF_ERROR_MATCH         0x4008u
#define VMCS_CR3_TARGET_COUNT       0x400Au
#define VMCS_EXIT_CONTROLS          0x400Cu
#define VMCS_EXIT_MSR_STORE_COUNT   0x400Eu
#define VMCS_EXIT_MSR_LOAD_COUNT    0x4010u
#define VMCS_ENTRY_CONTROLS         0x4012u
#define VMCS_ENTRY_MSR_LOAD_COUNT   0x4014u
#define VMCS_ENTRY_INTR_INFO        0x4016u
#define VMCS_ENTRY_EXCEPTION_ERROR  0x4018u
#define VMCS_ENTRY_INSN_LEN         0x401Au
#define VMCS_PROC2_CONTROLS         0x401Eu
#define VMCS_INSN_ERROR             0x4400u
#define VMCS_EXIT_REASON            0x4402u
#define VMCS_EXIT_INTR_INFO         0x4404u
#define VMCS_EXIT_INTR_ERROR        0x4406u
#define VMCS_IDT_VECTORING_INFO     0x4408u
#define VMCS_IDT_VECTORING_ERROR    0x440Au
#define VMCS_EXIT_INSN_LEN          0x440Cu
#define VMCS_EXIT_INSN_INFO         0x440Eu
#define VMCS_GUEST_GDTR_LIMIT       0x4810u
#define VMCS_GUEST_IDTR_LIMIT       0x4812u
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824u
#define VMCS_GUEST_ACTIVITY         0x4826u
#define VMCS_GUEST_SYSENTER_CS      0x482Au
#define VMCS_HOST_SYSENTER_CS       0x4C00u

/* ---- natural-width fields ---- */
#define VMCS_CR0_MASK               0x6000u
#define VMCS_CR4_MASK               0x6002u
#define VMCS_CR0_SHADOW             0x6004u
#define VMCS_CR4_SHADOW             0x6006u
#define VMCS_EXIT_QUALIFICATION     0x6400u
#define VMCS_GUEST_LINEAR_ADDRESS   0x640Au
#define VMCS_GUEST_CR0              0x6800u
#define VMCS_GUEST_CR3              0x6802u
#define VMCS_GUEST_CR4              0x6804u
#define VMCS_GUEST_GDTR_BASE        0x6816u
#define VMCS_GUEST_IDTR_BASE        0x6818u
#define VMCS_GUEST_DR7              0x681Au
#define VMCS_GUEST_RSP              0x681Cu
#define VMCS_GUEST_RIP              0x681Eu
#define VMCS_GUEST_RFLAGS           0x6820u
#define VMCS_GUEST_PENDING_DBG      0x6822u
#define VMCS_GUEST_SYSENTER_ESP     0x6824u
#define VMCS_GUEST_SYSENTER_EIP     0x6826u
#define VMCS_HOST_CR0               0x6C00u
#define VMCS_HOST_CR3               0x6C02u
#define VMCS_HOST_CR4               0x6C04u
#define VMCS_HOST_FS_BASE           0x6C06u
#define VMCS_HOST_GS_BASE           0x6C08u
#define VMCS_HOST_TR_BASE           0x6C0Au
#define VMCS_HOST_GDTR_BASE         0x6C0Cu
#define VMCS_HOST_IDTR_BASE         0x6C0Eu
#define VMCS_HOST_SYSENTER_ESP      0x6C10u
#define VMCS_HOST_SYSENTER_EIP      0x6C12u
#define VMCS_HOST_RSP               0x6C14u
#define VMCS_HOST_RIP               0x6C16u

/* ---- pin-based VM-execution controls ---- */
#define VMX_PIN_EXT_INTR_EXITING    (1u << 0)
#define VMX_PIN_NMI_EXITING         (1u << 3)
#define VMX_PIN_VIRTUAL_NMIS        (1u << 5)
#define VMX_PIN_PREEMPT_TIMER       (1u << 6)
/* Guest-state field: the VMX-preemption timer's start value, loaded on every
 * VM entry (counts down at the TSC rate >> IA32_VMX_MISC[4:0]). */
#define VMCS_PREEMPT_TIMER_VALUE    0x482Eu
#define VMX_PIN_POSTED_INTR         (1u << 7)

/* ---- primary processor-based VM-execution controls ---- */
#define VMX_PROC_INTR_WINDOW        (1u << 2)
#define VMX_PROC_TSC_OFFSET         (1u << 3)
#define VMX_PROC_HLT_EXITING        (1u << 7)
#define VMX_PROC_INVLPG_EXITING     (1u << 9)
#define VMX_PROC_MWAIT_EXITING      (1u << 10)
#define VMX_PROC_RDPMC_EXITING      (1u << 11)
#define VMX_PROC_RDTSC_EXITING      (1u << 12)
#define VMX_PROC_CR3_LOAD_EXITING   (1u << 15)
#define VMX_PROC_CR3_STORE_EXITING  (1u << 16)
#define VMX_PROC_TERTIARY           (1u << 17)
#define VMX_PROC_CR8_LOAD_EXITING   (1u << 19)
#define VMX_PROC_CR8_STORE_EXITING  (1u << 20)
#define VMX_PROC_TPR_SHADOW         (1u << 21)
#define VMX_PROC_NMI_WINDOW         (1u << 22)
#define VMX_PROC_MOV_DR_EXITING     (1u << 23)
#define VMX_PROC_UNCOND_IO_EXITING  (1u << 24)
#define VMX_PROC_IO_BITMAPS         (1u << 25)
#define VMX_PROC_MONITOR_TRAP_FLAG  (1u << 27)
#define VMX_PROC_MSR_BITMAPS        (1u << 28)
#define VMX_PROC_MONITOR_EXITING    (1u << 29)
#define VMX_PROC_PAUSE_EXITING      (1u << 30)
#define VMX_PROC_SECONDARY          (1u << 31)

/* ---- secondary processor-based VM-execution controls ---- */
#define VMX_PROC2_VIRT_APIC_ACCESS  (1u << 0)
#define VMX_PROC2_EPT               (1u << 1)
#define VMX_PROC2_DESC_TABLE_EXIT   (1u << 2)
#define VMX_PROC2_RDTSCP            (1u << 3)
#define VMX_PROC2_VIRT_X2APIC       (1u << 4)
#define VMX_PROC2_VPID              (1u << 5)
#define VMX_PROC2_WBINVD_EXITING    (1u << 6)
#define VMX_PROC2_UNRESTRICTED      (1u << 7)
#define VMX_PROC2_APIC_REG_VIRT     (1u << 8)
#define VMX_PROC2_VIRT_INTR_DELIV   (1u << 9)
#define VMX_PROC2_PAUSE_LOOP_EXIT   (1u << 10)
#define VMX_PROC2_RDRAND_EXITING    (1u << 11)
#define VMX_PROC2_INVPCID           (1u << 12)
#define VMX_PROC2_VMFUNC            (1u << 13)
#define VMX_PROC2_VMCS_SHADOWING    (1u << 14)
#define VMX_PROC2_ENCLS_EXITING     (1u << 15)
#define VMX_PROC2_RDSEED_EXITING    (1u << 16)
#define VMX_PROC2_PML               (1u << 17)
#define VMX_PROC2_EPT_VE            (1u << 18)
#define VMX_PROC2_CONCEAL_PT        (1u << 19)
#define VMX_PROC2_XSAVES            (1u << 20)
#define VMX_PROC2_MBEC              (1u << 22)
#define VMX_PROC2_SPP               (1u << 23)
#define VMX_PROC2_PT_GPA            (1u << 24)
#define VMX_PROC2_TSC_SCALING       (1u << 25)
#define VMX_PROC2_USER_WAIT_PAUSE   (1u << 26)
#define VMX_PROC2_ENCLV_EXITING     (1u << 28)

/* ---- VM-exit controls ---- */
#define VMX_EXIT_SAVE_DEBUG         (1u << 2)
#define VMX_EXIT_HOST_64BIT         (1u << 9)
#define VMX_EXIT_LOAD_PERF_GLOBAL   (1u << 12)
#define VMX_EXIT_ACK_INTR           (1u << 15)
#define VMX_EXIT_SAVE_PAT           (1u << 18)
#define VMX_EXIT_LOAD_PAT           (1u << 19)
#define VMX_EXIT_SAVE_EFER          (1u << 20)
#define VMX_EXIT_LOAD_EFER          (1u << 21)
#define VMX_EXIT_SAVE_PREEMPT       (1u << 22)
#define VMX_EXIT_CLEAR_BNDCFGS      (1u << 23)
#define VMX_EXIT_CONCEAL_PT         (1u << 24)
#define VMX_EXIT_CLEAR_RTIT_CTL     (1u << 25)
#define VMX_EXIT_LOAD_CET           (1u << 28)
#define VMX_EXIT_LOAD_PKRS          (1u << 29)

/* ---- VM-entry controls ---- */
#define VMX_ENTRY_LOAD_DEBUG        (1u << 2)
#define VMX_ENTRY_IA32E_GUEST       (1u << 9)
#define VMX_ENTRY_SMM               (1u << 10)
#define VMX_ENTRY_DUAL_MONITOR      (1u << 11)
#define VMX_ENTRY_LOAD_PERF_GLOBAL  (1u << 13)
#define VMX_ENTRY_LOAD_PAT          (1u << 14)
#define VMX_ENTRY_LOAD_EFER         (1u << 15)
#define VMX_ENTRY_LOAD_BNDCFGS      (1u << 16)
#define VMX_ENTRY_CONCEAL_PT        (1u << 17)
#define VMX_ENTRY_LOAD_RTIT_CTL     (1u << 18)
#define VMX_ENTRY_LOAD_CET          (1u << 20)
#define VMX_ENTRY_LOAD_PKRS         (1u << 22)

/* ---- exit reason field ---- */
#define VMX_EXIT_REASON_BASIC       0xFFFFu
#define VMX_EXIT_REASON_ENTRY_FAIL  (1u << 31)

/* Basic exit reasons (SDM appendix C). */
enum vmx_exit_reason {
    VMX_EXIT_EXCEPTION_NMI = 0,
    VMX_EXIT_EXTERNAL_INTR = 1,
    VMX_EXIT_TRIPLE_FAULT = 2,
    VMX_EXIT_INIT = 3,
    VMX_EXIT_SIPI = 4,
    VMX_EXIT_IO_SMI = 5,
    VMX_EXIT_OTHER_SMI = 6,
    VMX_EXIT_INTR_WINDOW = 7,
    VMX_EXIT_NMI_WINDOW = 8,
    VMX_EXIT_TASK_SWITCH = 9,
    VMX_EXIT_CPUID = 10,
    VMX_EXIT_GETSEC = 11,
    VMX_EXIT_HLT = 12,
    VMX_EXIT_INVD = 13,
    VMX_EXIT_INVLPG = 14,
    VMX_EXIT_RDPMC = 15,
    VMX_EXIT_RDTSC = 16,
    VMX_EXIT_RSM = 17,
    VMX_EXIT_VMCALL = 18,
    VMX_EXIT_VMCLEAR = 19,
    VMX_EXIT_VMLAUNCH = 20,
    VMX_EXIT_VMPTRLD = 21,
    VMX_EXIT_VMPTRST = 22,
    VMX_EXIT_VMREAD = 23,
    VMX_EXIT_VMRESUME = 24,
    VMX_EXIT_VMWRITE = 25,
    VMX_EXIT_VMXOFF = 26,
    VMX_EXIT_VMXON = 27,
    VMX_EXIT_CR_ACCESS = 28,
    VMX_EXIT_DR_ACCESS = 29,
    VMX_EXIT_IO = 30,
    VMX_EXIT_RDMSR = 31,
    VMX_EXIT_WRMSR = 32,
    VMX_EXIT_INVALID_GUEST_STATE = 33,
    VMX_EXIT_MSR_LOADING = 34,
    VMX_EXIT_MWAIT = 36,
    VMX_EXIT_MONITOR_TRAP = 37,
    VMX_EXIT_MONITOR = 39,
    VMX_EXIT_PAUSE = 40,
    VMX_EXIT_MACHINE_CHECK = 41,
    VMX_EXIT_TPR_BELOW_THRESHOLD = 43,
    VMX_EXIT_APIC_ACCESS = 44,
    VMX_EXIT_VIRTUALIZED_EOI = 45,
    VMX_EXIT_GDTR_IDTR = 46,
    VMX_EXIT_LDTR_TR = 47,
    VMX_EXIT_EPT_VIOLATION = 48,
    VMX_EXIT_EPT_MISCONFIG = 49,
    VMX_EXIT_INVEPT = 50,
    VMX_EXIT_RDTSCP = 51,
    VMX_EXIT_PREEMPT_TIMER = 52,
    VMX_EXIT_INVVPID = 53,
    VMX_EXIT_WBINVD = 54,
    VMX_EXIT_XSETBV = 55,
    VMX_EXIT_APIC_WRITE = 56,
    VMX_EXIT_RDRAND = 57,
    VMX_EXIT_INVPCID = 58,
    VMX_EXIT_VMFUNC = 59,
    VMX_EXIT_ENCLS = 60,
    VMX_EXIT_RDSEED = 61,
    VMX_EXIT_PML_FULL = 62,
    VMX_EXIT_XSAVES = 63,
    VMX_EXIT_XRSTORS = 64,
    VMX_EXIT_SPP = 66,
    VMX_EXIT_UMWAIT = 67,
    VMX_EXIT_TPAUSE = 68,
    VMX_EXIT_LOADIWKEY = 69,
    VMX_EXIT_REASON_MAX = 69,
};

/* ---- interruption information (VM-entry, VM-exit, IDT-vectoring) ---- */
#define VMX_INTR_VECTOR_MASK        0xFFu
#define VMX_INTR_TYPE_SHIFT         8
#define VMX_INTR_TYPE_MASK          (7u << VMX_INTR_TYPE_SHIFT)
#define VMX_INTR_ERROR_VALID        (1u << 11)
#define VMX_INTR_NMI_UNBLOCKING     (1u << 12) /* exit / IDT-vectoring only */
#define VMX_INTR_VALID              (1u << 31)
enum vmx_intr_type {
    VMX_INTR_TYPE_EXT_INTR = 0,
    VMX_INTR_TYPE_NMI = 2,
    VMX_INTR_TYPE_HW_EXCEPTION = 3,
    VMX_INTR_TYPE_SW_INTR = 4,
    VMX_INTR_TYPE_PRIV_SW_EXCEPTION = 5,
    VMX_INTR_TYPE_SW_EXCEPTION = 6,
    VMX_INTR_TYPE_OTHER = 7,
};

/* ---- guest non-register state ---- */
#define VMX_INTERRUPTIBILITY_STI    (1u << 0)
#define VMX_INTERRUPTIBILITY_MOV_SS (1u << 1)
#define VMX_INTERRUPTIBILITY_SMI    (1u << 2)
#define VMX_INTERRUPTIBILITY_NMI    (1u << 3)
#define VMX_INTERRUPTIBILITY_ENCLAVE (1u << 4)
#define VMX_INTERRUPTIBILITY_VALID  0x1Fu
enum vmx_activity {
    VMX_ACTIVITY_ACTIVE = 0,
    VMX_ACTIVITY_HLT = 1,
    VMX_ACTIVITY_SHUTDOWN = 2,
    VMX_ACTIVITY_WAIT_SIPI = 3,
};
#define VMX_LINK_POINTER_NONE       (~0ull)

/* ---- segment access rights (VMCS format: descriptor bits 47:40, 55:52) ---- */
#define VMX_AR_TYPE_MASK            0xFu
#define VMX_AR_TYPE_ACCESSED        (1u << 0)
#define VMX_AR_TYPE_RW              (1u << 1) /* data: writable; code: readable */
#define VMX_AR_TYPE_CODE            (1u << 3)
#define VMX_AR_S                    (1u << 4)
#define VMX_AR_DPL_SHIFT            5
#define VMX_AR_DPL_MASK             (3u << VMX_AR_DPL_SHIFT)
#define VMX_AR_P                    (1u << 7)
#define VMX_AR_AVL                  (1u << 12)
#define VMX_AR_L                    (1u << 13)
#define VMX_AR_DB                   (1u << 14)
#define VMX_AR_G                    (1u << 15)
#define VMX_AR_UNUSABLE             (1u << 16)
#define VMX_AR_RESERVED             0xFFFE0F00u /* bits 11:8, 31:17 */
#define VMX_AR_TYPE_TSS64_BUSY      0xBu
#define VMX_AR_TYPE_LDT             0x2u
/* The flat 64-bit segments of the Linux 64-bit entry. */
#define VMX_AR_CODE64 (VMX_AR_G | VMX_AR_L | VMX_AR_P | VMX_AR_S | VMX_AR_TYPE_CODE | \
                       VMX_AR_TYPE_RW | VMX_AR_TYPE_ACCESSED)              /* 0xA09B */
#define VMX_AR_DATA   (VMX_AR_G | VMX_AR_DB | VMX_AR_P | VMX_AR_S | VMX_AR_TYPE_RW | \
                       VMX_AR_TYPE_ACCESSED)                               /* 0xC093 */
#define VMX_AR_TR_BUSY64 (VMX_AR_P | VMX_AR_TYPE_TSS64_BUSY)                /* 0x008B */

/* ---- EPT pointer ---- */
#define VMX_EPTP_MEMTYPE_WB         6ull
#define VMX_EPTP_MEMTYPE_UC         0ull
#define VMX_EPTP_MEMTYPE_MASK       7ull
#define VMX_EPTP_WALK_SHIFT         3
#define VMX_EPTP_WALK_4LEVEL        (3ull << VMX_EPTP_WALK_SHIFT) /* length - 1 */
#define VMX_EPTP_WALK_MASK          (7ull << VMX_EPTP_WALK_SHIFT)
#define VMX_EPTP_AD                 (1ull << 6)
#define VMX_EPTP_RESERVED_LOW       0xF80ull /* bits 11:7 */

/* ---- INVEPT types ---- */
#define VMX_INVEPT_SINGLE           1ull
#define VMX_INVEPT_ALL              2ull

#endif

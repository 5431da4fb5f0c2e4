/* Pure VMX exit-information decoders; see vmx_decode.h. */
#include "vmm/vmx/vmx_decode.h"
#include "vmm/vmx/vmcs.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const reason_names[VMX_EXIT_REASON_MAX + 1] = {
    [VMX_EXIT_EXCEPTION_NMI] = "exception or NMI",
    [VMX_EXIT_EXTERNAL_INTR] = "external interrupt",
    [VMX_EXIT_TRIPLE_FAULT] = "triple fault",
    [VMX_EXIT_INIT] = "INIT signal",
    [VMX_EXIT_SIPI] = "start-up IPI",
    [VMX_EXIT_IO_SMI] = "I/O SMI",
    [VMX_EXIT_OTHER_SMI] = "other SMI",
    [VMX_EXIT_INTR_WINDOW] = "interrupt window",
    [VMX_EXIT_NMI_WINDOW] = "NMI window",
    [VMX_EXIT_TASK_SWITCH] = "task switch",
    [VMX_EXIT_CPUID] = "CPUID",
    [VMX_EXIT_GETSEC] = "GETSEC",
    [VMX_EXIT_HLT] = "HLT",
    [VMX_EXIT_INVD] = "INVD",
    [VMX_EXIT_INVLPG] = "INVLPG",
    [VMX_EXIT_RDPMC] = "RDPMC",
    [VMX_EXIT_RDTSC] = "RDTSC",
    [VMX_EXIT_RSM] = "RSM",
    [VMX_EXIT_VMCALL] = "VMCALL",
    [VMX_EXIT_VMCLEAR] = "VMCLEAR",
    [VMX_EXIT_VMLAUNCH] = "VMLAUNCH",
    [VMX_EXIT_VMPTRLD] = "VMPTRLD",
    [VMX_EXIT_VMPTRST] = "VMPTRST",
    [VMX_EXIT_VMREAD] = "VMREAD",
    [VMX_EXIT_VMRESUME] = "VMRESUME",
    [VMX_EXIT_VMWRITE] = "VMWRITE",
    [VMX_EXIT_VMXOFF] = "VMXOFF",
    [VMX_EXIT_VMXON] = "VMXON",
    [VMX_EXIT_CR_ACCESS] = "control-register access",
    [VMX_EXIT_DR_ACCESS] = "MOV DR",
    [VMX_EXIT_IO] = "I/O instruction",
    [VMX_EXIT_RDMSR] = "RDMSR",
    [VMX_EXIT_WRMSR] = "WRMSR",
    [VMX_EXIT_INVALID_GUEST_STATE] = "VM-entry failure due to invalid guest state",
    [VMX_EXIT_MSR_LOADING] = "VM-entry failure due to MSR loading",
    [VMX_EXIT_MWAIT] = "MWAIT",
    [VMX_EXIT_MONITOR_TRAP] = "monitor trap flag",
    [VMX_EXIT_MONITOR] = "MONITOR",
    [VMX_EXIT_PAUSE] = "PAUSE",
    [VMX_EXIT_MACHINE_CHECK] = "VM-entry failure due to machine-check event",
    [VMX_EXIT_TPR_BELOW_THRESHOLD] = "TPR below threshold",
    [VMX_EXIT_APIC_ACCESS] = "APIC access",
    [VMX_EXIT_VIRTUALIZED_EOI] = "virtualized EOI",
    [VMX_EXIT_GDTR_IDTR] = "access to GDTR or IDTR",
    [VMX_EXIT_LDTR_TR] = "access to LDTR or TR",
    [VMX_EXIT_EPT_VIOLATION] = "EPT violation",
    [VMX_EXIT_EPT_MISCONFIG] = "EPT misconfiguration",
    [VMX_EXIT_INVEPT] = "INVEPT",
    [VMX_EXIT_RDTSCP] = "RDTSCP",
    [VMX_EXIT_PREEMPT_TIMER] = "VMX-preemption timer expired",
    [VMX_EXIT_INVVPID] = "INVVPID",
    [VMX_EXIT_WBINVD] = "WBINVD",
    [VMX_EXIT_XSETBV] = "XSETBV",
    [VMX_EXIT_APIC_WRITE] = "APIC write",
    [VMX_EXIT_RDRAND] = "RDRAND",
    [VMX_EXIT_INVPCID] = "INVPCID",
    [VMX_EXIT_VMFUNC] = "VMFUNC",
    [VMX_EXIT_ENCLS] = "ENCLS",
    [VMX_EXIT_RDSEED] = "RDSEED",
    [VMX_EXIT_PML_FULL] = "page-modification log full",
    [VMX_EXIT_XSAVES] = "XSAVES",
    [VMX_EXIT_XRSTORS] = "XRSTORS",
    [VMX_EXIT_SPP] = "SPP-related event",
    [VMX_EXIT_UMWAIT] = "UMWAIT",
    [VMX_EXIT_TPAUSE] = "TPAUSE",
    [VMX_EXIT_LOADIWKEY] = "LOADIWKEY",
};

const char *vmx_exit_reason_name(uint32_t basic_reason)
{
    if (basic_reason < ARRAY_LEN(reason_names) && reason_names[basic_reason])
        return reason_names[basic_reason];
    return "unknown";
}

/* SDM vol. 3C 31.4 "VM Instruction Error Numbers". */
static const char *const insn_errors[] = {
    [1] = "VMCALL executed in VMX root operation",
    [2] = "VMCLEAR with invalid physical address",
    [3] = "VMCLEAR with VMXON pointer",
    [4] = "VMLAUNCH with non-clear VMCS",
    [5] = "VMRESUME with non-launched VMCS",
    [6] = "VMRESUME after VMXOFF",
    [7] = "VM entry with invalid control field(s)",
    [8] = "VM entry with invalid host-state field(s)",
    [9] = "VMPTRLD with invalid physical address",
    [10] = "VMPTRLD with VMXON pointer",
    [11] = "VMPTRLD with incorrect VMCS revision identifier",
    [12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
    [13] = "VMWRITE to read-only VMCS component",
    [15] = "VMXON executed in VMX root operation",
    [16] = "VM entry with invalid executive-VMCS pointer",
    [17] = "VM entry with non-launched executive VMCS",
    [18] = "VM entry with executive-VMCS pointer not VMXON pointer",
    [19] = "VMCALL with non-clear VMCS",
    [20] = "VMCALL with invalid VM-exit control fields",
    [22] = "VMCALL with incorrect MSEG revision identifier",
    [23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
    [24] = "VMCALL with invalid SMM-monitor features",
    [25] = "VM entry with invalid VM-execution control fields in executive VMCS",
    [26] = "VM entry with events blocked by MOV SS",
    [28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_insn_error_name(uint32_t error)
{
    if (error < ARRAY_LEN(insn_errors) && insn_errors[error])
        return insn_errors[error];
    return "unknown error";
}

int vmx_decode_io(uint64_t qual, struct vm_exit *e)
{
    static const uint8_t sizes[VMX_IOQ_SIZE_MASK + 1] = { 1, 2, 0, 4, 0, 0, 0, 0 };
    uint8_t size = sizes[qual & VMX_IOQ_SIZE_MASK];
    e->u.io.port = (uint16_t)((qual & VMX_IOQ_PORT_MASK) >> VMX_IOQ_PORT_SHIFT);
    e->u.io.size = size;
    e->u.io.in = (qual & VMX_IOQ_IN) != 0;
    e->u.io.string = (qual & VMX_IOQ_STRING) != 0;
    e->u.io.rep = (qual & VMX_IOQ_REP) != 0;
    return size ? 0 : -1;
}

void vmx_decode_cr(uint64_t qual, struct vmx_cr_qual *out)
{
    out->cr = (uint8_t)(qual & VMX_CRQ_CR_MASK);
    out->type = (enum vmx_cr_access)((qual & VMX_CRQ_TYPE_MASK) >> VMX_CRQ_TYPE_SHIFT);
    out->gpr = (uint8_t)((qual & VMX_CRQ_GPR_MASK) >> VMX_CRQ_GPR_SHIFT);
    out->lmsw_memory = (qual & VMX_CRQ_LMSW_MEM) != 0;
    out->lmsw_data = (uint16_t)((qual & VMX_CRQ_LMSW_MASK) >> VMX_CRQ_LMSW_SHIFT);
}

bool vmx_decode_ept_violation(uint64_t qual, uint64_t gpa, uint64_t gla, uint64_t rip,
                              struct gpa_fault *f)
{
    uint32_t rights = 0;
    if (qual & VMX_EPTQ_READABLE)
        rights |= ACC_R;
    if (qual & VMX_EPTQ_WRITABLE)
        rights |= ACC_W;
    if (qual & VMX_EPTQ_EXECUTABLE)
        rights |= ACC_X;
    *f = (struct gpa_fault){
        .gpa = gpa,
        .access = (qual & VMX_EPTQ_FETCH) ? ACC_X : (qual & VMX_EPTQ_WRITE) ? ACC_W : ACC_R,
        .entry_rights = rights,
        .rip = rip,
        .gla = (qual & VMX_EPTQ_GLA_VALID) ? gla : 0,
        .gla_valid = (qual & VMX_EPTQ_GLA_VALID) != 0,
        .table_walk = (qual & VMX_EPTQ_GLA_VALID) && !(qual & VMX_EPTQ_GLA_TRANSLATION),
    };
    return (qual & VMX_EPTQ_NMI_UNBLOCKING) != 0;
}

uint32_t vmx_reinject_info(uint32_t idt_vectoring, bool *needs_len)
{
    *needs_len = false;
    if (!(idt_vectoring & VMX_INTR_VALID))
        return 0;
    uint32_t type = (idt_vectoring & VMX_INTR_TYPE_MASK) >> VMX_INTR_TYPE_SHIFT;
    *needs_len = type == VMX_INTR_TYPE_SW_INTR || type == VMX_INTR_TYPE_PRIV_SW_EXCEPTION ||
                 type == VMX_INTR_TYPE_SW_EXCEPTION;
    /* Bit 12 is undefined in IDT-vectoring information and reserved in
     * the entry field: keep only vector, type, error-valid and valid. */
    return idt_vectoring & (VMX_INTR_VECTOR_MASK | VMX_INTR_TYPE_MASK | VMX_INTR_ERROR_VALID |
                            VMX_INTR_VALID);
}

uint32_t vmx_exception_info(uint8_t vector, bool has_error)
{
    return vector | ((uint32_t)VMX_INTR_TYPE_HW_EXCEPTION << VMX_INTR_TYPE_SHIFT) |
           (has_error ? VMX_INTR_ERROR_VALID : 0) | VMX_INTR_VALID;
}

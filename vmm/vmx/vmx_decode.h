/*
 * Pure decoders for VMX exit information (host unit-tested): exit reason
 * and VM-instruction error names, exit qualifications (I/O, control
 * register access, EPT violation), and the re-injection of an event whose
 * delivery an exit interrupted. No VMCS access here: the backend reads the
 * fields and passes the raw values.
 */
#ifndef PV_VMM_VMX_VMX_DECODE_H
#define PV_VMM_VMX_VMX_DECODE_H

#include "vmm/vcpu.h"

#include <stdbool.h>
#include <stdint.h>

/* "EPT violation", "HLT", ...; "unknown" past the table. */
const char *vmx_exit_reason_name(uint32_t basic_reason);
/* "VM entry with invalid control field(s)" for 7, ...; "unknown error". */
const char *vmx_insn_error_name(uint32_t error);

/* VM-instruction error numbers the backend tests for. */
#define VMX_ERR_ENTRY_INVALID_CONTROLS 7
#define VMX_ERR_ENTRY_INVALID_HOST 8

/* ---- I/O instruction qualification ---- */
#define VMX_IOQ_SIZE_MASK 0x7ull     /* access size - 1: 0, 1 or 3 */
#define VMX_IOQ_IN (1ull << 3)
#define VMX_IOQ_STRING (1ull << 4)
#define VMX_IOQ_REP (1ull << 5)
#define VMX_IOQ_IMMEDIATE (1ull << 6) /* port from the instruction, not DX */
#define VMX_IOQ_PORT_SHIFT 16
#define VMX_IOQ_PORT_MASK (0xFFFFull << VMX_IOQ_PORT_SHIFT)
/* Fill e->u.io; -1 when the size field holds an undefined value. */
int vmx_decode_io(uint64_t qual, struct vm_exit *e);

/* ---- control-register access qualification ---- */
#define VMX_CRQ_CR_MASK 0xFull
#define VMX_CRQ_TYPE_SHIFT 4
#define VMX_CRQ_TYPE_MASK (3ull << VMX_CRQ_TYPE_SHIFT)
#define VMX_CRQ_LMSW_MEM (1ull << 6)
#define VMX_CRQ_GPR_SHIFT 8
#define VMX_CRQ_GPR_MASK (0xFull << VMX_CRQ_GPR_SHIFT)
#define VMX_CRQ_LMSW_SHIFT 16
#define VMX_CRQ_LMSW_MASK (0xFFFFull << VMX_CRQ_LMSW_SHIFT)
enum vmx_cr_access {
    VMX_CR_MOV_TO = 0,
    VMX_CR_MOV_FROM = 1,
    VMX_CR_CLTS = 2,
    VMX_CR_LMSW = 3,
};
struct vmx_cr_qual {
    uint8_t cr;               /* 0, 3, 4 or 8 */
    enum vmx_cr_access type;
    uint8_t gpr;              /* enum gpr: source / destination register */
    bool lmsw_memory;         /* LMSW operand came from memory */
    uint16_t lmsw_data;       /* LMSW source value */
};
void vmx_decode_cr(uint64_t qual, struct vmx_cr_qual *out);

/* ---- EPT violation qualification ---- */
#define VMX_EPTQ_READ (1ull << 0)
#define VMX_EPTQ_WRITE (1ull << 1)
#define VMX_EPTQ_FETCH (1ull << 2)
#define VMX_EPTQ_READABLE (1ull << 3)
#define VMX_EPTQ_WRITABLE (1ull << 4)
#define VMX_EPTQ_EXECUTABLE (1ull << 5)
#define VMX_EPTQ_GLA_VALID (1ull << 7)
#define VMX_EPTQ_GLA_TRANSLATION (1ull << 8) /* the access was to the final gpa,
                                                 not to a guest paging entry */
#define VMX_EPTQ_NMI_UNBLOCKING (1ull << 12)
/* Fill *f from the qualification and the GUEST_PHYSICAL_ADDRESS,
 * GUEST_LINEAR_ADDRESS and RIP fields. The access is the strongest one
 * reported (fetch, then write, then read). Returns whether the exit
 * happened while IRET was unblocking NMIs (the backend must then set
 * blocking by NMI before re-entering). */
bool vmx_decode_ept_violation(uint64_t qual, uint64_t gpa, uint64_t gla, uint64_t rip,
                              struct gpa_fault *f);

/*
 * The event to re-inject after an exit that interrupted its delivery:
 * from the IDT-vectoring information field (bit 31 valid), the value for
 * the VM-entry interruption-information field (0: nothing to inject).
 * *needs_len says the entry also needs the VM-entry instruction length
 * (software interrupts and exceptions re-execute the instruction).
 */
uint32_t vmx_reinject_info(uint32_t idt_vectoring, bool *needs_len);

/* Entry interruption information for a hardware exception. */
uint32_t vmx_exception_info(uint8_t vector, bool has_error);

#endif

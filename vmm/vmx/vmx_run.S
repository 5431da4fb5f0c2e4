/*
 * int vmx_enter(uint64_t *gpr, int launched)
 *
 * One guest run. VM entry loads the guest's RSP, RIP, RFLAGS, segments and
 * control registers from the VMCS; the other general registers are ours to
 * move: gpr[] is indexed by architectural register number (enum gpr; the
 * RSP slot is unused). The host's callee-saved registers and the gpr[]
 * pointer are pushed, HOST_RSP is set to that stack, and the VM exit
 * resumes at vmx_exit_stub (HOST_RIP) with exactly this stack, the guest's
 * registers still live, RFLAGS = 2 (interrupts off, DF clear).
 *
 * Returns VMX_ENTER_EXITED (0) after a VM exit, including an entry that
 * failed guest-state or MSR-load checks (the CPU reports those as exits);
 * VMX_ENTER_FAIL_VALID (1) when VMLAUNCH/VMRESUME refused with VMfailValid
 * (the reason is in the VM-instruction error field), VMX_ENTER_FAIL_INVALID
 * (2) on VMfailInvalid (no current VMCS).
 */
#define VMCS_HOST_RSP 0x6C14
#define VMX_ENTER_FAIL_VALID 1
#define VMX_ENTER_FAIL_INVALID 2

#include "vmm/gpr_frame.h"

    .text
    .globl vmx_enter
    .type vmx_enter, @function
vmx_enter:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushq %rdi                  /* 0(%rsp): gpr[], found here by the exit stub */

    movl $VMCS_HOST_RSP, %eax
    vmwrite %rsp, %rax
    jbe .Lrefused               /* CF or ZF: the VMWRITE itself failed */

    testl %esi, %esi            /* ZF=1: never launched, use VMLAUNCH */
    movq GPR_OFF_RAX(%rdi), %rax        /* MOVs keep the flags for the branch below */
    movq GPR_OFF_RCX(%rdi), %rcx
    movq GPR_OFF_RDX(%rdi), %rdx
    movq GPR_OFF_RBX(%rdi), %rbx
    movq GPR_OFF_RBP(%rdi), %rbp
    movq GPR_OFF_RSI(%rdi), %rsi
    movq GPR_OFF_R8(%rdi), %r8
    movq GPR_OFF_R9(%rdi), %r9
    movq GPR_OFF_R10(%rdi), %r10
    movq GPR_OFF_R11(%rdi), %r11
    movq GPR_OFF_R12(%rdi), %r12
    movq GPR_OFF_R13(%rdi), %r13
    movq GPR_OFF_R14(%rdi), %r14
    movq GPR_OFF_R15(%rdi), %r15
    movq GPR_OFF_RDI(%rdi), %rdi        /* last: it was the pointer */
    jnz 1f
    vmlaunch
    jmp .Lrefused
1:  vmresume

    /* Only reached when the CPU did not enter: RSP is still this frame;
     * the guest values in the callee-saved registers are dropped below. */
.Lrefused:
    movl $VMX_ENTER_FAIL_VALID, %eax
    movl $VMX_ENTER_FAIL_INVALID, %ecx
    cmovc %ecx, %eax            /* CF: VMfailInvalid, else ZF: VMfailValid */
    addq $8, %rsp
    jmp .Lreturn

    .globl vmx_exit_stub
    .type vmx_exit_stub, @function
vmx_exit_stub:
    pushq %rdi                  /* guest rdi; gpr[] now at 8(%rsp) */
    movq 8(%rsp), %rdi
    movq %rax, GPR_OFF_RAX(%rdi)
    movq %rcx, GPR_OFF_RCX(%rdi)
    movq %rdx, GPR_OFF_RDX(%rdi)
    movq %rbx, GPR_OFF_RBX(%rdi)
    movq %rbp, GPR_OFF_RBP(%rdi)
    movq %rsi, GPR_OFF_RSI(%rdi)
    movq %r8, GPR_OFF_R8(%rdi)
    movq %r9, GPR_OFF_R9(%rdi)
    movq %r10, GPR_OFF_R10(%rdi)
    movq %r11, GPR_OFF_R11(%rdi)
    movq %r12, GPR_OFF_R12(%rdi)
    movq %r13, GPR_OFF_R13(%rdi)
    movq %r14, GPR_OFF_R14(%rdi)
    movq %r15, GPR_OFF_R15(%rdi)
    popq %rax
    movq %rax, GPR_OFF_RDI(%rdi)
    addq $8, %rsp               /* the gpr[] slot */
    xorl %eax, %eax             /* VMX_ENTER_EXITED */
.Lreturn:
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size vmx_exit_stub, .-vmx_exit_stub
    .size vmx_enter, .-vmx_enter
    .section .note.GNU-stack,"",@progbits

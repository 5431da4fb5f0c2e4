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

#define RAX 0
#define RCX 8
#define RDX 16
#define RBX 24
#define RBP 40
#define RSI 48
#define RDI 56
#define R8 64
#define R9 72
#define R10 80
#define R11 88
#define R12 96
#define R13 104
#define R14 112
#define R15 120

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
    movq RAX(%rdi), %rax        /* MOVs keep the flags for the branch below */
    movq RCX(%rdi), %rcx
    movq RDX(%rdi), %rdx
    movq RBX(%rdi), %rbx
    movq RBP(%rdi), %rbp
    movq RSI(%rdi), %rsi
    movq R8(%rdi), %r8
    movq R9(%rdi), %r9
    movq R10(%rdi), %r10
    movq R11(%rdi), %r11
    movq R12(%rdi), %r12
    movq R13(%rdi), %r13
    movq R14(%rdi), %r14
    movq R15(%rdi), %r15
    movq RDI(%rdi), %rdi        /* last: it was the pointer */
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
    movq %rax, RAX(%rdi)
    movq %rcx, RCX(%rdi)
    movq %rdx, RDX(%rdi)
    movq %rbx, RBX(%rdi)
    movq %rbp, RBP(%rdi)
    movq %rsi, RSI(%rdi)
    movq %r8, R8(%rdi)
    movq %r9, R9(%rdi)
    movq %r10, R10(%rdi)
    movq %r11, R11(%rdi)
    movq %r12, R12(%rdi)
    movq %r13, R13(%rdi)
    movq %r14, R14(%rdi)
    movq %r15, R15(%rdi)
    popq %rax
    movq %rax, RDI(%rdi)
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

/*
 * int svm_vmrun(uint64_t guest_vmcb, uint64_t *gpr, uint64_t host_vmcb)
 *
 * One guest run. VMRUN itself swaps RAX/RSP/RIP/RFLAGS, segments and
 * control registers through the VMCB and the host save area, but not the
 * other general registers nor the "hidden" state VMLOAD/VMSAVE move (FS,
 * GS, TR, LDTR, KernelGsBase, STAR/LSTAR/CSTAR/SFMASK, SYSENTER_*). So:
 * save the host's hidden state, load the guest's GPRs (gpr[] indexed by
 * architectural number; RAX and RSP live in the VMCB) and hidden state,
 * VMRUN, then the reverse. The host keeps GIF=0 after #VMEXIT: physical
 * interrupts stay pending until the next VMRUN delivers them to the guest.
 */
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
    .globl svm_vmrun
    .type svm_vmrun, @function
svm_vmrun:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushq %rsi               /* 16(%rsp): gpr[] */
    pushq %rdi               /*  8(%rsp): guest vmcb */
    pushq %rdx               /*  0(%rsp): host vmcb */

    movq %rdx, %rax
    vmsave                   /* host hidden state */

    movq RCX(%rsi), %rcx
    movq RDX(%rsi), %rdx
    movq RBX(%rsi), %rbx
    movq RBP(%rsi), %rbp
    movq RDI(%rsi), %rdi
    movq R8(%rsi), %r8
    movq R9(%rsi), %r9
    movq R10(%rsi), %r10
    movq R11(%rsi), %r11
    movq R12(%rsi), %r12
    movq R13(%rsi), %r13
    movq R14(%rsi), %r14
    movq R15(%rsi), %r15
    movq RSI(%rsi), %rsi     /* last: it was the pointer */

    movq 8(%rsp), %rax       /* guest vmcb */
    vmload
    vmrun
    vmsave                   /* guest hidden state; rax = guest vmcb again */

    pushq %rsi               /* guest rsi; gpr[] now at 24(%rsp) */
    movq 24(%rsp), %rsi
    movq %rcx, RCX(%rsi)
    movq %rdx, RDX(%rsi)
    movq %rbx, RBX(%rsi)
    movq %rbp, RBP(%rsi)
    movq %rdi, RDI(%rsi)
    movq %r8, R8(%rsi)
    movq %r9, R9(%rsi)
    movq %r10, R10(%rsi)
    movq %r11, R11(%rsi)
    movq %r12, R12(%rsi)
    movq %r13, R13(%rsi)
    movq %r14, R14(%rsi)
    movq %r15, R15(%rsi)
    popq %rax
    movq %rax, RSI(%rsi)

    popq %rax                /* host vmcb */
    vmload                   /* host FS/GS/TR back */
    addq $16, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    xorl %eax, %eax
    ret
    .size svm_vmrun, .-svm_vmrun
    .section .note.GNU-stack,"",@progbits

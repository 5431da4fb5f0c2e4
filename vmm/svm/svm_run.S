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
#include "vmm/gpr_frame.h"

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

    movq GPR_OFF_RCX(%rsi), %rcx
    movq GPR_OFF_RDX(%rsi), %rdx
    movq GPR_OFF_RBX(%rsi), %rbx
    movq GPR_OFF_RBP(%rsi), %rbp
    movq GPR_OFF_RDI(%rsi), %rdi
    movq GPR_OFF_R8(%rsi), %r8
    movq GPR_OFF_R9(%rsi), %r9
    movq GPR_OFF_R10(%rsi), %r10
    movq GPR_OFF_R11(%rsi), %r11
    movq GPR_OFF_R12(%rsi), %r12
    movq GPR_OFF_R13(%rsi), %r13
    movq GPR_OFF_R14(%rsi), %r14
    movq GPR_OFF_R15(%rsi), %r15
    movq GPR_OFF_RSI(%rsi), %rsi     /* last: it was the pointer */

    movq 8(%rsp), %rax       /* guest vmcb */
    vmload
    vmrun
    vmsave                   /* guest hidden state; rax = guest vmcb again */

    pushq %rsi               /* guest rsi; gpr[] now at 24(%rsp) */
    movq 24(%rsp), %rsi
    movq %rcx, GPR_OFF_RCX(%rsi)
    movq %rdx, GPR_OFF_RDX(%rsi)
    movq %rbx, GPR_OFF_RBX(%rsi)
    movq %rbp, GPR_OFF_RBP(%rsi)
    movq %rdi, GPR_OFF_RDI(%rsi)
    movq %r8, GPR_OFF_R8(%rsi)
    movq %r9, GPR_OFF_R9(%rsi)
    movq %r10, GPR_OFF_R10(%rsi)
    movq %r11, GPR_OFF_R11(%rsi)
    movq %r12, GPR_OFF_R12(%rsi)
    movq %r13, GPR_OFF_R13(%rsi)
    movq %r14, GPR_OFF_R14(%rsi)
    movq %r15, GPR_OFF_R15(%rsi)
    popq %rax
    movq %rax, GPR_OFF_RSI(%rsi)

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

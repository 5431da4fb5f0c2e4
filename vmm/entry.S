/*
 * hv_enter(bi, stack_top, fn): leave the firmware's stack for the
 * hypervisor's own and call fn(bi). fn never returns; if it did, halt.
 * System V ABI: rdi = bi, rsi = stack_top, rdx = fn. The new stack is
 * 16-byte aligned before the call, as the ABI requires.
 */
    .text
    .globl hv_enter
    .type hv_enter, @function
hv_enter:
    cli
    andq $-16, %rsi
    movq %rsi, %rsp
    xorl %ebp, %ebp
    call *%rdx
1:  cli
    hlt
    jmp 1b
    .size hv_enter, .-hv_enter
    .section .note.GNU-stack,"",@progbits

/* rdmsr_safe / wrmsr_safe and their fixup table; see msr_safe.h. */
    .text
    .globl rdmsr_safe
    .type rdmsr_safe, @function
rdmsr_safe:                 /* edi = msr, rsi = value out */
    movl %edi, %ecx
1:  rdmsr
    shlq $32, %rdx
    orq %rdx, %rax
    movq %rax, (%rsi)
    xorl %eax, %eax
    ret
2:  movl $-1, %eax
    ret
    .size rdmsr_safe, .-rdmsr_safe

    .globl wrmsr_safe
    .type wrmsr_safe, @function
wrmsr_safe:                 /* edi = msr, rsi = value */
    movl %edi, %ecx
    movl %esi, %eax
    movq %rsi, %rdx
    shrq $32, %rdx
3:  wrmsr
    xorl %eax, %eax
    ret
4:  movl $-1, %eax
    ret
    .size wrmsr_safe, .-wrmsr_safe

    .section .data.rel.ro, "aw"
    .align 8
    .globl exception_fixups
exception_fixups:           /* pairs: faulting rip, resume rip; 0-terminated */
    .quad 1b, 2b
    .quad 3b, 4b
    .quad 0, 0

    .section .note.GNU-stack,"",@progbits

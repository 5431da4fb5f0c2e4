/*
 * Length vectors for tests/unit/test_insn.c: instructions assembled with GNU
 * as and measured with objdump -d (AMD64 reading), plus a few encodings
 * written by hand from the opcode tables (marked). Each entry's byte string
 * is exactly one instruction, so its length is the literal's length.
 * Included by test_insn.c, which defines B() and the kind short names.
 */
#ifndef PV_TESTS_INSN_VECTORS_H
#define PV_TESTS_INSN_VECTORS_H

struct len_vec {
    int mode;
    const char *bytes;
    size_t n;
    unsigned kind;
};
#define L(m, s, k) { m, B(s), k }

static const struct len_vec len_vecs[] = {
    L(64, "\xf6\x07\x01", OM),               /* testb $0x1,(%rdi) */
    L(64, "\xf7\x47\x10\x00\x01\x00\x00", OM), /* testl $0x100,0x10(%rdi) */
    L(64, "\x66\xf7\x07\x00\x01", OM),       /* testw $0x100,(%rdi) */
    L(64, "\x83\x3f\x05", OM),               /* cmpl $0x5,(%rdi) */
    L(64, "\x81\x3f\x45\x23\x01\x00", OM),   /* cmpl $0x12345,(%rdi) */
    L(64, "\x80\x3f\x12", OM),               /* cmpb $0x12,(%rdi) */
    L(64, "\x83\x4f\x08\x04", OM),           /* orl $0x4,0x8(%rdi) */
    L(64, "\x48\x83\x27\xf0", OM),           /* andq $0xfffffffffffffff0,(%rdi) */
    L(64, "\x66\x81\x0f\x34\x12", OM),       /* orw $0x1234,(%rdi) */
    L(64, "\x85\x07", OM),                   /* test %eax,(%rdi) */
    L(64, "\x84\x07", OM),                   /* test %al,(%rdi) */
    L(64, "\xaa", OM),                       /* stos %al,%es:(%rdi) */
    L(64, "\xab", OM),                       /* stos %eax,%es:(%rdi) */
    L(64, "\xf3\x48\xab", OM),               /* rep stos %rax,%es:(%rdi) */
    L(64, "\xf3\xa4", OM),                   /* rep movsb %ds:(%rsi),%es:(%rdi) */
    L(64, "\xa5", OM),                       /* movsl %ds:(%rsi),%es:(%rdi) */
    L(64, "\xac", OM),                       /* lods %ds:(%rsi),%al */
    L(64, "\x48\xad", OM),                   /* lods %ds:(%rsi),%rax */
    L(64, "\xf0\x87\x07", OM),               /* lock xchg %eax,(%rdi) */
    L(64, "\xf0\x83\x07\x01", OM),           /* lock addl $0x1,(%rdi) */
    L(64, "\xf0\x0f\xb1\x0f", OM),           /* lock cmpxchg %ecx,(%rdi) */
    L(64, "\x55", NM),                       /* push %rbp */
    L(64, "\x41\x54", NM),                   /* push %r12 */
    L(64, "\x5b", NM),                       /* pop %rbx */
    L(64, "\x41\x5f", NM),                   /* pop %r15 */
    L(64, "\x6a\x12", NM),                   /* push $0x12 */
    L(64, "\x68\x34\x12\x00\x00", NM),       /* push $0x1234 */
    L(64, "\xff\x37", OM),                   /* push (%rdi) */
    L(64, "\xe8\xfb\x00\x00\x00", NM),       /* call 0x236 */
    L(64, "\xe9\xfb\x00\x00\x00", NM),       /* jmp 0x23b */
    L(64, "\xeb\x00", NM),                   /* jmp 0x142 */
    L(64, "\x0f\x84\xfa\x00\x00\x00", NM),   /* je 0x242 */
    L(64, "\x75\x01", NM),                   /* jne 0x14b */
    L(64, "\xc3", NM),                       /* ret */
    L(64, "\xc2\x08\x00", NM),               /* ret $0x8 */
    L(64, "\x90", NM),                       /* nop */
    L(64, "\x66\x90", NM),                   /* xchg %ax,%ax */
    L(64, "\x0f\x1f\x00", NM),               /* nopl (%rax) */
    L(64, "\x0f\x1f\x00", NM),               /* nopl (%rax) */
    L(64, "\x0f\x1f\x04\x00", NM),           /* nopl (%rax,%rax,1) */
    L(64, "\x66\x0f\x1f\x04\x00", NM),       /* nopw (%rax,%rax,1) */
    L(64, "\x0f\x1f\x00", NM),               /* nopl (%rax) */
    L(64, "\x2e\x66\x0f\x1f\x04\x00", NM),   /* cs nopw (%rax,%rax,1) */
    L(64, "\x48\x8d\x7c\x24\x08", NM),       /* lea 0x8(%rsp),%rdi */
    L(64, "\x48\x8d\x04\xb7", NM),           /* lea (%rdi,%rsi,4),%rax */
    L(64, "\x48\x8d\x35\x00\x01\x00\x00", NM), /* lea 0x100(%rip),%rsi */
    L(64, "\x69\xc8\x45\x23\x01\x00", NM),   /* imul $0x12345,%eax,%ecx */
    L(64, "\x6b\x07\x03", OM),               /* imul $0x3,(%rdi),%eax */
    L(64, "\x48\x6b\xc0\x03", NM),           /* imul $0x3,%rax,%rax */
    L(64, "\x66\x0f\x38\x00\xc1", NM),       /* pshufb %xmm1,%xmm0 */
    L(64, "\x66\x0f\x38\x00\x07", OM),       /* pshufb (%rdi),%xmm0 */
    L(64, "\x66\x0f\x3a\x0f\xc1\x03", NM),   /* palignr $0x3,%xmm1,%xmm0 */
    L(64, "\x66\x0f\x3a\x16\x07\x01", OM),   /* pextrd $0x1,%xmm0,(%rdi) */
    L(64, "\x66\x0f\x3a\x0a\xc1\x01", NM),   /* roundss $0x1,%xmm1,%xmm0 */
    L(64, "\xcc", NM),                       /* int3 */
    L(64, "\xcd\x80", NM),                   /* int $0x80 */
    L(64, "\x48\x91", NM),                   /* xchg %rax,%rcx */
    L(64, "\x87\x07", OM),                   /* xchg %eax,(%rdi) */
    L(64, "\x0f\xa2", NM),                   /* cpuid */
    L(64, "\x0f\x32", NM),                   /* rdmsr */
    L(64, "\x0f\x30", NM),                   /* wrmsr */
    L(64, "\x0f\x31", NM),                   /* rdtsc */
    L(64, "\x0f\x05", NM),                   /* syscall */
    L(64, "\xf4", NM),                       /* hlt */
    L(64, "\x0f\x01\xc1", NM),               /* vmcall */
    L(64, "\x0f\x01\xd9", NM),               /* vmmcall */
    L(64, "\xf3\x0f\x1e\xfa", NM),           /* endbr64 */
    L(64, "\xc8\x10\x00\x00", NM),           /* enter $0x10,$0x0 */
    L(64, "\xc9", NM),                       /* leave */
    L(64, "\xc1\x27\x03", OM),               /* shll $0x3,(%rdi) */
    L(64, "\xd1\x2f", OM),                   /* shrl (%rdi) */
    L(64, "\xf7\x17", OM),                   /* notl (%rdi) */
    L(64, "\x48\xf7\x1f", OM),               /* negq (%rdi) */
    L(64, "\xff\x07", OM),                   /* incl (%rdi) */
    L(64, "\xfe\x0f", OM),                   /* decb (%rdi) */
    L(64, "\xff\x10", OM),                   /* call *(%rax) */
    L(64, "\xff\xd0", NM),                   /* call *%rax */
    L(64, "\xff\x64\xd8\x10", OM),           /* jmp *0x10(%rax,%rbx,8) */
    L(64, "\x0f\x95\x07", OM),               /* setne (%rdi) */
    L(64, "\x0f\x45\x07", OM),               /* cmovne (%rdi),%eax */
    L(64, "\x0f\xba\x27\x03", OM),           /* btl $0x3,(%rdi) */
    L(64, "\x0f\xab\x07", OM),               /* bts %eax,(%rdi) */
    L(64, "\x0f\xa4\x07\x04", OM),           /* shld $0x4,%eax,(%rdi) */
    L(64, "\x0f\xae\x3f", OM),               /* clflush (%rdi) */
    L(64, "\x0f\x18\x0f", NM),               /* prefetcht0 (%rdi) */
    L(64, "\xf3\x0f\x6f\x07", OM),           /* movdqu (%rdi),%xmm0 */
    L(64, "\xf2\x0f\x2a\x07", OM),           /* cvtsi2sdl (%rdi),%xmm0 */
    L(64, "\x0f\xc3\x07", OM),               /* movnti %eax,(%rdi) */
    L(64, "\xd7", OM),                       /* xlat %ds:(%rbx) */
    L(64, "\x0f\x0b", NM),                   /* ud2 */
    L(64, "\xf3\x90", NM),                   /* pause */
    L(64, "\x0f\xae\xf0", NM),               /* mfence */
    L(64, "\x0f\xae\xe8", NM),               /* lfence */
    L(64, "\x0f\xae\xf8", NM),               /* sfence */
    L(64, "\x0f\x09", NM),                   /* wbinvd */
    L(64, "\x0f\x01\x3f", OM),               /* invlpg (%rdi) */
    L(64, "\x0f\x01\x17", OM),               /* lgdt (%rdi) */
    L(64, "\x0f\x38\xf0\x07", OM),           /* movbe (%rdi),%eax */
    L(64, "\xf2\x0f\x38\xf0\x07", OM),       /* crc32b (%rdi),%eax */
    L(64, "\xf3\x0f\xb8\x07", OM),           /* popcnt (%rdi),%eax */
    L(64, "\xf3\x0f\xbc\x07", OM),           /* tzcnt (%rdi),%eax */
    L(64, "\x0f\xc7\xf0", NM),               /* rdrand %eax */
    L(64, "\xc7\xf8\xfa\x00\x00\x00", NM),   /* xbegin 0x346 */
    L(64, "\xc6\xf8\x01", NM),               /* xabort $0x1 */
    L(64, "\xe6\x80", NM),                   /* out %al,$0x80 */
    L(64, "\xe4\x71", NM),                   /* in $0x71,%al */
    L(64, "\xec", NM),                       /* in (%dx),%al */
    L(64, "\x6e", OM),                       /* outsb %ds:(%rsi),(%dx) */
    L(64, "\x6d", OM),                       /* insl (%dx),%es:(%rdi) */
    L(64, "\x48\xcf", NM),                   /* iretq */
    L(64, "\x48\x99", NM),                   /* cqto */
    L(64, "\x48\x98", NM),                   /* cltq */
    L(64, "\x9e", NM),                       /* sahf */
    L(64, "\xf5", NM),                       /* cmc */
    L(64, "\xd9\x07", OM),                   /* flds (%rdi) */
    L(64, "\xdd\x3f", OM),                   /* fnstsw (%rdi) */
    L(64, "\xdb\x44\x24\x08", OM),           /* fildl 0x8(%rsp) */
    L(32, "\x63\x03", OM),                   /* arpl %ax,(%ebx) */
    L(32, "\x40", NM),                       /* inc %eax */
    L(32, "\x06", NM),                       /* push %es */
    L(32, "\xe8\xfb\x00\x00\x00", NM),       /* call 0x13e */
    L(32, "\xe9\xfb\x00\x00\x00", NM),       /* jmp 0x143 */
    L(32, "\xea\x00\x10\x00\x00\x10\x00", NM), /* ljmp $0x10,$0x1000 */
    L(32, "\x9a\x00\x10\x00\x00\x10\x00", NM), /* lcall $0x10,$0x1000 */
    L(32, "\xc4\x03", OM),                   /* les (%ebx),%eax */
    L(32, "\xc5\x03", OM),                   /* lds (%ebx),%eax */
    L(32, "\x62\x03", OM),                   /* bound %eax,(%ebx) */
    L(32, "\xd4\x0a", NM),                   /* aam $0xa */
    L(32, "\x27", NM),                       /* daa */
    L(64, "\x66\x0f\x73\xd0\x04", NM),       /* psrlq $0x4,%xmm0 */
    L(64, "\x0f\x71\xd1\x02", NM),           /* psrlw $0x2,%mm1 */
    L(64, "\x66\x0f\x72\xf5\x03", NM),       /* pslld $0x3,%xmm5 */
    L(64, "\x66\x0f\x70\x07\x1b", OM),       /* pshufd $0x1b,(%rdi),%xmm0 */
    L(64, "\xf2\x0f\x70\xc1\x1b", NM),       /* pshuflw $0x1b,%xmm1,%xmm0 */
    L(64, "\x0f\xc6\xc1\x44", NM),           /* shufps $0x44,%xmm1,%xmm0 */
    L(64, "\x0f\xc2\x10\x01", OM),           /* cmpltps (%rax),%xmm2 */
    L(64, "\x66\x0f\xc4\x07\x02", OM),       /* pinsrw $0x2,(%rdi),%xmm0 */
    L(64, "\x66\x0f\xc5\xc0\x01", NM),       /* pextrw $0x1,%xmm0,%eax */
    L(64, "\x0f\xac\x07\x04", OM),           /* shrd $0x4,%eax,(%rdi) */
    L(64, "\x0f\xa5\xc2", NM),               /* shld %cl,%eax,%edx */
    L(64, "\x0f\xc7\x0f", OM),               /* cmpxchg8b (%rdi) */
    L(64, "\x48\x0f\xc7\x0f", OM),           /* cmpxchg16b (%rdi) */
    L(64, "\x0f\xc1\x07", OM),               /* xadd %eax,(%rdi) */
    L(64, "\x0f\xc8", NM),                   /* bswap %eax */
    L(64, "\x49\x0f\xcc", NM),               /* bswap %r12 */
    L(64, "\x0f\x77", NM),                   /* emms */
    L(64, "\x0f\x01\xf9", NM),               /* rdtscp */
    L(64, "\x0f\x01\xf8", NM),               /* swapgs */
    L(64, "\x0f\x01\xd0", NM),               /* xgetbv */
    L(64, "\x0f\x01\xca", NM),               /* clac */
    L(64, "\x0f\x01\xcb", NM),               /* stac */
    L(64, "\x0f\xb2\x07", OM),               /* lss (%rdi),%eax */
    L(64, "\x4c\x0f\x4f\x44\x44\x10", OM),   /* cmovg 0x10(%rsp,%rax,2),%r8 */
    L(64, "\x66\x0f\x60\xc1", NM),           /* punpcklbw %xmm1,%xmm0 */
    L(64, "\x0f\x29\x44\x24\x20", OM),       /* movaps %xmm0,0x20(%rsp) */
    /* from the tables, not from as */
    L(64, "\x0f\x20\x00", NM),               /* mov %cr0,%rax: mod ignored */
    L(64, "\x8c\x1f", OM),                   /* mov %ds,(%rdi) */
    L(64, "\x8e\x1f", OM),                   /* mov (%rdi),%ds */
    L(64, "\x66\x0f\x78\xc0\x01\x02", NM),   /* extrq $2,$1,%xmm0 */
    L(64, "\xf2\x0f\x78\xc1\x01\x02", NM),   /* insertq $2,$1,%xmm1,%xmm0 */
    L(64, "\x0f\x78\x07", OM),               /* vmread %rax,(%rdi) */
    L(64, "\x0f\x0f\xc1\x9e", NM),           /* pfadd %mm1,%mm0 (3DNow!) */
    L(64, "\x66\xe8\x00\x10", NM),           /* callw: rel16 (AMD) */
    L(64, "\x66\x0f\x3a\x16\x05\x00\x00\x00\x00\x01", OM), /* pextrd ..(%rip) */
    L(64, "\x66\x0f\x38\x00\x87\x00\x01\x00\x00", OM), /* pshufb 0x100(%rdi) */
    L(64, "\x8f\x00", OM),                   /* pop (%rax) */
    L(64, "\xf6\x17", OM),                   /* notb (%rdi): no imm for /2 */
    L(64, "\x26\x66\x67\x48\xc7\x84\x88\x78\x56\x34\x12\x01\x00\x00\x00", SI),
    L(16, "\xe8\xfd\x00", NM),               /* call rel16 */
    L(16, "\xe9\xfd\x00", NM),               /* jmp rel16 */
    L(16, "\xea\x00\x10\x10\x00", NM),       /* ljmp $0x10,$0x1000 */
    L(16, "\x68\x34\x12", NM),               /* push $0x1234 */
};

#endif

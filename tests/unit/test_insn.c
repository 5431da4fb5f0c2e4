/*
 * Unit tests for the instruction decoder (vmm/insn.c).
 *
 * Byte sequences and lengths were produced offline with GNU as and
 * objdump -d (AMD64 reading, the objdump default) and pasted as literals;
 * nothing here needs binutils at run time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/lib/size_mask.h"
#include "vmm/lib/types.h"
#include "vmm/insn.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* Compare and name the failing vector, without noise when all is well. */
#define EXPECT_EQ(tbl, i, got, want)                                          \
    do {                                                                      \
        unsigned long long got_ = (unsigned long long)(got);                  \
        unsigned long long want_ = (unsigned long long)(want);                \
        if (got_ != want_)                                                    \
            fail_msg("%s[%zu]: %s = %#llx, expected %#llx", tbl, (size_t)(i), \
                     #got, got_, want_);                                      \
    } while (0)
/* A byte string literal and its length (the literal may contain \x00). */
#define B(s) s, sizeof(s) - 1

enum { NM = INSN_NO_MEM, LD = INSN_LOAD, SR = INSN_STORE_REG,
       SI = INSN_STORE_IMM, OM = INSN_OTHER_MEM };
enum { EN = INSN_EXT_NONE, EZ = INSN_EXT_ZERO, ES = INSN_EXT_SIGN };

/* ---- emulation view of the MOV family ---------------------------------- */
struct mov_vec {
    int mode;
    const char *bytes;
    size_t n;
    unsigned kind, size, reg;
    bool high8;
    unsigned dst, ext;
    uint64_t imm;
};

static const struct mov_vec mov_vecs[] = {
    /* 88 / 89: register -> memory */
    { 64, B("\x88\x07"), SR, 1, 0, false, 1, EN, 0 },      /* mov %al,(%rdi) */
    { 64, B("\x88\x27"), SR, 1, 4, true, 1, EN, 0 },       /* mov %ah,(%rdi) */
    { 64, B("\x88\x7e\x10"), SR, 1, 7, true, 1, EN, 0 },   /* mov %bh,0x10(%rsi) */
    { 64, B("\x40\x88\x37"), SR, 1, 6, false, 1, EN, 0 },  /* mov %sil,(%rdi) */
    { 64, B("\x44\x88\x08"), SR, 1, 9, false, 1, EN, 0 },  /* mov %r9b,(%rax) */
    { 64, B("\x66\x89\x07"), SR, 2, 0, false, 2, EN, 0 },  /* mov %ax,(%rdi) */
    { 64, B("\x89\x87\x80\x00\x00\x00"), SR, 4, 0, false, 4, EN, 0 },
    { 64, B("\x48\x89\x45\xf8"), SR, 8, 0, false, 8, EN, 0 }, /* mov %rax,-8(%rbp) */
    { 64, B("\x4d\x89\x3c\x24"), SR, 8, 15, false, 8, EN, 0 }, /* mov %r15,(%r12) */
    { 64, B("\x41\x89\x4d\x00"), SR, 4, 1, false, 4, EN, 0 }, /* mov %ecx,0(%r13) */
    { 64, B("\x64\x89\x08"), SR, 4, 1, false, 4, EN, 0 },  /* mov %ecx,%fs:(%rax) */
    /* 8A / 8B: memory -> register */
    { 64, B("\x8a\x07"), LD, 1, 0, false, 1, EN, 0 },      /* mov (%rdi),%al */
    { 64, B("\x8a\x6e\x03"), LD, 1, 5, true, 1, EN, 0 },   /* mov 3(%rsi),%ch */
    { 64, B("\x40\x8a\x3f"), LD, 1, 7, false, 1, EN, 0 },  /* mov (%rdi),%dil */
    { 64, B("\x44\x8a\x17"), LD, 1, 10, false, 1, EN, 0 }, /* mov (%rdi),%r10b */
    { 64, B("\x66\x8b\x1f"), LD, 2, 3, false, 2, EN, 0 },  /* mov (%rdi),%bx */
    { 64, B("\x8b\x14\x8b"), LD, 4, 2, false, 4, EN, 0 },  /* mov (%rbx,%rcx,4),%edx */
    { 64, B("\x4c\x8b\x04\xcd\x78\x56\x34\x12"), LD, 8, 8, false, 8, EN, 0 },
    { 64, B("\x8b\x05\x00\x01\x00\x00"), LD, 4, 0, false, 4, EN, 0 }, /* rip */
    { 64, B("\x65\x48\x8b\x04\x25\x28\x00\x00\x00"), LD, 8, 0, false, 8, EN, 0 },
    { 64, B("\x67\x8b\x08"), LD, 4, 1, false, 4, EN, 0 },  /* mov (%eax),%ecx */
    /* C6 / C7 /0: immediate -> memory */
    { 64, B("\xc6\x07\x5a"), SI, 1, INSN_REG_NONE, false, 1, EN, 0x5a },
    { 64, B("\x66\xc7\x47\x02\x34\x12"), SI, 2, INSN_REG_NONE, false, 2, EN, 0x1234 },
    { 64, B("\xc7\x04\x77\xef\xbe\xad\xde"), SI, 4, INSN_REG_NONE, false, 4, EN,
      0xffffffffdeadbeefull },
    { 64, B("\x48\xc7\x07\xff\xff\xff\xff"), SI, 8, INSN_REG_NONE, false, 8, EN,
      ~0ull },                                             /* movq $-1,(%rdi) */
    { 64, B("\x48\xc7\x05\x00\x01\x00\x00\xff\xff\xff\x7f"), SI, 8, INSN_REG_NONE,
      false, 8, EN, 0x7fffffff },                          /* movq $..,0x100(%rip) */
    /* MOVZX / MOVSX / MOVSXD */
    { 64, B("\x0f\xb6\x07"), LD, 1, 0, false, 4, EZ, 0 },  /* movzbl (%rdi),%eax */
    { 64, B("\x0f\xb7\x4f\x04"), LD, 2, 1, false, 4, EZ, 0 }, /* movzwl 4(%rdi),%ecx */
    { 64, B("\x4c\x0f\xb6\x1f"), LD, 1, 11, false, 8, EZ, 0 }, /* movzbq (%rdi),%r11 */
    { 64, B("\x66\x0f\xb6\x07"), LD, 1, 0, false, 2, EZ, 0 }, /* movzbw (%rdi),%ax */
    { 64, B("\x0f\xbe\x07"), LD, 1, 0, false, 4, ES, 0 },  /* movsbl (%rdi),%eax */
    { 64, B("\x48\x0f\xbf\x56\x02"), LD, 2, 2, false, 8, ES, 0 }, /* movswq */
    { 64, B("\x66\x0f\xbe\x37"), LD, 1, 6, false, 2, ES, 0 }, /* movsbw (%rdi),%si */
    { 64, B("\x48\x63\x07"), LD, 4, 0, false, 8, ES, 0 },  /* movslq (%rdi),%rax */
    { 64, B("\x63\x07"), LD, 4, 0, false, 4, ES, 0 },      /* movsxd r32 (no REX.W) */
    /* A0..A3: moffs, 64-bit by default, 32-bit with 67 */
    { 64, B("\xa0\x00\x03\xe0\xfe\x00\x00\x00\x00"), LD, 1, 0, false, 1, EN, 0 },
    { 64, B("\xa1\x00\x03\xe0\xfe\x00\x00\x00\x00"), LD, 4, 0, false, 4, EN, 0 },
    { 64, B("\x48\xa1\x00\x03\xe0\xfe\x00\x00\x00\x00"), LD, 8, 0, false, 8, EN, 0 },
    { 64, B("\xa2\x88\x77\x66\x55\x44\x33\x22\x11"), SR, 1, 0, false, 1, EN, 0 },
    { 64, B("\x66\xa3\x88\x77\x66\x55\x44\x33\x22\x11"), SR, 2, 0, false, 2, EN, 0 },
    { 64, B("\x67\xa1\x00\x03\xe0\xfe"), LD, 4, 0, false, 4, EN, 0 },
    /* register-only MOVs touch no memory */
    { 64, B("\x89\xc8"), NM, 0, 0, false, 0, EN, 0 },      /* mov %ecx,%eax */
    { 64, B("\xc7\xc0\x01\x00\x00\x00"), NM, 0, 0, false, 0, EN, 1 },
    /* protected mode */
    { 32, B("\xa1\x20\x00\xe0\xfe"), LD, 4, 0, false, 4, EN, 0 },
    { 32, B("\xa2\x00\x80\x0b\x00"), SR, 1, 0, false, 1, EN, 0 },
    { 32, B("\x66\xa3\x78\x56\x34\x12"), SR, 2, 0, false, 2, EN, 0 },
    { 32, B("\x88\x31"), SR, 1, 6, true, 1, EN, 0 },       /* mov %dh,(%ecx) */
    { 32, B("\x0f\xb7\x06"), LD, 2, 0, false, 4, EZ, 0 },  /* movzwl (%esi),%eax */
    { 32, B("\xc7\x45\x10\x78\x56\x34\x12"), SI, 4, INSN_REG_NONE, false, 4, EN,
      0x12345678 },
    { 32, B("\x67\x66\x8b\x00"), LD, 2, 0, false, 2, EN, 0 }, /* mov (%bx,%si),%ax */
    { 32, B("\x67\xa1\x34\x12"), LD, 4, 0, false, 4, EN, 0 }, /* addr16 moffs */
    { 32, B("\x63\x03"), OM, 0, 0, false, 0, EN, 0 },      /* arpl, not movsxd */
    /* real mode */
    { 16, B("\xa1\x34\x12"), LD, 2, 0, false, 2, EN, 0 },  /* mov 0x1234,%ax */
    { 16, B("\x8a\x56\x00"), LD, 1, 2, false, 1, EN, 0 },  /* mov 0(%bp),%dl */
    { 16, B("\xc7\x41\x10\x34\x12"), SI, 2, INSN_REG_NONE, false, 2, EN, 0x1234 },
    { 16, B("\x66\xc7\x04\x78\x56\x34\x12"), SI, 4, INSN_REG_NONE, false, 4, EN,
      0x12345678 },
    { 16, B("\x67\x66\x8b\x08"), LD, 4, 1, false, 4, EN, 0 }, /* mov (%eax),%ecx */
};

static void test_mov_forms(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(mov_vecs); i++) {
        const struct mov_vec *v = &mov_vecs[i];
        struct insn in;
        EXPECT_EQ("mov_vecs", i, insn_decode((const uint8_t *)v->bytes, v->n, v->mode, &in), 0);
        EXPECT_EQ("mov_vecs", i, in.length, v->n);
        EXPECT_EQ("mov_vecs", i, in.kind, v->kind);
        EXPECT_EQ("mov_vecs", i, in.imm, v->imm);
        if (v->kind == NM || v->kind == OM)
            continue;
        EXPECT_EQ("mov_vecs", i, in.mem, true);
        EXPECT_EQ("mov_vecs", i, in.size, v->size);
        EXPECT_EQ("mov_vecs", i, in.reg, v->reg);
        EXPECT_EQ("mov_vecs", i, in.reg_high8, v->high8);
        EXPECT_EQ("mov_vecs", i, in.dst_size, v->dst);
        EXPECT_EQ("mov_vecs", i, in.ext, v->ext);
    }
}

/* ---- addressing: ModRM, SIB, displacement, RIP-relative, moffs ---------- */
struct addr_vec {
    int mode;
    const char *bytes;
    size_t n;
    unsigned base, index, scale;
    int64_t disp;
    unsigned disp_size;
    bool rip, moffs, sib;
};
#define NO INSN_REG_NONE

static const struct addr_vec addr_vecs[] = {
    { 64, B("\x8b\x07"), INSN_RDI, NO, 1, 0, 0, false, false, false },
    { 64, B("\x8b\x47\xf8"), INSN_RDI, NO, 1, -8, 1, false, false, false },
    { 64, B("\x8b\x87\x00\x01\x00\x00"), INSN_RDI, NO, 1, 0x100, 4, false, false, false },
    { 64, B("\x8b\x14\x8b"), INSN_RBX, INSN_RCX, 4, 0, 0, false, false, true },
    /* SIB without base: disp32 + index*8 */
    { 64, B("\x4c\x8b\x04\xcd\x78\x56\x34\x12"), NO, INSN_RCX, 8, 0x12345678, 4,
      false, false, true },
    /* SIB with no index and no base: absolute disp32 */
    { 64, B("\x8b\x04\x25\x28\x00\x00\x00"), NO, NO, 1, 0x28, 4, false, false, true },
    /* rsp base needs SIB; r12 too (REX.B does not change the rule) */
    { 64, B("\x48\x8b\x44\x24\x10"), INSN_RSP, NO, 1, 0x10, 1, false, false, true },
    { 64, B("\x4d\x89\x3c\x24"), INSN_R12, NO, 1, 0, 0, false, false, true },
    /* rbp / r13 base with mod=00 is RIP-relative; mod=01 disp8 is not */
    { 64, B("\x41\x89\x4d\x00"), INSN_R13, NO, 1, 0, 1, false, false, false },
    { 64, B("\x8b\x05\x00\x01\x00\x00"), NO, NO, 1, 0x100, 4, true, false, false },
    { 64, B("\x41\x8b\x05\xf0\xff\xff\xff"), NO, NO, 1, -16, 4, true, false, false },
    /* REX.X extends the index, REX.B the base */
    { 64, B("\x43\x8b\x04\x8c"), INSN_R12, INSN_R9, 4, 0, 0, false, false, true },
    /* REX.X with index 100 is r12, not "no index" */
    { 64, B("\x42\x8b\x04\x20"), INSN_RAX, INSN_R12, 1, 0, 0, false, false, true },
    { 64, B("\xa1\x00\x03\xe0\xfe\x00\x00\x00\x00"), NO, NO, 1, 0xfee00300, 8,
      false, true, false },
    { 64, B("\xa2\x88\x77\x66\x55\x44\x33\x22\x11"), NO, NO, 1,
      (int64_t)0x1122334455667788ll, 8, false, true, false },
    /* 32-bit mode: mod=00 rm=101 is absolute, not RIP-relative */
    { 32, B("\x8b\x05\x00\x00\xe0\xfe"), NO, NO, 1, (int64_t)0xfffffffffee00000ull,
      4, false, false, false },
    { 32, B("\x8b\x0b"), INSN_RBX, NO, 1, 0, 0, false, false, false },
    /* 16-bit addressing */
    { 32, B("\x67\x66\x8b\x00"), INSN_RBX, INSN_RSI, 1, 0, 0, false, false, false },
    { 16, B("\x89\x46\x10"), INSN_RBP, NO, 1, 0x10, 1, false, false, false },
    { 16, B("\x8b\x0e\x34\x12"), NO, NO, 1, 0x1234, 2, false, false, false },
    { 16, B("\xc7\x41\x10\x34\x12"), INSN_RBX, INSN_RDI, 1, 0x10, 1, false, false, false },
    { 16, B("\x8b\x87\x00\x80"), INSN_RBX, NO, 1, -0x8000, 2, false, false, false },
    { 16, B("\xa0\x00\xb8"), NO, NO, 1, 0xb800, 2, false, true, false },
};

static void test_addressing(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(addr_vecs); i++) {
        const struct addr_vec *v = &addr_vecs[i];
        struct insn in;
        EXPECT_EQ("addr_vecs", i, insn_decode((const uint8_t *)v->bytes, v->n, v->mode, &in), 0);
        EXPECT_EQ("addr_vecs", i, in.length, v->n);
        EXPECT_EQ("addr_vecs", i, in.mem, true);
        EXPECT_EQ("addr_vecs", i, in.base, v->base);
        EXPECT_EQ("addr_vecs", i, in.index, v->index);
        EXPECT_EQ("addr_vecs", i, in.scale, v->scale);
        EXPECT_EQ("addr_vecs", i, in.disp, v->disp);
        EXPECT_EQ("addr_vecs", i, in.disp_size, v->disp_size);
        EXPECT_EQ("addr_vecs", i, in.rip_relative, v->rip);
        EXPECT_EQ("addr_vecs", i, in.moffs, v->moffs);
        EXPECT_EQ("addr_vecs", i, in.has_sib, v->sib);
    }
}

#include "tests/unit/insn_vectors.h"

static void test_lengths(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(len_vecs); i++) {
        const struct len_vec *v = &len_vecs[i];
        struct insn in;
        EXPECT_EQ("len_vecs", i, insn_decode((const uint8_t *)v->bytes, v->n, v->mode, &in), 0);
        EXPECT_EQ("len_vecs", i, in.length, v->n);
        EXPECT_EQ("len_vecs", i, in.kind, v->kind);
    }
}

/* Decoding a prefix of any vector asks for more bytes, never guesses. */
static void check_truncation(int mode, const char *bytes, size_t n)
{
    struct insn in;
    for (size_t k = 0; k < n; k++)
        assert_int_equal(insn_decode((const uint8_t *)bytes, k, mode, &in), -PV_ENOENT);
}

static void test_truncated(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(mov_vecs); i++)
        check_truncation(mov_vecs[i].mode, mov_vecs[i].bytes, mov_vecs[i].n);
    for (size_t i = 0; i < ARRAY_LEN(addr_vecs); i++)
        check_truncation(addr_vecs[i].mode, addr_vecs[i].bytes, addr_vecs[i].n);
    for (size_t i = 0; i < ARRAY_LEN(len_vecs); i++)
        check_truncation(len_vecs[i].mode, len_vecs[i].bytes, len_vecs[i].n);
}

/* Extra bytes after the instruction change nothing. */
static void test_trailing_bytes_ignored(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(len_vecs); i++) {
        uint8_t buf[32];
        struct insn in;
        memset(buf, 0x90, sizeof(buf));
        memcpy(buf, len_vecs[i].bytes, len_vecs[i].n);
        assert_int_equal(insn_decode(buf, sizeof(buf), len_vecs[i].mode, &in), 0);
        assert_int_equal(in.length, len_vecs[i].n);
    }
}

static void expect_invalid(int mode, const char *bytes, size_t n)
{
    struct insn in;
    assert_int_equal(insn_decode((const uint8_t *)bytes, n, mode, &in), -PV_EINVAL);
}

static void test_invalid(void **state)
{
    (void)state;
    /* VEX, EVEX and XOP */
    expect_invalid(64, B("\xc5\xf8\x77"));                 /* vzeroupper */
    expect_invalid(64, B("\xc4\xe2\x79\x18\x07"));         /* vbroadcastss */
    expect_invalid(64, B("\x62\xf1\x7c\x48\x10\x07"));     /* vmovups zmm */
    expect_invalid(32, B("\xc5\xf8\x77"));                 /* VEX: mod=11 */
    expect_invalid(64, B("\x8f\xe9\x78\xe1\xc1"));         /* XOP vphsubbw */
    /* the same bytes with a memory ModRM are LES/LDS/BOUND outside long mode */
    struct insn in;
    assert_int_equal(insn_decode((const uint8_t *)"\xc5\x03", 2, 32, &in), 0);
    assert_int_equal(in.kind, INSN_OTHER_MEM);
    /* one-byte opcodes removed in 64-bit mode */
    expect_invalid(64, B("\x06"));                         /* push es */
    expect_invalid(64, B("\x27"));                         /* daa */
    expect_invalid(64, B("\xd4\x0a"));                     /* aam */
    expect_invalid(64, B("\x9a\x00\x10\x00\x00\x10\x00")); /* lcall */
    expect_invalid(64, B("\xea\x00\x10\x00\x00\x10\x00")); /* ljmp */
    /* undefined forms */
    expect_invalid(64, B("\x0f\x04"));
    expect_invalid(64, B("\x0f\xa6\x00"));
    expect_invalid(64, B("\x8d\xc0"));                     /* lea, register */
    expect_invalid(64, B("\xc7\x08\x00\x00\x00\x00"));     /* c7 /1 */
    expect_invalid(64, B("\xf0\x89\x07"));                 /* lock mov */
    expect_invalid(64, B("\xf0\x0f\xb6\x07"));             /* lock movzx */
    /* over 15 bytes: fifteen prefixes and an opcode */
    expect_invalid(64, B("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x90"));
    expect_invalid(64, B("\x26\x26\x66\x67\x48\xc7\x84\x88\x78\x56\x34\x12\x01\x00\x00\x00"));
    /* bad arguments */
    expect_invalid(48, B("\x90"));
    assert_int_equal(insn_decode(NULL, 1, 64, &in), -PV_EINVAL);
    assert_int_equal(insn_decode((const uint8_t *)"\x90", 1, 64, NULL), -PV_EINVAL);
    /* VEX needs the next byte to tell it from LES */
    assert_int_equal(insn_decode((const uint8_t *)"\xc5", 1, 32, &in), -PV_ENOENT);
}

static void test_prefixes(void **state)
{
    struct insn in;
    (void)state;
    /* REX followed by a legacy prefix is ignored: this is a 16-bit store */
    assert_int_equal(insn_decode((const uint8_t *)"\x48\x66\x89\x07", 4, 64, &in), 0);
    assert_int_equal(in.length, 4);
    assert_int_equal(in.rex, 0);
    assert_int_equal(in.size, 2);
    /* the last REX counts */
    assert_int_equal(insn_decode((const uint8_t *)"\x41\x48\x89\x07", 4, 64, &in), 0);
    assert_int_equal(in.rex, 0x48);
    assert_int_equal(in.base, INSN_RDI);
    assert_int_equal(in.size, 8);
    /* REX.W beats 66 */
    assert_int_equal(insn_decode((const uint8_t *)"\x66\x48\x8b\x07", 4, 64, &in), 0);
    assert_int_equal(in.size, 8);
    assert_true(in.prefixes & INSN_P_OPSIZE);
    /* an empty REX turns AH..BH into SPL..DIL */
    assert_int_equal(insn_decode((const uint8_t *)"\x40\x88\x27", 3, 64, &in), 0);
    assert_false(in.reg_high8);
    assert_int_equal(in.reg, INSN_RSP);
    /* 40..4F are INC/DEC outside long mode */
    assert_int_equal(insn_decode((const uint8_t *)"\x48\x89\x07", 3, 32, &in), 0);
    assert_int_equal(in.length, 1);
    assert_int_equal(in.kind, INSN_NO_MEM);
    /* segment, rep, lock, address size */
    assert_int_equal(insn_decode((const uint8_t *)"\x65\x67\x8b\x00", 4, 64, &in), 0);
    assert_int_equal(in.seg, INSN_SEG_GS);
    assert_true(in.prefixes & INSN_P_SEG);
    assert_true(in.prefixes & INSN_P_ADDRSIZE);
    assert_int_equal(in.addrsize, 4);
    assert_int_equal(insn_decode((const uint8_t *)"\xf3\x48\xab", 3, 64, &in), 0);
    assert_true(in.prefixes & INSN_P_REP);
    assert_int_equal(in.kind, INSN_OTHER_MEM);
    assert_int_equal(in.size, 8);
    assert_int_equal(insn_decode((const uint8_t *)"\xf2\xae", 2, 64, &in), 0);
    assert_true(in.prefixes & INSN_P_REPNE);
    assert_int_equal(insn_decode((const uint8_t *)"\x2e\x3e\x64\xf0\x01\x07", 6, 64, &in), 0);
    assert_int_equal(in.seg, INSN_SEG_FS);
    assert_true(in.prefixes & INSN_P_LOCK);
    /* opcode maps */
    assert_int_equal(insn_decode((const uint8_t *)"\x66\x0f\x3a\x0f\xc1\x03", 6, 64, &in), 0);
    assert_int_equal(in.map, INSN_MAP_0F3A);
    assert_int_equal(in.opcode, 0x0f);
    assert_int_equal(in.imm, 3);
}

/* Every opcode of every map decodes to 0 or EINVAL, never reads past its
 * own length, and its length is stable whatever trails it. */
static void test_every_opcode(void **state)
{
    static const uint8_t tails[][4] = {
        { 0x00, 0x00, 0x00, 0x00 }, { 0x84, 0x24, 0x00, 0x00 },
        { 0x05, 0x00, 0x00, 0x00 }, { 0xc0, 0x00, 0x00, 0x00 },
        { 0x44, 0x24, 0x08, 0x00 }, { 0xbf, 0x00, 0x00, 0x00 },
    };
    static const uint8_t leads[][3] = { { 0 }, { 0x0f }, { 0x0f, 0x38 }, { 0x0f, 0x3a } };
    static const size_t lead_len[] = { 0, 1, 2, 2 };
    static const int modes[] = { 16, 32, 64 };
    (void)state;
    for (size_t m = 0; m < ARRAY_LEN(modes); m++)
    for (size_t l = 0; l < ARRAY_LEN(leads); l++)
    for (unsigned op = 0; op < 256; op++)
    for (size_t t = 0; t < ARRAY_LEN(tails); t++) {
        uint8_t buf[INSN_MAX_LEN + 8];
        struct insn in, again;
        memset(buf, 0, sizeof(buf));
        memcpy(buf, leads[l], lead_len[l]);
        buf[lead_len[l]] = (uint8_t)op;
        memcpy(buf + lead_len[l] + 1, tails[t], sizeof(tails[t]));
        int rc = insn_decode(buf, sizeof(buf), modes[m], &in);
        if (rc == -PV_EINVAL)
            continue;
        assert_int_equal(rc, 0);
        assert_in_range(in.length, 1, INSN_MAX_LEN);
        assert_int_equal(insn_decode(buf, in.length, modes[m], &again), 0);
        assert_int_equal(again.length, in.length);
        assert_int_equal(insn_decode(buf, in.length - 1u, modes[m], &again), -PV_ENOENT);
    }
}

/* ---- register semantics -------------------------------------------------- */
static struct insn decoded(int mode, const char *bytes, size_t n)
{
    struct insn in;
    assert_int_equal(insn_decode((const uint8_t *)bytes, n, mode, &in), 0);
    return in;
}

static void test_merge_reg(void **state)
{
    const uint64_t old = 0x1122334455667788ull;
    (void)state;
    struct insn al = decoded(64, B("\x8a\x07"));           /* mov (%rdi),%al */
    struct insn ch = decoded(64, B("\x8a\x2f"));           /* mov (%rdi),%ch */
    struct insn bx = decoded(64, B("\x66\x8b\x1f"));       /* mov (%rdi),%bx */
    struct insn eax = decoded(64, B("\x8b\x07"));          /* mov (%rdi),%eax */
    struct insn rax = decoded(64, B("\x48\x8b\x07"));      /* mov (%rdi),%rax */
    struct insn ax32 = decoded(32, B("\x8b\x07"));         /* mov (%edi),%eax */
    assert_int_equal(insn_merge_reg(old, 0xff, &al), 0x11223344556677ffull);
    assert_true(ch.reg_high8);
    assert_int_equal(insn_merge_reg(old, 0xff, &ch), 0x112233445566ff88ull);
    assert_int_equal(insn_merge_reg(old, 0xabcd, &bx), 0x112233445566abcdull);
    assert_int_equal(insn_merge_reg(old, 0xffffffff, &eax), 0xffffffffull);
    assert_int_equal(insn_merge_reg(old, ~0ull, &rax), ~0ull);
    assert_int_equal(insn_merge_reg(old, 0xdeadbeef, &ax32), 0xdeadbeefull);
    /* only the low dst_size bytes of value count */
    assert_int_equal(insn_merge_reg(old, 0x1234, &al), 0x1122334455667734ull);
    assert_int_equal(insn_merge_reg(old, 0x1234, &ch), 0x1122334455663488ull);
    /* movzbl writes 32 bits: the upper half is cleared */
    struct insn zx = decoded(64, B("\x0f\xb6\x07"));
    assert_int_equal(insn_merge_reg(old, insn_extend(0xff, &zx), &zx), 0xffull);
}

static void test_extend(void **state)
{
    (void)state;
    struct insn zbl = decoded(64, B("\x0f\xb6\x07"));      /* movzbl */
    struct insn zwq = decoded(64, B("\x48\x0f\xb7\x07"));  /* movzwq */
    struct insn sbl = decoded(64, B("\x0f\xbe\x07"));      /* movsbl */
    struct insn sbw = decoded(64, B("\x66\x0f\xbe\x07"));  /* movsbw */
    struct insn swq = decoded(64, B("\x48\x0f\xbf\x07"));  /* movswq */
    struct insn slq = decoded(64, B("\x48\x63\x07"));      /* movslq */
    struct insn mov = decoded(64, B("\x8b\x07"));          /* mov, 32-bit */
    assert_int_equal(insn_extend(0xff, &zbl), 0xffull);
    assert_int_equal(insn_extend(0xffffffff, &zbl), 0xffull); /* raw masked */
    assert_int_equal(insn_extend(0x8001, &zwq), 0x8001ull);
    assert_int_equal(insn_extend(0x80, &sbl), 0xffffff80ull);
    assert_int_equal(insn_extend(0x7f, &sbl), 0x7full);
    assert_int_equal(insn_extend(0xff, &sbw), 0xffffull);
    assert_int_equal(insn_extend(0x8000, &swq), 0xffffffffffff8000ull);
    assert_int_equal(insn_extend(0xffffffff, &slq), ~0ull);
    assert_int_equal(insn_extend(0x7fffffff, &slq), 0x7fffffffull);
    assert_int_equal(insn_extend(0x1ffffffffull, &mov), 0xffffffffull);
    /* open bus: all-ones of the access size, then the instruction's rule */
    assert_int_equal(insn_extend(access_size_mask(zbl.size), &zbl), 0xffull);
    assert_int_equal(insn_extend(access_size_mask(swq.size), &swq), ~0ull);
}

static void test_store_value(void **state)
{
    const uint64_t reg = 0x1122334455667788ull;
    (void)state;
    struct insn ah = decoded(64, B("\x88\x27"));           /* mov %ah,(%rdi) */
    struct insn al = decoded(64, B("\x88\x07"));
    struct insn ax = decoded(64, B("\x66\x89\x07"));
    struct insn rax = decoded(64, B("\x48\x89\x07"));
    struct insn imm = decoded(64, B("\x48\xc7\x07\xfe\xff\xff\xff"));
    struct insn imm16 = decoded(64, B("\x66\xc7\x07\x34\x12"));
    struct insn other = decoded(64, B("\x01\x07"));         /* add %eax,(%rdi) */
    assert_int_equal(insn_store_value(reg, &ah), 0x77);
    assert_int_equal(insn_store_value(reg, &al), 0x88);
    assert_int_equal(insn_store_value(reg, &ax), 0x7788);
    assert_int_equal(insn_store_value(reg, &rax), reg);
    assert_int_equal(insn_store_value(reg, &imm), 0xfffffffffffffffeull);
    assert_int_equal(insn_store_value(reg, &imm16), 0x1234);
    assert_int_equal(insn_store_value(reg, &other), 0);
    assert_string_equal(insn_kind_name(other.kind), "other-mem");
    assert_string_equal(insn_kind_name(99), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mov_forms),
        cmocka_unit_test(test_addressing),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_trailing_bytes_ignored),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_every_opcode),
        cmocka_unit_test(test_merge_reg),
        cmocka_unit_test(test_extend),
        cmocka_unit_test(test_store_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

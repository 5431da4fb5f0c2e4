/*
 * x86 instruction decoder for emulating a trapped memory access.
 *
 * A stage-2 fault (EPT violation, NPT #NPF) on an emulated or open-bus
 * address gives the hypervisor the guest-physical address and RIP but, on
 * SVM without decode assists, neither the instruction length nor its
 * operands. insn_decode() recovers both from the bytes at RIP: the length
 * (so RIP can be advanced), and for the forms compilers emit for MMIO —
 * MOV in both directions, MOV of an immediate, MOVZX/MOVSX/MOVSXD and MOV
 * with a moffs address — which register receives or supplies the value and
 * how wide the access is. Every other instruction that touches memory is
 * reported as INSN_OTHER_MEM with its correct length, so the caller can
 * refuse it by name or skip it.
 *
 * Pure and freestanding: no state, no allocation.
 *
 * Emulating a load:   raw  = device value of insn.size bytes
 *                     gpr[insn.reg] = insn_merge_reg(gpr[insn.reg],
 *                                         insn_extend(raw, &insn), &insn)
 * Emulating a store:  val  = insn_store_value(gpr[insn.reg], &insn)
 *                     (insn.size bytes; gpr ignored for INSN_STORE_IMM)
 * Then:               rip += insn.length
 */
#ifndef PV_VMM_INSN_H
#define PV_VMM_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Architectural limit on the length of one instruction. */
#define INSN_MAX_LEN 15

/* Legacy prefix bytes. */
#define INSN_PFX_LOCK 0xF0u
#define INSN_PFX_REPNE 0xF2u
#define INSN_PFX_REP 0xF3u
#define INSN_PFX_OPSIZE 0x66u
#define INSN_PFX_ADDRSIZE 0x67u
#define INSN_PFX_ES 0x26u
#define INSN_PFX_CS 0x2Eu
#define INSN_PFX_SS 0x36u
#define INSN_PFX_DS 0x3Eu
#define INSN_PFX_FS 0x64u
#define INSN_PFX_GS 0x65u

/* REX prefix (64-bit mode only): 0100WRXB. */
#define INSN_REX_MASK 0xF0u
#define INSN_REX_BASE 0x40u
#define INSN_REX_W 0x08u /* 64-bit operand size */
#define INSN_REX_R 0x04u /* extends ModRM.reg */
#define INSN_REX_X 0x02u /* extends SIB.index */
#define INSN_REX_B 0x01u /* extends ModRM.rm / SIB.base / opcode reg */

/* Escape bytes and encodings this decoder refuses. */
#define INSN_ESC_0F 0x0Fu
#define INSN_ESC_0F38 0x38u /* second byte after 0F */
#define INSN_ESC_0F3A 0x3Au /* second byte after 0F */
#define INSN_VEX3 0xC4u     /* LES outside 64-bit mode unless mod=11 */
#define INSN_VEX2 0xC5u     /* LDS outside 64-bit mode unless mod=11 */
#define INSN_EVEX 0x62u     /* BOUND outside 64-bit mode unless mod=11 */
#define INSN_XOP 0x8Fu      /* POP r/m when ModRM.reg == 0 */

/* ModRM and SIB fields. */
#define INSN_MODRM_MOD(b) (((b) >> 6) & 3u)
#define INSN_MODRM_REG(b) (((b) >> 3) & 7u)
#define INSN_MODRM_RM(b) ((b) & 7u)
#define INSN_MOD_INDIRECT 0u /* [base], or disp only for the special rm */
#define INSN_MOD_DISP8 1u
#define INSN_MOD_DISP32 2u /* disp16 with 16-bit addressing */
#define INSN_MOD_REG 3u
#define INSN_RM_SIB 4u      /* 32/64-bit addressing: a SIB byte follows */
#define INSN_RM_DISP32 5u   /* with mod=00: disp32 (RIP-relative in 64-bit) */
#define INSN_RM16_DISP16 6u /* 16-bit addressing, mod=00: disp16 only */
#define INSN_SIB_SCALE(b) (((b) >> 6) & 3u)
#define INSN_SIB_INDEX(b) (((b) >> 3) & 7u)
#define INSN_SIB_BASE(b) ((b) & 7u)
#define INSN_SIB_NO_INDEX 4u /* index field 100 without REX.X */
#define INSN_SIB_NO_BASE 5u  /* base field 101 with mod=00: disp32 */

/* General-purpose register numbers (ModRM/REX encoding order). */
enum insn_gpr {
    INSN_RAX, INSN_RCX, INSN_RDX, INSN_RBX,
    INSN_RSP, INSN_RBP, INSN_RSI, INSN_RDI,
    INSN_R8, INSN_R9, INSN_R10, INSN_R11,
    INSN_R12, INSN_R13, INSN_R14, INSN_R15,
};
#define INSN_REG_NONE 0xFFu

/* prefix flags in struct insn.prefixes */
#define INSN_P_LOCK (1u << 0)
#define INSN_P_REP (1u << 1)   /* F3 (REP/REPE) */
#define INSN_P_REPNE (1u << 2) /* F2 */
#define INSN_P_OPSIZE (1u << 3)
#define INSN_P_ADDRSIZE (1u << 4)
#define INSN_P_SEG (1u << 5) /* a segment override; see insn.seg */

enum insn_seg { INSN_SEG_NONE, INSN_SEG_ES, INSN_SEG_CS, INSN_SEG_SS,
                INSN_SEG_DS, INSN_SEG_FS, INSN_SEG_GS };

/* Opcode maps (struct insn.map). */
enum insn_map { INSN_MAP_1B = 1, INSN_MAP_0F = 2, INSN_MAP_0F38 = 3,
                INSN_MAP_0F3A = 4 };

enum insn_kind {
    INSN_NO_MEM,     /* no memory operand (implicit stack accesses aside;
                        LEA, NOP and prefetch hints with a ModRM memory
                        form are NO_MEM too: they access nothing) */
    INSN_LOAD,       /* memory -> register reg (MOV, MOVZX, MOVSX, MOVSXD) */
    INSN_STORE_REG,  /* register reg -> memory (MOV) */
    INSN_STORE_IMM,  /* immediate imm -> memory (MOV) */
    INSN_OTHER_MEM,  /* touches memory any other way: ALU, TEST/CMP, XCHG,
                        string ops and XLAT (implicit: mem is false), SSE,
                        x87, system instructions, ... */
};

enum insn_ext { INSN_EXT_NONE, INSN_EXT_ZERO, INSN_EXT_SIGN };

struct insn {
    uint8_t length;     /* total bytes, prefixes to last immediate */
    uint8_t mode;       /* 16, 32 or 64, as passed to insn_decode */
    uint32_t prefixes;  /* INSN_P_* */
    uint8_t seg;        /* enum insn_seg: last segment override */
    uint8_t rex;        /* the REX byte in effect, 0 if none */
    uint8_t map;        /* enum insn_map */
    uint8_t opcode;     /* opcode byte within its map */
    bool has_modrm;
    bool has_sib;
    uint8_t modrm, sib; /* raw bytes, valid when has_modrm / has_sib */
    uint8_t opsize;     /* effective operand size: 2, 4 or 8 */
    uint8_t addrsize;   /* effective address size: 2, 4 or 8 */

    /* Memory operand (ModRM with mod != 11, or moffs). 16-bit addressing
     * reports its pairs as base/index: [BX+SI] is base RBX, index RSI. */
    bool mem;           /* the instruction has an explicit memory operand */
    bool rip_relative;  /* [rip + disp]; disp is relative to the NEXT insn */
    bool moffs;         /* A0..A3: disp is the absolute offset */
    uint8_t base;       /* base register or INSN_REG_NONE */
    uint8_t index;      /* index register or INSN_REG_NONE */
    uint8_t scale;      /* 1, 2, 4 or 8 */
    uint8_t disp_size;  /* 0, 1, 2, 4 or 8 bytes encoded */
    int64_t disp;       /* sign-extended displacement (moffs zero-extended) */

    uint8_t imm_size;   /* bytes of immediates encoded, all of them */
    uint64_t imm;       /* first immediate (or rel / far offset),
                           sign-extended to 64 bits from its width */
    uint16_t imm2;      /* ENTER's imm8, a far pointer's selector */

    /* The emulation view; meaningful for LOAD / STORE_REG / STORE_IMM. */
    uint8_t kind;       /* enum insn_kind */
    uint8_t size;       /* bytes accessed in memory: 1, 2, 4 or 8; for
                           OTHER_MEM best effort (integer one-byte-map
                           forms and string ops), 0 when unknown */
    uint8_t reg;        /* register written (LOAD) or read (STORE_REG) */
    bool reg_high8;     /* reg 4..7 means AH, CH, DH, BH (no REX, 8-bit) */
    uint8_t dst_size;   /* LOAD: bytes of register written (>= size) */
    uint8_t ext;        /* LOAD: enum insn_ext from size to dst_size */
};

/*
 * Decode the instruction at bytes[0 .. avail). mode is 64 (long mode),
 * 32 (protected mode, or compatibility mode with a 32-bit code segment) or
 * 16 (real mode / 16-bit code segment). Returns 0 and fills *out, or
 *   -PV_ENOENT  avail ends before the instruction does (fetch more),
 *   -PV_EINVAL  invalid or unsupported encoding: VEX, EVEX, XOP, an opcode
 *               undefined in this mode, LOCK on a MOV form, over 15
 *               bytes, a NULL pointer or a bad mode.
 * E8/E9/0F 8x with 66 in 64-bit mode take rel16 (AMD; Intel ignores the
 * 66 there); compilers never emit that.
 * Success says nothing about whether the instruction is emulatable: check
 * out->kind.
 */
int insn_decode(const uint8_t *bytes, size_t avail, int mode,
                struct insn *out);

/*
 * The value a LOAD puts in its register, from the raw memory value
 * (low insn->size bytes of raw): zero- or sign-extended to dst_size, as
 * MOVZX / MOVSX / MOVSXD do; masked to dst_size.
 */
uint64_t insn_extend(uint64_t raw, const struct insn *in);

/*
 * x86 register write: the new 64-bit register content when a dst_size
 * write of value hits a register that held old. 8- and 16-bit writes merge,
 * AH..BH (reg_high8) write bits 15:8, 32-bit writes zero-extend, 64-bit
 * writes replace.
 */
uint64_t insn_merge_reg(uint64_t old, uint64_t value, const struct insn *in);

/*
 * The value a STORE writes (insn->size bytes): the source register's
 * content reg_value (its bits 15:8 for AH..BH) for INSN_STORE_REG, the
 * immediate for INSN_STORE_IMM; 0 for any other kind.
 */
uint64_t insn_store_value(uint64_t reg_value, const struct insn *in);

/* Short name of a kind, for logs. */
const char *insn_kind_name(unsigned kind);

#endif

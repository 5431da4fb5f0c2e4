/*
 * Opcode attribute tables for the instruction decoder (vmm/insn.c): for
 * each opcode of the one-byte and 0F maps, which of ModRM and the
 * immediate kinds follow it, and where it is undefined. Internal to the
 * decoder; see vmm/insn.h for the interface.
 */
#ifndef PV_VMM_INSN_ATTR_H
#define PV_VMM_INSN_ATTR_H

#include <stdint.h>

#define A_MODRM (1u << 0)  /* a ModRM byte follows */
#define A_MODRM_REG (1u << 1) /* ModRM whose mod is ignored (MOV CRn/DRn) */
#define A_IB (1u << 2)     /* imm8 / rel8 */
#define A_IW (1u << 3)     /* imm16 */
#define A_IZ (1u << 4)     /* imm16 or imm32 by operand size */
#define A_IV (1u << 5)     /* imm16, imm32 or imm64 by operand size */
#define A_RZ (1u << 6)     /* rel16/rel32 by operand size (AMD reading of
                              66 in 64-bit mode; Intel ignores it there) */
#define A_MOFFS (1u << 7)  /* moffs of the address size */
#define A_FAR (1u << 8)    /* ptr16:16 / ptr16:32 */
#define A_GRP3 (1u << 9)   /* immediate only for ModRM.reg 0 and 1 (TEST) */
#define A_NO64 (1u << 10)  /* invalid in 64-bit mode */
#define A_UD (1u << 11)    /* undefined in every mode */
#define A_WIDTH (1u << 12) /* opcode bit 0 picks byte (0) or operand size */
#define A_STRING (1u << 13) /* implicit memory operand(s): string ops, XLAT */

/* Every 0F 38 opcode has ModRM; every 0F 3A opcode has ModRM and imm8. */
#define ATTR_0F38 A_MODRM
#define ATTR_0F3A (A_MODRM | A_IB)

extern const uint16_t insn_attr_1b[256]; /* one-byte map */
extern const uint16_t insn_attr_0f[256]; /* 0F xx (0F 38 / 0F 3A excluded) */

#endif

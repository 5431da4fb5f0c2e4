/*
 * Opcode attribute tables (see vmm/insn_attr.h), written as 16x16 grids
 * indexed by the opcode's high and low nibble, after the opcode maps of
 * the Intel SDM volume 2 appendix A and the AMD APM volume 3 appendix A.
 */
#include "vmm/insn_attr.h"

/* Short names for the grids only. */
#define M A_MODRM
#define MC A_MODRM_REG
#define MW (A_MODRM | A_WIDTH)
#define MWb (A_MODRM | A_WIDTH | A_IB)
#define MWz (A_MODRM | A_WIDTH | A_IZ)
#define MWbX (A_MODRM | A_WIDTH | A_IB | A_NO64)
#define Mb (A_MODRM | A_IB)
#define Mz (A_MODRM | A_IZ)
#define MX (A_MODRM | A_NO64)
#define G3b (A_MODRM | A_WIDTH | A_GRP3 | A_IB)
#define G3z (A_MODRM | A_WIDTH | A_GRP3 | A_IZ)
#define S (A_STRING | A_WIDTH)
#define Ib A_IB
#define IbX (A_IB | A_NO64)
#define Iw A_IW
#define IwIb (A_IW | A_IB)
#define Iz A_IZ
#define Iv A_IV
#define Rz A_RZ
#define Mo A_MOFFS
#define FpX (A_FAR | A_NO64)
#define X A_NO64
#define UD A_UD
#define __ 0u

/* One-byte map. Prefixes, 0F and REX are consumed before this lookup. */
const uint16_t insn_attr_1b[256] = {
/*       0    1    2     3    4    5    6    7    8     9   A    B   C   D   E   F */
/* 0 */ MW,  MW,  MW,   MW,  Ib,  Iz,  X,   X,   MW,   MW, MW,  MW, Ib, Iz, X,  __,
/* 1 */ MW,  MW,  MW,   MW,  Ib,  Iz,  X,   X,   MW,   MW, MW,  MW, Ib, Iz, X,  X,
/* 2 */ MW,  MW,  MW,   MW,  Ib,  Iz,  __,  X,   MW,   MW, MW,  MW, Ib, Iz, __, X,
/* 3 */ MW,  MW,  MW,   MW,  Ib,  Iz,  __,  X,   MW,   MW, MW,  MW, Ib, Iz, __, X,
/* 4 */ __,  __,  __,   __,  __,  __,  __,  __,  __,   __, __,  __, __, __, __, __,
/* 5 */ __,  __,  __,   __,  __,  __,  __,  __,  __,   __, __,  __, __, __, __, __,
/* 6 */ X,   X,   MX,   M,   __,  __,  __,  __,  Iz,   Mz, Ib,  Mb, S,  S,  S,  S,
/* 7 */ Ib,  Ib,  Ib,   Ib,  Ib,  Ib,  Ib,  Ib,  Ib,   Ib, Ib,  Ib, Ib, Ib, Ib, Ib,
/* 8 */ MWb, MWz, MWbX, MWb, MW,  MW,  MW,  MW,  MW,   MW, MW,  MW, M,  M,  M,  M,
/* 9 */ __,  __,  __,   __,  __,  __,  __,  __,  __,   __, FpX, __, __, __, __, __,
/* A */ Mo,  Mo,  Mo,   Mo,  S,   S,   S,   S,   Ib,   Iz, S,   S,  S,  S,  S,  S,
/* B */ Ib,  Ib,  Ib,   Ib,  Ib,  Ib,  Ib,  Ib,  Iv,   Iv, Iv,  Iv, Iv, Iv, Iv, Iv,
/* C */ MWb, MWb, Iw,   __,  MX,  MX,  MWb, MWz, IwIb, __, Iw,  __, __, Ib, X,  __,
/* D */ MW,  MW,  MW,   MW,  IbX, IbX, X,   S,   M,    M,  M,   M,  M,  M,  M,  M,
/* E */ Ib,  Ib,  Ib,   Ib,  Ib,  Ib,  Ib,  Ib,  Rz,   Rz, FpX, Ib, __, __, __, __,
/* F */ __,  __,  __,   __,  __,  __,  G3b, G3z, __,   __, __,  __, __, __, MW, MW,
};

/* Two-byte map (0F xx). 0F 38 and 0F 3A are escapes handled by the caller. */
const uint16_t insn_attr_0f[256] = {
/*       0   1   2   3   4   5   6   7   8   9   A   B   C   D   E   F */
/* 0 */ M,  M,  M,  M,  UD, __, __, __, __, __, UD, __, UD, M,  __, Mb,
/* 1 */ M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,
/* 2 */ MC, MC, MC, MC, UD, UD, UD, UD, M,  M,  M,  M,  M,  M,  M,  M,
/* 3 */ __, __, __, __, __, __, UD, __, UD, UD, UD, UD, UD, UD, UD, UD,
/* 4 */ M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,
/* 5 */ M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,
/* 6 */ M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,
/* 7 */ Mb, Mb, Mb, Mb, M,  M,  M,  __, M,  M,  UD, UD, M,  M,  M,  M,
/* 8 */ Rz, Rz, Rz, Rz, Rz, Rz, Rz, Rz, Rz, Rz, Rz, Rz, Rz, Rz, Rz, Rz,
/* 9 */ M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,
/* A */ __, __, __, M,  Mb, M,  UD, UD, __, __, __, M,  Mb, M,  M,  M,
/* B */ M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  Mb, M,  M,  M,  M,  M,
/* C */ M,  M,  Mb, M,  Mb, Mb, Mb, M,  __, __, __, __, __, __, __, __,
/* D */ M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,
/* E */ M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,
/* F */ M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,  M,
};

/*
 * x86 instruction decoder: length for every one-byte, 0F, 0F 38 and 0F 3A
 * opcode; operands for the MOV family used on MMIO. See vmm/insn.h.
 *
 * Length = legacy prefixes + REX + opcode (1 to 3 bytes) + ModRM + SIB +
 * displacement + immediates. Which of those an opcode has is a property of
 * the opcode alone (plus ModRM.reg for group 3), kept in the attribute
 * tables of vmm/insn_attr.c; the sizes then follow from the operand- and
 * address-size attributes.
 */
#include "vmm/insn.h"

#include <string.h>

#include "vmm/lib/size_mask.h"
#include "vmm/lib/types.h"
#include "vmm/insn_attr.h"

/* Opcodes given meaning beyond their length. */
enum {
    OP_MOVSXD = 0x63, /* ARPL outside 64-bit mode */
    OP_MOV_MR8 = 0x88, OP_MOV_MR = 0x89, OP_MOV_RM8 = 0x8A, OP_MOV_RM = 0x8B,
    OP_LEA = 0x8D,
    OP_MOV_AL_MOFFS = 0xA0, OP_MOV_AX_MOFFS = 0xA1,
    OP_MOV_MOFFS_AL = 0xA2, OP_MOV_MOFFS_AX = 0xA3,
    OP_MOV_MI8 = 0xC6, OP_MOV_MI = 0xC7,
    OP_POP_RM = 0x8F,
    OP_XLAT = 0xD7,
    OP_GRP5 = 0xFF,
    OP_0F_VMREAD = 0x78, /* EXTRQ / INSERTQ ib, ib with 66 / F2 (SSE4a) */
    OP_0F_PREFETCHW = 0x0D, OP_0F_PREFETCH = 0x18, OP_0F_NOP = 0x1F,
    OP_0F_MOVZX8 = 0xB6, OP_0F_MOVZX16 = 0xB7,
    OP_0F_MOVSX8 = 0xBE, OP_0F_MOVSX16 = 0xBF,
};
/* C6/C7 with ModRM F8: XABORT ib / XBEGIN rel; /1../6 are undefined. */
#define MODRM_XABORT_XBEGIN 0xF8u
#define GRP11_MOV 0u
#define GRP3_TEST_LIMIT 2u /* TEST is /0 and its alias /1 */
#define GRP5_CALL 2u
#define GRP5_JMP 4u
#define GRP5_PUSH 6u
#define REX_REG_EXT 8u /* a REX.R/X/B bit adds 8 to a register number */

/* Reading bytes: past 15 is invalid whatever follows, past avail is short. */
struct cursor {
    const uint8_t *bytes;
    size_t avail;
    size_t pos;
};

static int cur_check(const struct cursor *c, size_t n)
{
    if (c->pos + n > INSN_MAX_LEN)
        return -PV_EINVAL;
    if (c->pos + n > c->avail)
        return -PV_ENOENT;
    return 0;
}

static int cur_peek(const struct cursor *c, uint8_t *b)
{
    int rc = cur_check(c, 1);
    if (rc == 0)
        *b = c->bytes[c->pos];
    return rc;
}

/* Little-endian n-byte value, sign-extended from n bytes when n < 8. */
static int cur_take(struct cursor *c, unsigned n, bool sign, uint64_t *v)
{
    int rc = cur_check(c, n);
    if (rc)
        return rc;
    uint64_t x = 0;
    for (unsigned i = 0; i < n; i++)
        x |= (uint64_t)c->bytes[c->pos + i] << (8 * i);
    c->pos += n;
    if (sign && n < 8 && n > 0 && (x >> (8 * n - 1)) & 1)
        x |= ~access_size_mask(n);
    *v = x;
    return 0;
}

/* Prefix bytes; returns false at the first byte that is not one. */
static bool take_prefix(struct insn *in, uint8_t b)
{
    static const struct { uint8_t byte, seg; } segs[] = {
        { INSN_PFX_ES, INSN_SEG_ES }, { INSN_PFX_CS, INSN_SEG_CS },
        { INSN_PFX_SS, INSN_SEG_SS }, { INSN_PFX_DS, INSN_SEG_DS },
        { INSN_PFX_FS, INSN_SEG_FS }, { INSN_PFX_GS, INSN_SEG_GS },
    };
    switch (b) {
    case INSN_PFX_LOCK: in->prefixes |= INSN_P_LOCK; return true;
    case INSN_PFX_REP: in->prefixes |= INSN_P_REP; return true;
    case INSN_PFX_REPNE: in->prefixes |= INSN_P_REPNE; return true;
    case INSN_PFX_OPSIZE: in->prefixes |= INSN_P_OPSIZE; return true;
    case INSN_PFX_ADDRSIZE: in->prefixes |= INSN_P_ADDRSIZE; return true;
    default: break;
    }
    for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
        if (b == segs[i].byte) {
            in->prefixes |= INSN_P_SEG;
            in->seg = segs[i].seg;
            return true;
        }
    }
    return false;
}

static void set_sizes(struct insn *in)
{
    bool p66 = in->prefixes & INSN_P_OPSIZE;
    bool p67 = in->prefixes & INSN_P_ADDRSIZE;
    switch (in->mode) {
    case 64:
        in->opsize = (in->rex & INSN_REX_W) ? 8 : p66 ? 2 : 4;
        in->addrsize = p67 ? 4 : 8;
        break;
    case 32:
        in->opsize = p66 ? 2 : 4;
        in->addrsize = p67 ? 2 : 4;
        break;
    default:
        in->opsize = p66 ? 4 : 2;
        in->addrsize = p67 ? 4 : 2;
        break;
    }
}

/* 16-bit addressing: fixed base/index pairs, no SIB. */
static void decode_mem16(struct insn *in, unsigned mod, unsigned rm)
{
    static const uint8_t base16[8] = { INSN_RBX, INSN_RBX, INSN_RBP, INSN_RBP,
                                       INSN_RSI, INSN_RDI, INSN_RBP, INSN_RBX };
    static const uint8_t index16[8] = { INSN_RSI, INSN_RDI, INSN_RSI, INSN_RDI,
                                        INSN_REG_NONE, INSN_REG_NONE,
                                        INSN_REG_NONE, INSN_REG_NONE };
    in->base = base16[rm];
    in->index = index16[rm];
    if (mod == INSN_MOD_INDIRECT && rm == INSN_RM16_DISP16) {
        in->base = INSN_REG_NONE;
        in->disp_size = 2;
    } else if (mod == INSN_MOD_DISP8) {
        in->disp_size = 1;
    } else if (mod == INSN_MOD_DISP32) {
        in->disp_size = 2;
    }
}

/* 32/64-bit addressing: SIB for rm=100, disp32 / RIP-relative for 00/101. */
static int decode_mem32(struct cursor *c, struct insn *in, unsigned mod,
                        unsigned rm)
{
    unsigned rex_b = (in->rex & INSN_REX_B) ? REX_REG_EXT : 0;
    if (rm == INSN_RM_SIB) {
        uint64_t v;
        int rc = cur_take(c, 1, false, &v);
        if (rc)
            return rc;
        in->has_sib = true;
        in->sib = (uint8_t)v;
        unsigned idx = INSN_SIB_INDEX(in->sib) | ((in->rex & INSN_REX_X) ? REX_REG_EXT : 0);
        in->index = idx == INSN_SIB_NO_INDEX ? INSN_REG_NONE : (uint8_t)idx;
        in->scale = (uint8_t)(1u << INSN_SIB_SCALE(in->sib));
        if (mod == INSN_MOD_INDIRECT && INSN_SIB_BASE(in->sib) == INSN_SIB_NO_BASE) {
            in->base = INSN_REG_NONE;
            in->disp_size = 4;
        } else {
            in->base = (uint8_t)(INSN_SIB_BASE(in->sib) | rex_b);
        }
    } else if (mod == INSN_MOD_INDIRECT && rm == INSN_RM_DISP32) {
        in->base = INSN_REG_NONE;
        in->rip_relative = in->mode == 64;
        in->disp_size = 4;
    } else {
        in->base = (uint8_t)(rm | rex_b);
    }
    if (mod == INSN_MOD_DISP8)
        in->disp_size = 1;
    else if (mod == INSN_MOD_DISP32)
        in->disp_size = 4;
    return 0;
}

static int decode_modrm(struct cursor *c, struct insn *in, uint16_t attr)
{
    uint64_t v;
    int rc = cur_take(c, 1, false, &v);
    if (rc)
        return rc;
    in->has_modrm = true;
    in->modrm = (uint8_t)v;
    unsigned mod = INSN_MODRM_MOD(in->modrm), rm = INSN_MODRM_RM(in->modrm);
    if (mod == INSN_MOD_REG || (attr & A_MODRM_REG))
        return 0;
    in->mem = true;
    if (in->addrsize == 2)
        decode_mem16(in, mod, rm);
    else if ((rc = decode_mem32(c, in, mod, rm)))
        return rc;
    if (in->disp_size == 0)
        return 0;
    rc = cur_take(c, in->disp_size, true, &v);
    in->disp = (int64_t)v;
    return rc;
}

static int decode_imm(struct cursor *c, struct insn *in, uint16_t attr)
{
    unsigned z = in->opsize == 2 ? 2 : 4;
    unsigned first = 0, second = 0;
    uint64_t v;
    int rc;

    if ((attr & A_GRP3) && INSN_MODRM_REG(in->modrm) >= GRP3_TEST_LIMIT)
        attr &= (uint16_t)~(A_IB | A_IZ);
    if (attr & A_MOFFS) {
        rc = cur_take(c, in->addrsize, false, &v);
        if (rc)
            return rc;
        in->mem = in->moffs = true;
        in->disp = (int64_t)v;
        in->disp_size = in->addrsize;
        return 0;
    }
    if (attr & A_IW)
        first = 2;
    if (attr & A_IZ)
        first = z;
    if (attr & A_IV)
        first = in->opsize;
    if (attr & A_RZ)
        first = z;
    if (attr & A_FAR) {
        first = z;
        second = 2;
    }
    if (in->map == INSN_MAP_0F && in->opcode == OP_0F_VMREAD &&
        (in->prefixes & (INSN_P_OPSIZE | INSN_P_REPNE)))
        first = second = 1;
    if (attr & A_IB) {
        if (first)
            second = 1; /* ENTER iw, ib */
        else
            first = 1;
    }
    if (first) {
        rc = cur_take(c, first, true, &in->imm);
        if (rc)
            return rc;
    }
    if (second) {
        rc = cur_take(c, second, false, &v);
        if (rc)
            return rc;
        in->imm2 = (uint16_t)v;
    }
    in->imm_size = (uint8_t)(first + second);
    return 0;
}

/* VEX (C4/C5), EVEX (62) and XOP (8F) reuse opcodes; tell them apart. */
static int check_reused(const struct cursor *c, const struct insn *in,
                        uint8_t op)
{
    uint8_t next;
    int rc;
    if (op != INSN_VEX3 && op != INSN_VEX2 && op != INSN_EVEX && op != INSN_XOP)
        return 0;
    if (in->mode == 64 && op != INSN_XOP)
        return -PV_EINVAL;
    rc = cur_peek(c, &next);
    if (rc)
        return rc;
    if (op == INSN_XOP)
        return INSN_MODRM_REG(next) != 0 ? -PV_EINVAL : 0;
    return INSN_MODRM_MOD(next) == INSN_MOD_REG ? -PV_EINVAL : 0;
}

/*
 * The emulatable forms. Sizes are bytes, or SZ_OP for the operand size, or
 * SZ_MOVSXD (4 with REX.W, else the operand size); reg is a fixed register
 * or REG_MODRM for ModRM.reg extended by REX.R.
 */
#define SZ_OP 0u
#define SZ_MOVSXD 0xFFu
#define REG_MODRM 0xFEu
static const struct mov_form {
    uint8_t map, opcode, kind, size, dst, reg, ext;
} mov_forms[] = {
    { INSN_MAP_1B, OP_MOV_MR8, INSN_STORE_REG, 1, 1, REG_MODRM, INSN_EXT_NONE },
    { INSN_MAP_1B, OP_MOV_MR, INSN_STORE_REG, SZ_OP, SZ_OP, REG_MODRM, INSN_EXT_NONE },
    { INSN_MAP_1B, OP_MOV_RM8, INSN_LOAD, 1, 1, REG_MODRM, INSN_EXT_NONE },
    { INSN_MAP_1B, OP_MOV_RM, INSN_LOAD, SZ_OP, SZ_OP, REG_MODRM, INSN_EXT_NONE },
    { INSN_MAP_1B, OP_MOV_AL_MOFFS, INSN_LOAD, 1, 1, INSN_RAX, INSN_EXT_NONE },
    { INSN_MAP_1B, OP_MOV_AX_MOFFS, INSN_LOAD, SZ_OP, SZ_OP, INSN_RAX, INSN_EXT_NONE },
    { INSN_MAP_1B, OP_MOV_MOFFS_AL, INSN_STORE_REG, 1, 1, INSN_RAX, INSN_EXT_NONE },
    { INSN_MAP_1B, OP_MOV_MOFFS_AX, INSN_STORE_REG, SZ_OP, SZ_OP, INSN_RAX, INSN_EXT_NONE },
    { INSN_MAP_1B, OP_MOV_MI8, INSN_STORE_IMM, 1, 1, INSN_REG_NONE, INSN_EXT_NONE },
    { INSN_MAP_1B, OP_MOV_MI, INSN_STORE_IMM, SZ_OP, SZ_OP, INSN_REG_NONE, INSN_EXT_NONE },
    { INSN_MAP_1B, OP_MOVSXD, INSN_LOAD, SZ_MOVSXD, SZ_OP, REG_MODRM, INSN_EXT_SIGN },
    { INSN_MAP_0F, OP_0F_MOVZX8, INSN_LOAD, 1, SZ_OP, REG_MODRM, INSN_EXT_ZERO },
    { INSN_MAP_0F, OP_0F_MOVZX16, INSN_LOAD, 2, SZ_OP, REG_MODRM, INSN_EXT_ZERO },
    { INSN_MAP_0F, OP_0F_MOVSX8, INSN_LOAD, 1, SZ_OP, REG_MODRM, INSN_EXT_SIGN },
    { INSN_MAP_0F, OP_0F_MOVSX16, INSN_LOAD, 2, SZ_OP, REG_MODRM, INSN_EXT_SIGN },
};

static void set_access(struct insn *in, const struct mov_form *f)
{
    unsigned rex_r = (in->rex & INSN_REX_R) ? REX_REG_EXT : 0;
    unsigned reg = f->reg == REG_MODRM ? INSN_MODRM_REG(in->modrm) | rex_r : f->reg;
    in->kind = f->kind;
    in->size = f->size == SZ_OP ? in->opsize
             : f->size == SZ_MOVSXD ? ((in->rex & INSN_REX_W) ? 4 : in->opsize)
             : f->size;
    in->dst_size = f->dst == SZ_OP ? in->opsize : f->dst;
    in->reg = (uint8_t)reg;
    in->ext = f->ext;
    /* Without any REX, byte registers 4..7 are AH, CH, DH, BH. */
    in->reg_high8 = in->dst_size == 1 && f->reg == REG_MODRM && !in->rex &&
                    reg >= INSN_RSP && reg <= INSN_RDI;
}

/* Memory operand width of the one-byte-map instructions; 0 if unknown. */
static unsigned other_size_1b(const struct insn *in, uint16_t attr)
{
    uint8_t op = in->opcode;
    unsigned greg = INSN_MODRM_REG(in->modrm);
    if (in->map != INSN_MAP_1B)
        return 0;
    if (op == OP_XLAT)
        return 1;
    /* CALL, JMP and PUSH through memory, POP to memory: 64-bit default. */
    if (in->mode == 64 && in->opsize == 4 &&
        ((op == OP_GRP5 && (greg == GRP5_CALL || greg == GRP5_JMP ||
                            greg == GRP5_PUSH)) ||
         op == OP_POP_RM))
        return 8;
    if (op == OP_POP_RM)
        return in->opsize;
    if (!(attr & A_WIDTH))
        return 0;
    return (op & 1) ? in->opsize : 1;
}

static bool is_hint(const struct insn *in)
{
    return in->map == INSN_MAP_0F &&
           (in->opcode == OP_0F_PREFETCHW || in->opcode == OP_0F_PREFETCH ||
            in->opcode == OP_0F_NOP);
}

/* Set the emulation view; -PV_EINVAL for forms the CPU would #UD. */
static int classify(struct insn *in, uint16_t attr)
{
    bool map1 = in->map == INSN_MAP_1B;
    uint8_t op = in->opcode;

    if (map1 && (op == OP_MOV_MI8 || op == OP_MOV_MI) &&
        INSN_MODRM_REG(in->modrm) != GRP11_MOV && in->modrm != MODRM_XABORT_XBEGIN)
        return -PV_EINVAL;
    if (map1 && op == OP_LEA)
        return in->mem ? 0 : -PV_EINVAL; /* an address, no access */
    if (!in->mem) {
        if (attr & A_STRING) {
            in->kind = INSN_OTHER_MEM;
            in->size = (uint8_t)other_size_1b(in, attr);
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof(mov_forms) / sizeof(mov_forms[0]); i++) {
        const struct mov_form *f = &mov_forms[i];
        if (f->map != in->map || f->opcode != op)
            continue;
        if (f->size == SZ_MOVSXD && in->mode != 64)
            break; /* ARPL */
        set_access(in, f);
        return (in->prefixes & INSN_P_LOCK) ? -PV_EINVAL : 0;
    }
    if (is_hint(in))
        return 0; /* prefetch / NOP: never access or fault */
    in->kind = INSN_OTHER_MEM;
    in->size = (uint8_t)other_size_1b(in, attr);
    return 0;
}

int insn_decode(const uint8_t *bytes, size_t avail, int mode, struct insn *out)
{
    struct cursor c = { bytes, avail, 0 };
    struct insn in;
    uint16_t attr;
    uint8_t b;
    int rc;

    if (!bytes || !out || (mode != 16 && mode != 32 && mode != 64))
        return -PV_EINVAL;
    memset(&in, 0, sizeof(in));
    in.mode = (uint8_t)mode;
    in.base = in.index = INSN_REG_NONE;
    in.scale = 1;

    /* A REX counts only as the last prefix before the opcode. */
    for (;;) {
        if ((rc = cur_peek(&c, &b)))
            return rc;
        if (take_prefix(&in, b))
            in.rex = 0;
        else if (mode == 64 && (b & INSN_REX_MASK) == INSN_REX_BASE)
            in.rex = b;
        else
            break;
        c.pos++;
    }
    set_sizes(&in);

    c.pos++;
    in.map = INSN_MAP_1B;
    in.opcode = b;
    if (b == INSN_ESC_0F) {
        if ((rc = cur_peek(&c, &b)))
            return rc;
        c.pos++;
        in.map = INSN_MAP_0F;
        if (b == INSN_ESC_0F38 || b == INSN_ESC_0F3A) {
            in.map = b == INSN_ESC_0F38 ? INSN_MAP_0F38 : INSN_MAP_0F3A;
            if ((rc = cur_peek(&c, &b)))
                return rc;
            c.pos++;
        }
        in.opcode = b;
    } else if ((rc = check_reused(&c, &in, b))) {
        return rc;
    }

    switch (in.map) {
    case INSN_MAP_1B: attr = insn_attr_1b[in.opcode]; break;
    case INSN_MAP_0F: attr = insn_attr_0f[in.opcode]; break;
    case INSN_MAP_0F38: attr = ATTR_0F38; break;
    default: attr = ATTR_0F3A; break;
    }
    if ((attr & A_UD) || (mode == 64 && (attr & A_NO64)))
        return -PV_EINVAL;
    if ((attr & (A_MODRM | A_MODRM_REG)) && (rc = decode_modrm(&c, &in, attr)))
        return rc;
    if ((rc = decode_imm(&c, &in, attr)))
        return rc;
    in.length = (uint8_t)c.pos;

    if ((rc = classify(&in, attr)))
        return rc;
    *out = in;
    return 0;
}

uint64_t insn_extend(uint64_t raw, const struct insn *in)
{
    uint64_t v = raw & access_size_mask(in->size);
    if (in->ext == INSN_EXT_SIGN && in->size < 8 && in->size > 0 &&
        ((v >> (8 * in->size - 1)) & 1))
        v |= ~access_size_mask(in->size);
    return v & access_size_mask(in->dst_size);
}

uint64_t insn_merge_reg(uint64_t old, uint64_t value, const struct insn *in)
{
    const uint64_t byte = access_size_mask(1);
    if (in->reg_high8)
        return (old & ~(byte << 8)) | ((value & byte) << 8);
    switch (in->dst_size) {
    case 1:
    case 2:
        return (old & ~access_size_mask(in->dst_size)) |
               (value & access_size_mask(in->dst_size));
    case 4:
        return value & access_size_mask(4);
    default:
        return value;
    }
}

uint64_t insn_store_value(uint64_t reg_value, const struct insn *in)
{
    switch (in->kind) {
    case INSN_STORE_REG:
        if (in->reg_high8)
            reg_value >>= 8;
        return reg_value & access_size_mask(in->size);
    case INSN_STORE_IMM:
        return in->imm & access_size_mask(in->size);
    default:
        return 0;
    }
}

const char *insn_kind_name(unsigned kind)
{
    static const char *const names[] = {
        [INSN_NO_MEM] = "no-mem", [INSN_LOAD] = "load",
        [INSN_STORE_REG] = "store-reg", [INSN_STORE_IMM] = "store-imm",
        [INSN_OTHER_MEM] = "other-mem",
    };
    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

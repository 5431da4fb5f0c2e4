/*
 * libFuzzer target for the x86 instruction decoder behind open-bus and MMIO
 * emulation (vmm/insn.c). The bytes come from guest memory at a faulting
 * RIP, so they are whatever a hostile guest chooses. Input: one byte that
 * picks the mode (16/32/64) and then the instruction bytes, copied into a
 * heap buffer of exactly that size so that AddressSanitizer catches any
 * read past what the decoder was given.
 *
 * Checked for every input:
 *   - a success has 1 <= length <= min(15, avail), a known kind, sizes the
 *     header promises, a register number below 16;
 *   - the same bytes decode the same way when more bytes follow them (the
 *     decoder never looks past the instruction's end);
 *   - the instruction cut one byte short asks for more (-PV_ENOENT): a
 *     truncated instruction is never decoded as a shorter one;
 *   - the emulation helpers stay inside the access and register widths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/insn.h"
#include "vmm/lib/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const uint8_t *b, size_t n, int mode)
{
    fprintf(stderr, "fuzz_insn: %s (mode %d, %zu bytes:", what, mode, n);
    for (size_t i = 0; i < n && i < INSN_MAX_LEN + 1; i++)
        fprintf(stderr, " %02x", b[i]);
    fprintf(stderr, ")\n");
    abort();
}

static bool access_size(unsigned s) { return s == 1 || s == 2 || s == 4 || s == 8; }

static void check_fields(const struct insn *in, size_t avail, const uint8_t *b, int mode)
{
    if (in->length == 0 || in->length > INSN_MAX_LEN || in->length > avail)
        die("length out of range", b, avail, mode);
    if (in->mode != mode)
        die("mode not recorded", b, avail, mode);
    if (in->opsize != 2 && in->opsize != 4 && in->opsize != 8)
        die("operand size not 2/4/8", b, avail, mode);
    if (in->addrsize != 2 && in->addrsize != 4 && in->addrsize != 8)
        die("address size not 2/4/8", b, avail, mode);
    if (in->map < INSN_MAP_1B || in->map > INSN_MAP_0F3A)
        die("unknown opcode map", b, avail, mode);
    if (in->kind > INSN_OTHER_MEM)
        die("unknown kind", b, avail, mode);
    if (in->size != 0 && !access_size(in->size))
        die("access size not 0/1/2/4/8", b, avail, mode);
    if (in->mem && in->scale != 1 && in->scale != 2 && in->scale != 4 && in->scale != 8)
        die("scale not 1/2/4/8", b, avail, mode);
    if (mode != 64 && (in->rex || in->rip_relative))
        die("REX or RIP-relative outside 64-bit mode", b, avail, mode);
    if (in->kind == INSN_LOAD || in->kind == INSN_STORE_REG || in->kind == INSN_STORE_IMM) {
        if (!in->mem || !access_size(in->size))
            die("emulatable access without a memory operand of 1/2/4/8 bytes", b, avail, mode);
        if (in->kind != INSN_STORE_IMM && in->reg > INSN_R15)
            die("register number above 15", b, avail, mode);
        if (in->reg_high8 && (in->reg < INSN_RSP || in->reg > INSN_RDI || in->rex))
            die("AH..BH with a register other than 4..7 or with REX", b, avail, mode);
    }
    if (in->kind == INSN_LOAD) {
        if (!access_size(in->dst_size) || in->dst_size < in->size)
            die("load writes fewer register bytes than it reads", b, avail, mode);
        uint64_t v = insn_extend(UINT64_MAX, in);
        if (v & ~insn_size_mask(in->dst_size))
            die("extended value wider than the destination", b, avail, mode);
        uint64_t merged = insn_merge_reg(0x0123456789ABCDEFull, v, in);
        if (in->dst_size == 8 && merged != v)
            die("64-bit load did not replace the register", b, avail, mode);
    }
    if (in->kind == INSN_STORE_REG || in->kind == INSN_STORE_IMM) {
        uint64_t v = insn_store_value(UINT64_MAX, in);
        if (v & ~insn_size_mask(in->size))
            die("stored value wider than the access", b, avail, mode);
    }
    if (insn_kind_name(in->kind) == NULL)
        die("kind without a name", b, avail, mode);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int modes[] = { 64, 32, 16, 64 };
    if (size < 1)
        return 0;
    int mode = modes[data[0] & 3];
    data++;
    size--;
    if (size > 2 * INSN_MAX_LEN)
        size = 2 * INSN_MAX_LEN;

    uint8_t *exact = malloc(size ? size : 1);
    if (!exact)
        abort();
    memcpy(exact, data, size);
    struct insn in;
    int rc = insn_decode(exact, size, mode, &in);
    if (rc != 0 && rc != -PV_ENOENT && rc != -PV_EINVAL)
        die("unexpected return code", exact, size, mode);
    if (rc == -PV_ENOENT && size >= INSN_MAX_LEN)
        die("asks for more bytes with 15 available", exact, size, mode);
    if (rc == 0) {
        check_fields(&in, size, exact, mode);

        /* Exactly the instruction's bytes: the same decode. */
        uint8_t *just = malloc(in.length);
        if (!just)
            abort();
        memcpy(just, exact, in.length);
        struct insn again;
        if (insn_decode(just, in.length, mode, &again) != 0 || memcmp(&again, &in, sizeof(in)))
            die("decode changes when the bytes after the instruction are cut", exact, size,
                mode);
        /* One byte short: must ask for more, never decode something shorter. */
        if (in.length > 1) {
            struct insn cut;
            int rc2 = insn_decode(just, in.length - 1u, mode, &cut);
            if (rc2 != -PV_ENOENT)
                die("truncated instruction not reported as truncated", exact, size, mode);
        }
        free(just);
    }
    free(exact);
    return 0;
}

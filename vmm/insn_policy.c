/* Guest instruction policy, the pure part: which bytes are an SVM
 * instruction; see insn_policy.h. */
#include "vmm/insn_policy.h"

#define OPC_ESCAPE 0x0F
#define OPC_GROUP7 0x01
#define MODRM_SVM_FIRST 0xD8   /* VMRUN; VMMCALL .. INVLPGA follow */
#define MODRM_SVM_LAST 0xDF
#define REX_FIRST 0x40
#define REX_LAST 0x4F
#define INSN_MAX 15

static const char *const svm_names[] = {
    "VMRUN", "VMMCALL", "VMLOAD", "VMSAVE", "STGI", "CLGI", "SKINIT", "INVLPGA",
};

static int is_legacy_prefix(uint8_t b)
{
    switch (b) {
    case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65: /* segments */
    case 0x66: case 0x67: case 0xF0: case 0xF2: case 0xF3:
        return 1;
    default:
        return 0;
    }
}

const char *insn_policy_svm_name(const uint8_t *bytes, size_t len)
{
    size_t i = 0;
    if (len > INSN_MAX)
        len = INSN_MAX;
    /* A REX not directly before the opcode is ignored by the CPU, not an
     * error: the instruction is still the one that follows. */
    while (i < len && (is_legacy_prefix(bytes[i]) ||
                       (bytes[i] >= REX_FIRST && bytes[i] <= REX_LAST)))
        i++;
    if (i + 3 > len || bytes[i] != OPC_ESCAPE || bytes[i + 1] != OPC_GROUP7)
        return NULL;
    uint8_t modrm = bytes[i + 2];
    if (modrm < MODRM_SVM_FIRST || modrm > MODRM_SVM_LAST)
        return NULL;
    return svm_names[modrm - MODRM_SVM_FIRST];
}

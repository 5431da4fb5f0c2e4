/* Guest instruction policy: the #GP-to-#UD rule for SVM instructions; see
 * insn_policy.h. */
#include "vmm/insn_policy.h"
#include "vmm/guest_walk.h"
#include "vmm/lib/log.h"
#include "vmm/vcpu.h"

#define OPC_ESCAPE 0x0F
#define OPC_GROUP7 0x01
#define MODRM_SVM_FIRST 0xD8   /* VMRUN; VMMCALL .. INVLPGA follow */
#define MODRM_SVM_LAST 0xDF
#define REX_FIRST 0x40
#define REX_LAST 0x4F
#define INSN_MAX 15
#define EXC_UD 6
#define EXC_GP 13
#define LOG_LINES 16

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
    while (i < len && is_legacy_prefix(bytes[i]))
        i++;
    if (i < len && bytes[i] >= REX_FIRST && bytes[i] <= REX_LAST)
        i++; /* REX must come last, just before the opcode */
    if (i + 3 > len || bytes[i] != OPC_ESCAPE || bytes[i + 1] != OPC_GROUP7)
        return NULL;
    uint8_t modrm = bytes[i + 2];
    if (modrm < MODRM_SVM_FIRST || modrm > MODRM_SVM_LAST)
        return NULL;
    return svm_names[modrm - MODRM_SVM_FIRST];
}

static int read_phys(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    return mm_read(ctx, gpa, dst, len);
}

static uint64_t turned_to_ud;

void insn_policy_gp(struct vcpu *v, const struct vm_exit *e)
{
    uint64_t cr0, cr3, cr4, efer;
    uint8_t bytes[INSN_MAX];
    v->ops->get_paging(v, &cr0, &cr3, &cr4, &efer);
    int got = guest_fetch(cr0, cr3, cr4, efer, e->rip, read_phys, v->mm, bytes, sizeof(bytes));
    const char *name = got > 0 ? insn_policy_svm_name(bytes, (size_t)got) : NULL;
    if (!name) {
        /* Not ours (or unreadable: the guest's own #GP stands either way). */
        v->ops->inject_exception(v, EXC_GP, true, e->u.exc.error);
        return;
    }
    if (turned_to_ud++ < LOG_LINES)
        pv_warn("insn: guest executed %s at rip 0x%llx: #UD (no SVM for the guest)", name,
                (unsigned long long)e->rip);
    v->ops->inject_exception(v, EXC_UD, false, 0);
}

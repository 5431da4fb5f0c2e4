/* Guest instruction policy at a #GP exit: an SVM instruction's #GP
 * becomes #UD; see insn_policy.h. */
#include "vmm/arch/exception.h"
#include "vmm/guest_walk.h"
#include "vmm/insn_policy.h"
#include "vmm/lib/log.h"
#include "vmm/vcpu.h"

#define INSN_MAX 15
#define LOG_LINES 16

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

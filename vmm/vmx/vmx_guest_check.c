/* Guest-state VM-entry checks as a diagnostic; see vmx_guest_check.h. */
#include "vmm/vmx/vmx_guest_check.h"
#include "vmm/lib/fmt.h"
#include "vmm/vmx/vmx_cr.h"

#include <stdarg.h>
#include <stdbool.h>

#define CR4_PCIDE (1ull << 17)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define RF_FIXED1 (1ull << 1)
#define RF_IF (1ull << 9)
#define RF_VM (1ull << 17)
#define RF_RESERVED 0xFFFFFFFFFFC08028ull   /* 63:22, 15, 5, 3 */
#define DR7_RESERVED 0xFFFFFFFF00000000ull
#define PENDING_DBG_RESERVED 0xFFFFFFFFFFFEAFF0ull /* 63:17, 15, 13, 11:4 */
#define SEL_TI (1u << 2)
#define SEL_RPL 3u
#define LIMIT_PAGE_LOW 0xFFFu          /* all ones when G may be 1 */
#define LIMIT_HIGH_BITS 0xFFF00000u    /* any one needs G = 1 */
#define DTR_LIMIT_MAX 0xFFFFu
#define HIGH32 0xFFFFFFFF00000000ull
#define CANONICAL_BITS 48
#define PAT_ENTRIES 8
#define PAT_ENTRY_BITS 8
#define PAT_ENTRY_MASK 0xFFull
#define PAT_VALID_TYPES ((1u << 0) | (1u << 1) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7))
#define TYPE_CODE_EXEC_ONLY_ACC 9u
#define TYPE_CODE_READ_ACC 11u
#define TYPE_CODE_CONF_ACC 13u
#define TYPE_CODE_CONF_READ_ACC 15u
#define TYPE_DATA_RW_ACC 3u
#define TYPE_DATA_RW_DOWN_ACC 7u
#define TYPE_TSS32_BUSY 11u   /* == 64-bit busy TSS in IA-32e mode */
#define TYPE_TSS16_BUSY 3u

struct checker {
    void (*emit)(void *ctx, const char *line);
    void *ctx;
    int n;
};

__attribute__((format(printf, 2, 3))) static void fail(struct checker *c, const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    pv_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    c->n++;
    if (c->emit)
        c->emit(c->ctx, line);
}

static bool canonical(uint64_t a)
{
    int64_t s = (int64_t)(a << (64 - CANONICAL_BITS)) >> (64 - CANONICAL_BITS);
    return (uint64_t)s == a;
}

static const char *const seg_names[VMX_SEG_COUNT] = {
    "ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR",
};

static unsigned ar_type(uint32_t ar) { return ar & VMX_AR_TYPE_MASK; }
static unsigned ar_dpl(uint32_t ar) { return (ar & VMX_AR_DPL_MASK) >> VMX_AR_DPL_SHIFT; }

/* Present, reserved bits clear, limit consistent with granularity. */
static void check_common(struct checker *c, int i, const struct vmx_seg_state *s)
{
    const char *n = seg_names[i];
    if (!(s->ar & VMX_AR_P))
        fail(c, "%s access rights 0x%x: not present", n, s->ar);
    if (s->ar & VMX_AR_RESERVED)
        fail(c, "%s access rights 0x%x: reserved bits set", n, s->ar);
    if ((s->limit & LIMIT_PAGE_LOW) != LIMIT_PAGE_LOW && (s->ar & VMX_AR_G))
        fail(c, "%s limit 0x%x with G=1: bits 11:0 must be all ones", n, s->limit);
    if ((s->limit & LIMIT_HIGH_BITS) && !(s->ar & VMX_AR_G))
        fail(c, "%s limit 0x%x with G=0: bits 31:20 must be zero", n, s->limit);
}

static void check_system_segs(struct checker *c, const struct vmx_guest_snapshot *g, bool ia32e)
{
    const struct vmx_seg_state *tr = &g->seg[VMX_SEG_TR], *ldtr = &g->seg[VMX_SEG_LDTR];
    if (tr->sel & SEL_TI)
        fail(c, "TR selector 0x%x: TI set", tr->sel);
    if (tr->ar & VMX_AR_UNUSABLE)
        fail(c, "TR access rights 0x%x: TR must be usable", tr->ar);
    unsigned t = ar_type(tr->ar);
    if (t != TYPE_TSS32_BUSY && (ia32e || t != TYPE_TSS16_BUSY))
        fail(c, "TR access rights 0x%x: type %u is not a busy %sTSS", tr->ar, t,
             ia32e ? "64-bit " : "");
    if (tr->ar & VMX_AR_S)
        fail(c, "TR access rights 0x%x: S set (must be a system segment)", tr->ar);
    check_common(c, VMX_SEG_TR, tr);
    if (!canonical(tr->base))
        fail(c, "TR base 0x%llx not canonical", (unsigned long long)tr->base);
    if (ldtr->ar & VMX_AR_UNUSABLE)
        return;
    if (ldtr->sel & SEL_TI)
        fail(c, "LDTR selector 0x%x: TI set", ldtr->sel);
    if (ar_type(ldtr->ar) != VMX_AR_TYPE_LDT || (ldtr->ar & VMX_AR_S))
        fail(c, "LDTR access rights 0x%x: not an LDT", ldtr->ar);
    check_common(c, VMX_SEG_LDTR, ldtr);
    if (!canonical(ldtr->base))
        fail(c, "LDTR base 0x%llx not canonical", (unsigned long long)ldtr->base);
}

static void check_code_stack(struct checker *c, const struct vmx_guest_snapshot *g, bool ia32e,
                             bool unrestricted)
{
    const struct vmx_seg_state *cs = &g->seg[VMX_SEG_CS], *ss = &g->seg[VMX_SEG_SS];
    unsigned t = ar_type(cs->ar);
    bool ok_type = t == TYPE_CODE_EXEC_ONLY_ACC || t == TYPE_CODE_READ_ACC ||
                   t == TYPE_CODE_CONF_ACC || t == TYPE_CODE_CONF_READ_ACC ||
                   (unrestricted && t == TYPE_DATA_RW_ACC);
    if (cs->ar & VMX_AR_UNUSABLE)
        fail(c, "CS access rights 0x%x: CS must be usable", cs->ar);
    if (!ok_type)
        fail(c, "CS access rights 0x%x: type %u is not an accessed code segment", cs->ar, t);
    if (!(cs->ar & VMX_AR_S))
        fail(c, "CS access rights 0x%x: S clear", cs->ar);
    if ((t == TYPE_CODE_EXEC_ONLY_ACC || t == TYPE_CODE_READ_ACC) &&
        !(ss->ar & VMX_AR_UNUSABLE) && ar_dpl(cs->ar) != ar_dpl(ss->ar))
        fail(c, "CS DPL %u differs from SS DPL %u", ar_dpl(cs->ar), ar_dpl(ss->ar));
    if (ia32e && (cs->ar & VMX_AR_L) && (cs->ar & VMX_AR_DB))
        fail(c, "CS access rights 0x%x: L and D both set in IA-32e mode", cs->ar);
    check_common(c, VMX_SEG_CS, cs);
    if (cs->base & HIGH32)
        fail(c, "CS base 0x%llx above 4 GiB", (unsigned long long)cs->base);
    if (!unrestricted && (ss->sel & SEL_RPL) != (cs->sel & SEL_RPL))
        fail(c, "SS selector RPL %u differs from CS RPL %u", ss->sel & SEL_RPL,
             cs->sel & SEL_RPL);
    if (ss->ar & VMX_AR_UNUSABLE)
        return;
    t = ar_type(ss->ar);
    if (t != TYPE_DATA_RW_ACC && t != TYPE_DATA_RW_DOWN_ACC)
        fail(c, "SS access rights 0x%x: type %u is not a writable accessed data segment",
             ss->ar, t);
    if (!unrestricted && ar_dpl(ss->ar) != (ss->sel & SEL_RPL))
        fail(c, "SS DPL %u differs from its RPL %u", ar_dpl(ss->ar), ss->sel & SEL_RPL);
    check_common(c, VMX_SEG_SS, ss);
    if (ss->base & HIGH32)
        fail(c, "SS base 0x%llx above 4 GiB", (unsigned long long)ss->base);
}

static void check_data_segs(struct checker *c, const struct vmx_guest_snapshot *g)
{
    static const int data[] = { VMX_SEG_DS, VMX_SEG_ES, VMX_SEG_FS, VMX_SEG_GS };
    for (unsigned k = 0; k < sizeof(data) / sizeof(data[0]); k++) {
        int i = data[k];
        const struct vmx_seg_state *s = &g->seg[i];
        if (s->ar & VMX_AR_UNUSABLE)
            continue;
        if (!(s->ar & VMX_AR_TYPE_ACCESSED))
            fail(c, "%s access rights 0x%x: accessed bit clear", seg_names[i], s->ar);
        if ((s->ar & VMX_AR_TYPE_CODE) && !(s->ar & VMX_AR_TYPE_RW))
            fail(c, "%s access rights 0x%x: execute-only code", seg_names[i], s->ar);
        if (!(s->ar & VMX_AR_S))
            fail(c, "%s access rights 0x%x: S clear", seg_names[i], s->ar);
        check_common(c, i, s);
        if ((i == VMX_SEG_FS || i == VMX_SEG_GS) ? !canonical(s->base) : (s->base & HIGH32) != 0)
            fail(c, "%s base 0x%llx invalid", seg_names[i], (unsigned long long)s->base);
    }
}

static void check_control_regs(struct checker *c, const struct vmx_guest_snapshot *g, bool ia32e,
                               bool unrestricted)
{
    struct vmx_cr_rule r0, r4;
    vmx_cr0_rule(g->cr0_fixed0, g->cr0_fixed1, unrestricted, &r0);
    vmx_cr4_rule(g->cr4_fixed0, g->cr4_fixed1, &r4);
    if ((g->cr0 & r0.must1) != r0.must1 || (g->cr0 & r0.must0))
        fail(c, "CR0 0x%llx breaks IA32_VMX_CR0_FIXED0/1 (0x%llx/0x%llx)",
             (unsigned long long)g->cr0, (unsigned long long)g->cr0_fixed0,
             (unsigned long long)g->cr0_fixed1);
    if ((g->cr4 & r4.must1) != r4.must1 || (g->cr4 & r4.must0))
        fail(c, "CR4 0x%llx breaks IA32_VMX_CR4_FIXED0/1 (0x%llx/0x%llx)",
             (unsigned long long)g->cr4, (unsigned long long)g->cr4_fixed0,
             (unsigned long long)g->cr4_fixed1);
    if ((g->cr0 & VMX_CR0_PG) && !(g->cr0 & VMX_CR0_PE))
        fail(c, "CR0 0x%llx: PG without PE", (unsigned long long)g->cr0);
    if (ia32e && (!(g->cr0 & VMX_CR0_PG) || !(g->cr4 & VMX_CR4_PAE)))
        fail(c, "IA-32e mode guest without CR0.PG and CR4.PAE");
    if (!ia32e && (g->cr4 & CR4_PCIDE))
        fail(c, "CR4.PCIDE set outside IA-32e mode");
    if ((g->entry_ctls & VMX_ENTRY_LOAD_DEBUG) && (g->dr7 & DR7_RESERVED))
        fail(c, "DR7 0x%llx: bits 63:32 set", (unsigned long long)g->dr7);
    if (!canonical(g->sysenter_esp) || !canonical(g->sysenter_eip))
        fail(c, "SYSENTER_ESP/EIP not canonical");
    if (g->entry_ctls & VMX_ENTRY_LOAD_PAT) {
        for (int i = 0; i < PAT_ENTRIES; i++) {
            unsigned type = (unsigned)((g->pat >> (i * PAT_ENTRY_BITS)) & PAT_ENTRY_MASK);
            if (type > PAT_ENTRY_BITS - 1 || !(PAT_VALID_TYPES & (1u << type))) {
                fail(c, "IA32_PAT 0x%llx: entry %d has invalid type %u",
                     (unsigned long long)g->pat, i, type);
                break;
            }
        }
    }
    if (g->entry_ctls & VMX_ENTRY_LOAD_EFER) {
        bool lma = (g->efer & EFER_LMA) != 0, lme = (g->efer & EFER_LME) != 0;
        if (lma != ia32e)
            fail(c, "EFER 0x%llx: LMA differs from the IA-32e mode guest control",
                 (unsigned long long)g->efer);
        if ((g->cr0 & VMX_CR0_PG) && lma != lme)
            fail(c, "EFER 0x%llx: LME differs from LMA with paging on",
                 (unsigned long long)g->efer);
    }
}

static void check_registers(struct checker *c, const struct vmx_guest_snapshot *g, bool ia32e)
{
    if (!canonical(g->gdtr_base) || !canonical(g->idtr_base))
        fail(c, "GDTR/IDTR base not canonical");
    if (g->gdtr_limit > DTR_LIMIT_MAX || g->idtr_limit > DTR_LIMIT_MAX)
        fail(c, "GDTR/IDTR limit above 0xFFFF");
    bool long_cs = ia32e && (g->seg[VMX_SEG_CS].ar & VMX_AR_L);
    if (long_cs ? !canonical(g->rip) : (g->rip & HIGH32) != 0)
        fail(c, "RIP 0x%llx invalid for the code segment", (unsigned long long)g->rip);
    if ((g->rflags & RF_RESERVED) || !(g->rflags & RF_FIXED1))
        fail(c, "RFLAGS 0x%llx: reserved bits wrong", (unsigned long long)g->rflags);
    if ((ia32e || !(g->cr0 & VMX_CR0_PE)) && (g->rflags & RF_VM))
        fail(c, "RFLAGS 0x%llx: VM set", (unsigned long long)g->rflags);
}

static void check_non_register(struct checker *c, const struct vmx_guest_snapshot *g)
{
    uint32_t intr = g->interruptibility;
    bool injecting = (g->entry_intr_info & VMX_INTR_VALID) != 0;
    uint32_t inj_type = (g->entry_intr_info & VMX_INTR_TYPE_MASK) >> VMX_INTR_TYPE_SHIFT;
    uint32_t shadow = VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS;
    if (g->activity > VMX_ACTIVITY_WAIT_SIPI)
        fail(c, "activity state %u undefined", g->activity);
    if (g->activity == VMX_ACTIVITY_HLT && ar_dpl(g->seg[VMX_SEG_SS].ar) != 0)
        fail(c, "HLT activity state with SS.DPL %u", ar_dpl(g->seg[VMX_SEG_SS].ar));
    if (g->activity != VMX_ACTIVITY_ACTIVE && (intr & shadow))
        fail(c, "activity state %u with blocking by STI/MOV SS (0x%x)", g->activity, intr);
    if (intr & ~VMX_INTERRUPTIBILITY_VALID)
        fail(c, "interruptibility 0x%x: reserved bits set", intr);
    if ((intr & shadow) == shadow)
        fail(c, "interruptibility 0x%x: blocking by both STI and MOV SS", intr);
    if (!(g->rflags & RF_IF) && (intr & VMX_INTERRUPTIBILITY_STI))
        fail(c, "blocking by STI with RFLAGS.IF clear");
    if (injecting && inj_type == VMX_INTR_TYPE_EXT_INTR &&
        ((intr & shadow) || !(g->rflags & RF_IF)))
        fail(c, "injecting an external interrupt while interrupts are blocked");
    if (injecting && inj_type == VMX_INTR_TYPE_NMI && (intr & VMX_INTERRUPTIBILITY_MOV_SS))
        fail(c, "injecting an NMI under blocking by MOV SS");
    if (intr & VMX_INTERRUPTIBILITY_SMI)
        fail(c, "interruptibility 0x%x: blocking by SMI outside SMM", intr);
    if (g->pending_dbg & PENDING_DBG_RESERVED)
        fail(c, "pending debug exceptions 0x%llx: reserved bits set",
             (unsigned long long)g->pending_dbg);
    if (g->link_pointer != VMX_LINK_POINTER_NONE)
        fail(c, "VMCS link pointer 0x%llx (no shadow VMCS is used: must be all ones)",
             (unsigned long long)g->link_pointer);
}

int vmx_check_guest(const struct vmx_guest_snapshot *g,
                    void (*emit)(void *ctx, const char *line), void *ctx)
{
    struct checker c = { emit, ctx, 0 };
    bool ia32e = (g->entry_ctls & VMX_ENTRY_IA32E_GUEST) != 0;
    bool unrestricted = (g->proc2_ctls & VMX_PROC2_UNRESTRICTED) != 0;
    check_control_regs(&c, g, ia32e, unrestricted);
    check_code_stack(&c, g, ia32e, unrestricted);
    check_data_segs(&c, g);
    check_system_segs(&c, g, ia32e);
    check_registers(&c, g, ia32e);
    check_non_register(&c, g);
    return c.n;
}

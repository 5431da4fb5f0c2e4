/*
 * Guest MSRs: allowed by list. Every MSR the table below does not name
 * raises #GP in the guest, as on a CPU without it; the named ones are
 * either the guest's own CPU state (passed through: no exit where the
 * backend's bitmap reaches them) or emulated. docs/security.md has the
 * table with the reason for each entry.
 *
 * Vendor-neutral and pure (host-tested): the real CPU is reached through
 * struct msr_hw, which vmm/msr_policy_exit.c fills for the hypervisor.
 * The SVM backend keeps EFER to itself (SVME, vmm/svm/svm_guard.c).
 */
#ifndef PV_VMM_MSR_POLICY_H
#define PV_VMM_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

enum msr_op {
    MSR_OP_GP,            /* #GP (every MSR not in the table) */
    MSR_OP_HW,            /* the real MSR: no exit where the bitmap reaches it,
                             else run with rdmsr_safe/wrmsr_safe */
    MSR_OP_IGNORE,        /* write accepted, no effect */
    MSR_OP_ZERO,          /* reads 0 */
    MSR_OP_VM_CR,         /* reads "SVM disabled, locked" */
    MSR_OP_FEATURE_CTL,   /* reads "locked, VMX and SMX off" */
    MSR_OP_TSC,           /* write: becomes the guest's TSC offset */
    MSR_OP_TSC_ADJUST,    /* the guest's own TSC_ADJUST; a write moves the offset */
    MSR_OP_TSC_DEADLINE,  /* LAPIC deadline: guest TSC <-> host TSC */
    MSR_OP_DEBUGCTL,      /* reads 0; writing 0 is accepted, anything else #GP */
    MSR_OP_APIC_BASE,     /* write: only the current value (no move, no x2APIC) */
};

struct msr_rule {
    uint32_t first, last;     /* inclusive range */
    enum msr_op rd, wr;
    const char *name;
};

/* The rule for msr, or NULL: #GP both ways. */
const struct msr_rule *msr_policy_rule(uint32_t msr);
/* The whole table (for the docs check and the tests). */
const struct msr_rule *msr_policy_table(unsigned *count);

/* Call pass(ctx, msr, rd, wr) for every MSR whose reads (rd) or writes
 * (wr) reach the real MSR with no exit. The backends start from "every
 * MSR exits" and clear these. */
void msr_policy_open_msrs(void (*pass)(void *ctx, uint32_t msr, bool rd, bool wr), void *ctx);

/* The real CPU (or a test's fake). */
struct msr_hw {
    int (*read)(uint32_t msr, uint64_t *value);  /* 0, or -1 on #GP */
    int (*write)(uint32_t msr, uint64_t value);
    uint64_t (*tsc)(void);                       /* the host TSC now */
    void (*set_tsc_offset)(void *ctx, uint64_t offset);
    void *ctx;
};

/* One vCPU's emulated MSR state and counters. Zero-initialised is the
 * power-on state (offset 0: the guest's TSC is the host's). */
#define MSR_LOG_BUDGET 32
struct msr_state {
    uint64_t tsc_offset;       /* guest TSC = host TSC + tsc_offset */
    uint64_t tsc_adjust;       /* the guest's view of IA32_TSC_ADJUST */
    uint64_t denied_reads, denied_writes, emulated;
    unsigned lines;            /* warning lines spent of MSR_LOG_BUDGET */
};

/* Returns 0 (with *value for reads), or -1: inject #GP. */
int msr_policy_read(struct msr_state *st, const struct msr_hw *hw, uint32_t msr,
                    uint64_t *value);
int msr_policy_write(struct msr_state *st, const struct msr_hw *hw, uint32_t msr,
                     uint64_t value);

/* "msr denied-reads N", "msr denied-writes N", "msr emulated N". */
void msr_policy_render_stats(const struct msr_state *st,
                             void (*emit)(void *ctx, const char *line), void *ctx);

/* ---- the vCPU side (vmm/msr_policy_exit.c) ------------------------------ */
struct vcpu;
int msr_exit_read(struct vcpu *v, uint32_t msr, uint64_t *value);
int msr_exit_write(struct vcpu *v, uint32_t msr, uint64_t value);
const struct msr_state *msr_exit_state(void);

#endif

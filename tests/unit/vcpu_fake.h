/*
 * A fake vendor backend for host tests of the vendor-neutral exit layer
 * (vmm/exit.c, vmm/access_emul.c, vmm/pci_filter.c, ...): a struct vcpu
 * whose vcpu_ops keep RIP, RSP and the paging registers in plain fields,
 * record injected exceptions and state dumps, and run() plays back a
 * script of exits. Include after <cmocka.h>.
 */
#ifndef PV_TESTS_UNIT_VCPU_FAKE_H
#define PV_TESTS_UNIT_VCPU_FAKE_H

#include <string.h>

#include "vmm/vcpu.h"

#define FAKE_VCPU_INJECT_MAX 8
#define FAKE_VCPU_SCRIPT_MAX 32

struct fake_injection {
    uint8_t vector;
    bool has_error;
    uint32_t error;
};

struct fake_vcpu {
    struct vcpu v;
    uint64_t rip, rsp, rflags;
    unsigned cpl;      /* get_cpl (0 after fake_vcpu_init) */
    uint64_t cr0, cr3, cr4, efer;
    /* exceptions queued through inject_exception, in order */
    struct fake_injection inj[FAKE_VCPU_INJECT_MAX];
    unsigned injections;
    unsigned dumps;
    unsigned invalidations;
    /* run(): the exits to report, one per call; each sets RIP to its rip
     * first, as a real exit leaves the guest at the exiting instruction.
     * refuse_at: the call (0-based) that fails to enter (-1: none). */
    const struct vm_exit *script;
    size_t script_len, runs;
    long refuse_at;
    /* RIP at each run() call: where the guest resumes after the previous
     * exit was handled (resume_rip[0]: where it started). */
    uint64_t resume_rip[FAKE_VCPU_SCRIPT_MAX];
};

static inline struct fake_vcpu *fake_of(struct vcpu *v)
{
    return (struct fake_vcpu *)v->vendor;
}

static inline int fake_run(struct vcpu *v, struct vm_exit *e)
{
    struct fake_vcpu *f = fake_of(v);
    size_t n = f->runs++;
    if (n < FAKE_VCPU_SCRIPT_MAX)
        f->resume_rip[n] = f->rip;
    if (f->refuse_at >= 0 && n == (size_t)f->refuse_at) {
        *e = (struct vm_exit){ .kind = EXIT_ENTRY_FAILED };
        return -1;
    }
    if (n >= f->script_len)
        fail_msg("the exit loop ran the guest %zu times; the script has %zu exits", n + 1,
                 f->script_len);
    *e = f->script[n];
    f->rip = e->rip;
    v->entries++;
    return 0;
}

static inline uint64_t fake_get_rip(struct vcpu *v) { return fake_of(v)->rip; }
static inline void fake_set_rip(struct vcpu *v, uint64_t rip) { fake_of(v)->rip = rip; }
static inline uint64_t fake_get_rsp(struct vcpu *v) { return fake_of(v)->rsp; }
static inline void fake_set_rsp(struct vcpu *v, uint64_t rsp) { fake_of(v)->rsp = rsp; }
static inline uint64_t fake_get_rflags(struct vcpu *v) { return fake_of(v)->rflags; }
static inline unsigned fake_get_cpl(struct vcpu *v) { return fake_of(v)->cpl; }

static inline void fake_get_paging(struct vcpu *v, uint64_t *cr0, uint64_t *cr3,
                                   uint64_t *cr4, uint64_t *efer)
{
    struct fake_vcpu *f = fake_of(v);
    *cr0 = f->cr0;
    *cr3 = f->cr3;
    *cr4 = f->cr4;
    *efer = f->efer;
}

static inline void fake_inject(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    struct fake_vcpu *f = fake_of(v);
    if (f->injections >= FAKE_VCPU_INJECT_MAX)
        fail_msg("more than %d exceptions injected", FAKE_VCPU_INJECT_MAX);
    f->inj[f->injections++] = (struct fake_injection){ vector, has_error, error };
}

static inline void fake_invalidate(struct s2pt *pt, enum s2_inv_scope scope, gpa_t gpa,
                                   uint64_t size, void *ctx)
{
    (void)pt, (void)scope, (void)gpa, (void)size;
    fake_of(ctx)->invalidations++;
}

static inline void fake_dump(struct vcpu *v)
{
    fake_of(v)->dumps++;
    vcpu_dump_gprs(v);
}

static const struct vcpu_ops fake_vcpu_ops = {
    .name = "fake",
    .s2_format = NULL,
    .run = fake_run,
    .get_rip = fake_get_rip,
    .set_rip = fake_set_rip,
    .get_rsp = fake_get_rsp,
    .set_rsp = fake_set_rsp,
    .get_rflags = fake_get_rflags,
    .get_cpl = fake_get_cpl,
    .get_paging = fake_get_paging,
    .inject_exception = fake_inject,
    .invalidate = fake_invalidate,
    .dump = fake_dump,
};

/* A running vCPU at rip with no memory; tests attach v.mm as needed. */
static inline void fake_vcpu_init(struct fake_vcpu *f, uint64_t rip)
{
    memset(f, 0, sizeof(*f));
    f->v.ops = &fake_vcpu_ops;
    f->v.vendor = f;
    f->rip = rip;
    f->rflags = 0x2;   /* bit 1 always reads as one */
    f->refuse_at = -1;
}

/* Play back script from the exit loop. */
static inline void fake_vcpu_script(struct fake_vcpu *f, const struct vm_exit *script,
                                    size_t len)
{
    f->script = script;
    f->script_len = len;
    f->runs = 0;
}

#endif

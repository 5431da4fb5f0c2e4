/*
 * The generic vCPU: guest registers, the vendor-neutral exit record, and
 * the interface a vendor backend (vmm/svm, vmm/vmx) implements. Everything
 * above the backends (vmm/exit.c and the handlers) sees only these types.
 */
#ifndef PV_VMM_VCPU_H
#define PV_VMM_VCPU_H

#include "vmm/irq_watchdog.h"
#include "ept/mm.h"
#include "guest/guest.h"

#include <stdbool.h>
#include <stdint.h>

/* General registers the backend saves/restores around each guest run.
 * RSP and RIP live in the VMCB/VMCS and go through the ops. Order is the
 * architectural register number, so instruction decoders can index it. */
enum gpr {
    GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
    GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
    GPR_COUNT,
};

enum exit_kind {
    EXIT_CPUID,
    EXIT_MSR_READ,
    EXIT_MSR_WRITE,
    EXIT_IO,
    EXIT_HLT,            /* HLT with interrupts disabled: the guest stopped for
                            good (a backend resumes an HLT with IF=1 itself) */
    EXIT_STAGE2_FAULT,   /* EPT violation / NPT #NPF */
    EXIT_STAGE2_MISCONF, /* EPT misconfiguration: always a bug */
    EXIT_SHUTDOWN,       /* triple fault */
    EXIT_HYPERCALL,      /* VMCALL / VMMCALL */
    EXIT_INTR,           /* external interrupt (if intercepted) */
    EXIT_PREEMPT_TIMER,
    EXIT_XSETBV,
    EXIT_CR_ACCESS,
    EXIT_EXCEPTION,      /* intercepted exception, or #UD for a hidden instruction */
    EXIT_CACHE_INVD,     /* INVD: must not discard the hypervisor's dirty lines */
    EXIT_ENTRY_FAILED,   /* the CPU refused to enter the guest */
    EXIT_OTHER,          /* anything the backend does not translate */
    EXIT_KIND_COUNT,
};

struct vm_exit {
    enum exit_kind kind;
    uint64_t reason;          /* vendor exit code (for logs) */
    uint64_t info1, info2;    /* vendor exit information (for logs) */
    uint64_t rip;             /* guest RIP of the exiting instruction */
    uint8_t insn_len;         /* 0 when the hardware did not say */
    union {
        struct {
            uint32_t index;
        } msr;
        struct {
            uint16_t port;
            uint8_t size;     /* 1, 2 or 4 */
            bool in, string, rep;
        } io;
        struct gpa_fault fault;
        struct {
            uint8_t vector;
            uint32_t error;
        } exc;
    } u;
};

struct vcpu;
struct swap;

/* What a vendor backend offers the generic layer. */
struct vcpu_ops {
    const char *name;                        /* "svm" / "vmx" */
    const struct s2pt_format *s2_format;
    /* Run the guest until the next exit; fill *e. Returns 0, or a negative
     * error when the guest cannot be entered (then e->kind is
     * EXIT_ENTRY_FAILED with the reason logged). */
    int (*run)(struct vcpu *v, struct vm_exit *e);
    uint64_t (*get_rip)(struct vcpu *v);
    void (*set_rip)(struct vcpu *v, uint64_t rip);
    uint64_t (*get_rsp)(struct vcpu *v);
    void (*set_rsp)(struct vcpu *v, uint64_t rsp);
    /* The guest's RFLAGS (NULL: not offered; the IF watchdog stays off). */
    uint64_t (*get_rflags)(struct vcpu *v);
    /* The guest's current privilege level (NULL: not offered; vmm/io_fuse.c
     * then never fuses). */
    unsigned (*get_cpl)(struct vcpu *v);
    /* Guest control state for page walks: cr0, cr3, cr4, efer. */
    void (*get_paging)(struct vcpu *v, uint64_t *cr0, uint64_t *cr3, uint64_t *cr4,
                       uint64_t *efer);
    /* Queue an exception for the next entry. */
    void (*inject_exception)(struct vcpu *v, uint8_t vector, bool has_error,
                             uint32_t error);
    /* Stage-2 invalidation hook (matches s2pt_invalidate_fn's ctx = vcpu). */
    s2pt_invalidate_fn invalidate;
    /* Print the guest state (registers, control state) at LOG_ERROR. */
    void (*dump)(struct vcpu *v);
    /* The guest's TSC reads as the host's plus offset (RDTSC, RDTSCP,
     * RDMSR of the TSC): how a guest TSC write takes effect. */
    void (*set_tsc_offset)(struct vcpu *v, uint64_t offset);
    /* MSRs the backend keeps to itself (SVM: EFER, for SVME), asked
     * before the generic MSR policy; NULL when none. Returns 1 handled
     * (*value read or written), 0 not the backend's, -1 inject #GP. */
    int (*msr_own)(struct vcpu *v, uint32_t msr, bool write, uint64_t *value);
    /* Intercept (trap true) or pass the guest's accesses to one I/O port
     * from the next entry on; NULL when the backend cannot. Only for
     * ports the I/O policy traps (vmm/console.c passes the console's LSR,
     * and its data port, while nothing waits for the guest). */
    void (*set_port_trap)(struct vcpu *v, uint16_t port, bool trap);
};

struct vcpu {
    uint64_t gpr[GPR_COUNT];   /* GPR_RSP slot unused: see ops */
    const struct vcpu_ops *ops;
    void *vendor;              /* the backend's own state */
    struct guest_mm *mm;
    const struct guest_layout *layout;
    uint64_t exits[EXIT_KIND_COUNT];
    uint64_t entries;
    /* Where the vCPU's time goes, in TSC cycles (vmm/exit.c): in the guest
     * (entry to exit, the CPU's world switches included), in the handler
     * of each exit kind (exit to the end of its handler), and in the
     * loop's periodic work after the handler (background reclaim, console,
     * telemetry). The stats block prints them (vmm/report.c). */
    uint64_t guest_cycles;
    uint64_t exit_cycles[EXIT_KIND_COUNT];
    uint64_t tick_cycles;
    struct swap *swap;         /* NULL: no reclaim */
    /* Periodic work (background reclaim), called from the exit loop at
     * most every tick_interval TSC ticks. */
    void (*tick)(struct vcpu *v);
    uint64_t tick_interval, next_tick;
    struct irq_watchdog irqwd; /* a guest spinning with IF=0 (irq_watchdog.h) */
    bool stopped;
    int stop_status;           /* enum pv_exit */
    char stop_reason[128];
};

/* The dispatch loop (vmm/exit.c). Run the guest until it stops (power-off,
 * fatal exit, error). */
void vcpu_run_loop(struct vcpu *v);

/* Services for the handlers (vmm/vcpu.c). */
const char *exit_kind_name(enum exit_kind k);
/* Stop the guest: the loop ends and the reason is reported. */
void vcpu_stop(struct vcpu *v, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Log the guest's general registers (for the backends' dump). */
void vcpu_dump_gprs(struct vcpu *v);
/* Advance RIP past the exiting instruction (insn_len must be known). */
void vcpu_skip(struct vcpu *v, const struct vm_exit *e);

#endif

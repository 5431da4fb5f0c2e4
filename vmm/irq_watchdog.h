/*
 * Noticing a guest that spins with interrupts disabled.
 *
 * pagevisor gives the guest its interrupts directly (pass-through), so a
 * guest loop with RFLAGS.IF clear hangs only the guest's own vCPU; what the
 * hypervisor owes the user is to say so. The vCPU loop shows this watchdog
 * the guest's IF after every exit. A stretch in which every exit saw IF
 * clear, lasting IRQWD_WARN_S seconds or more, is reported as a warning
 * naming how long and where (RIP at its start and now), again at every
 * doubling of its length, and once more when the guest enables interrupts
 * again. The guest keeps running (contained: it only burns its own CPU);
 * the monitor can inspect it or `quit`.
 *
 * Exits are the only samples: on VMX the preemption timer guarantees them,
 * on SVM a guest that never exits is not seen at all (docs/security.md).
 * Before the guest has enabled interrupts for the first time (boot
 * protocol entry, kernel decompression) nothing is reported: that IF=0
 * stretch is normal and, under an emulator, long.
 *
 * Pure logic on (IF, TSC, RIP) samples: host-tested in test_irq_watchdog.
 */
#ifndef PV_VMM_IRQ_WATCHDOG_H
#define PV_VMM_IRQ_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

#define IRQWD_WARN_S 20u   /* like Linux's soft-lockup threshold */

struct irq_watchdog {
    uint64_t threshold;    /* TSC ticks; 0: the watchdog is off */
    uint64_t tsc_hz;
    bool armed;            /* the guest has had IF set at some exit */
    uint64_t off_since;    /* TSC at the first IF=0 exit of this stretch (0: none) */
    uint64_t off_rip;      /* guest RIP then */
    unsigned warned;       /* warnings given in this stretch */
    uint64_t stretches;    /* stretches reported since start */
};

/* warn_s 0 turns the watchdog off. */
void irqwd_init(struct irq_watchdog *w, uint64_t tsc_hz, unsigned warn_s);

/* One exit's sample. Returns true when it logged a warning. */
bool irqwd_observe(struct irq_watchdog *w, bool if_set, uint64_t now, uint64_t rip);

#endif

/*
 * The serial-console monitor (docs/monitor.md): opened by the console
 * escape (vmm/console.h), it runs with the guest paused, reads command
 * lines from the console UART and answers on it, until `continue` or
 * `quit`. One command group per file (vmm/monitor/cmd_*.c).
 */
#ifndef PV_VMM_MONITOR_H
#define PV_VMM_MONITOR_H

#include "vmm/vcpu.h"

#include <stdint.h>

#define MONITOR_PROMPT "pv> "

enum monitor_end {
    MONITOR_RESUME,       /* `continue` or `quit` (then v->stopped is set) */
    MONITOR_SEND_ESCAPE,  /* the escape at the empty prompt: the guest gets one */
};

/* Run one monitor session; the guest does not run until it returns. */
enum monitor_end monitor_run(struct vcpu *v);
/* TSC ticks spent in monitor sessions so far (the guest was paused). */
uint64_t monitor_paused_ticks(void);

#endif

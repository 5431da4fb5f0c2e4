/* Interrupts-off watchdog; see irq_watchdog.h. */
#include "vmm/irq_watchdog.h"
#include "vmm/lib/log.h"

#include <string.h>

#define MAX_DOUBLINGS 40u  /* 20 s << 40 is longer than any run */

void irqwd_init(struct irq_watchdog *w, uint64_t tsc_hz, unsigned warn_s)
{
    memset(w, 0, sizeof(*w));
    w->tsc_hz = tsc_hz ? tsc_hz : 1;
    w->threshold = tsc_hz * warn_s;
}

static unsigned long long seconds(const struct irq_watchdog *w, uint64_t ticks)
{
    return (unsigned long long)(ticks / w->tsc_hz);
}

bool irqwd_observe(struct irq_watchdog *w, bool if_set, uint64_t now, uint64_t rip)
{
    if (!w->threshold)
        return false;
    if (if_set) {
        if (w->warned)
            pv_info("irq watchdog: the guest enabled interrupts again after %llu s "
                    "(rip 0x%llx)", seconds(w, now - w->off_since), (unsigned long long)rip);
        w->armed = true;
        w->off_since = 0;
        w->warned = 0;
        return false;
    }
    if (!w->armed)
        return false;
    if (!w->off_since) {
        w->off_since = now ? now : 1;
        w->off_rip = rip;
        return false;
    }
    uint64_t len = now - w->off_since;
    unsigned shift = w->warned < MAX_DOUBLINGS ? w->warned : MAX_DOUBLINGS;
    if (len < (w->threshold << shift))
        return false;
    if (!w->warned)
        w->stretches++;
    w->warned++;
    pv_warn("irq watchdog: the guest has run %llu s with interrupts disabled (every exit "
            "since rip 0x%llx saw IF=0; now at rip 0x%llx): it may be spinning with "
            "interrupts off; it only holds its own CPU (the monitor can inspect it or quit)",
            seconds(w, len), (unsigned long long)w->off_rip, (unsigned long long)rip);
    return true;
}

/* Exit accounting by port and MSR; see exit_stats.h. */
#include "vmm/exit_stats.h"
#include "vmm/lib/fmt.h"

struct exit_stats vm_exit_stats;

void exit_stats_render(const struct exit_key_table *t, const char *what, unsigned max,
                       emit_fn emit, void *ctx)
{
    bool shown[EXIT_STATS_SLOTS] = { false };
    uint64_t rest = t->other;
    char line[80];
    for (unsigned n = 0; n < t->keys; n++) {
        int best = -1;
        for (unsigned i = 0; i < EXIT_STATS_SLOTS; i++)
            if (t->slot[i].used && !shown[i] &&
                (best < 0 || t->slot[i].count > t->slot[best].count))
                best = (int)i;
        if (best < 0)
            break;
        shown[best] = true;
        if (n >= max) {
            rest += t->slot[best].count;
            continue;
        }
        pv_snprintf(line, sizeof(line), "%s 0x%x %llu", what, t->slot[best].key,
                    (unsigned long long)t->slot[best].count);
        emit(ctx, line);
    }
    if (rest) {
        pv_snprintf(line, sizeof(line), "%s other %llu", what, (unsigned long long)rest);
        emit(ctx, line);
    }
}

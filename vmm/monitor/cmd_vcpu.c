/* Monitor: the vCPU and the session — `regs`, `log`, `continue`, `quit`. */
#include "vmm/lib/log.h"
#include "vmm/monitor/mon.h"
#include "vmm/power.h"

#include <string.h>

static enum mon_next cmd_regs(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    static const char *const names[GPR_COUNT] = {
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    };
    (void)argv;
    if (argc != 1)
        return mon_usage(c);
    uint64_t r[GPR_COUNT];
    for (int i = 0; i < GPR_COUNT; i++)
        r[i] = i == GPR_RSP ? v->ops->get_rsp(v) : v->gpr[i];
    for (int i = 0; i < GPR_COUNT; i += 4)
        mon_out("%-3s %016llx  %-3s %016llx  %-3s %016llx  %-3s %016llx", names[i],
                (unsigned long long)r[i], names[i + 1], (unsigned long long)r[i + 1],
                names[i + 2], (unsigned long long)r[i + 2], names[i + 3],
                (unsigned long long)r[i + 3]);
    uint64_t cr0, cr3, cr4, efer;
    v->ops->get_paging(v, &cr0, &cr3, &cr4, &efer);
    if (v->ops->get_rflags)
        mon_out("rip %016llx  rflags %016llx  (%s)", (unsigned long long)v->ops->get_rip(v),
                (unsigned long long)v->ops->get_rflags(v), v->ops->name);
    else
        mon_out("rip %016llx  (%s)", (unsigned long long)v->ops->get_rip(v), v->ops->name);
    mon_out("cr0 %016llx  cr3 %016llx  cr4 %016llx  efer %016llx", (unsigned long long)cr0,
            (unsigned long long)cr3, (unsigned long long)cr4, (unsigned long long)efer);
    return MON_STAY;
}

static const char *const level_names[] = {
    [LOG_ERROR] = "error", [LOG_WARN] = "warn", [LOG_INFO] = "info",
    [LOG_DEBUG] = "debug", [LOG_TRACE] = "trace",
};
#define NLEVELS (sizeof(level_names) / sizeof(level_names[0]))

static enum mon_next cmd_log(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    (void)v;
    if (argc == 1) {
        mon_out("log %s", level_names[pv_log_get_level()]);
        return MON_STAY;
    }
    if (argc != 2)
        return mon_usage(c);
    for (unsigned i = 0; i < NLEVELS; i++) {
        if (!strcmp(argv[1], level_names[i])) {
            pv_log_set_level((enum log_level)i);
            mon_out("log %s", level_names[i]);
            return MON_STAY;
        }
    }
    mon_out("log: '%s' is not a level (error, warn, info, debug, trace)", argv[1]);
    return MON_STAY;
}

static enum mon_next cmd_continue(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    (void)v, (void)argv;
    if (argc != 1)
        return mon_usage(c);
    return MON_LEAVE;
}

static enum mon_next cmd_quit(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return mon_usage(c);
    pv_info("monitor: quit: stopping the guest");
    vcpu_stop(v, PV_EXIT_SUCCESS, "stopped from the monitor (quit)");
    return MON_LEAVE;
}

const struct mon_cmd mon_cmds_vcpu[] = {
    { "regs", "", "the guest's general and control registers", cmd_regs },
    { "log", "[LEVEL]", "show or set the log level: error warn info debug trace", cmd_log },
    { "continue", "", "resume the guest", cmd_continue },
    { "quit", "", "stop the guest: final statistics, power off with success", cmd_quit },
    { 0 },
};

/*
 * The monitor session: prompt, line editing, dispatch to the command
 * groups, help. Input is read straight from the console UART (polled) while
 * the guest is paused, so nothing typed here reaches the guest.
 */
#include "vmm/monitor/monitor.h"
#include "vmm/arch/arch.h"
#include "vmm/console.h"
#include "vmm/drivers/serial.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"
#include "vmm/monitor/mon.h"

#include <stdarg.h>
#include <string.h>

#define LINE_MAX 160
#define OUT_MAX 256
#define KEY_BACKSPACE 0x08
#define KEY_DELETE 0x7F
#define KEY_CTRL_C 0x03
#define KEY_CTRL_U 0x15
#define KEY_PRINTABLE_FIRST 0x20
#define KEY_PRINTABLE_LAST 0x7E

static uint64_t paused_ticks;

uint64_t monitor_paused_ticks(void) { return paused_ticks; }

void mon_out(const char *fmt, ...)
{
    char line[OUT_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = pv_vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    serial_write(line, (size_t)n);
}

void mon_emit(void *ctx, const char *line)
{
    if (ctx)
        mon_out("%s%s", (const char *)ctx, line);
    else
        mon_out("%s", line);
}

enum mon_next mon_usage(const struct mon_cmd *c)
{
    mon_out("usage: %s%s%s", c->name, c->args[0] ? " " : "", c->args);
    return MON_STAY;
}

bool mon_parse_u64(const char *s, uint64_t *out)
{
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return false;
        if (v > (UINT64_MAX - d) / base)
            return false; /* overflow */
        v = v * base + d;
    }
    *out = v;
    return true;
}

bool mon_parse_size(const char *s, uint64_t *out)
{
    char num[24];
    size_t n = strlen(s);
    unsigned shift = 0;
    if (n > 1 && s[0] != '0') {
        switch (s[n - 1]) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        default: break;
        }
    }
    if (shift)
        n--;
    if (n == 0 || n >= sizeof(num))
        return false;
    memcpy(num, s, n);
    num[n] = 0;
    uint64_t v;
    if (!mon_parse_u64(num, &v) || (shift && v > (UINT64_MAX >> shift)))
        return false;
    *out = v << shift;
    return true;
}

static const struct mon_cmd *const groups[] = {
    mon_cmds_stats, mon_cmds_mem, mon_cmds_vcpu, mon_cmds_swap, mon_cmds_trace,
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static const struct mon_cmd *find_cmd(const char *name)
{
    for (size_t g = 0; g < NGROUPS; g++)
        for (const struct mon_cmd *c = groups[g]; c->name; c++)
            if (!strcmp(c->name, name))
                return c;
    return NULL;
}

static void help_line(const struct mon_cmd *c)
{
    char synopsis[40];
    pv_snprintf(synopsis, sizeof(synopsis), "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
    mon_out("  %-28s %s", synopsis, c->help);
}

static enum mon_next cmd_help(struct vcpu *v, const struct mon_cmd *self, int argc, char **argv)
{
    (void)v;
    if (argc > 2)
        return mon_usage(self);
    if (argc == 2) {
        const struct mon_cmd *c = find_cmd(argv[1]);
        if (!c && strcmp(argv[1], "help")) {
            mon_out("help: no command '%s'", argv[1]);
            return MON_STAY;
        }
        help_line(c ? c : self);
        return MON_STAY;
    }
    mon_out("commands (the guest is paused; " CONSOLE_ESCAPE_NAME
            " at an empty prompt sends " CONSOLE_ESCAPE_NAME " to the guest):");
    help_line(self);
    for (size_t g = 0; g < NGROUPS; g++)
        for (const struct mon_cmd *c = groups[g]; c->name; c++)
            help_line(c);
    return MON_STAY;
}

static const struct mon_cmd help_cmd = {
    "help", "[COMMAND]", "list the commands, or describe one", cmd_help,
};

/* Blocking read of one byte from the console. */
static uint8_t getc_wait(void)
{
    int c;
    while ((c = serial_getc()) < 0)
        pause();
    return (uint8_t)c;
}

/*
 * One edited line into buf (NUL-terminated). Returns its length, or -1
 * when the escape was typed at an empty line. CR, LF and CR LF all end a
 * line; Backspace/Delete erase, Ctrl-U clears, Ctrl-C abandons the line.
 */
static int read_line(char *buf, size_t cap)
{
    static bool after_cr;
    size_t len = 0;
    for (;;) {
        uint8_t c = getc_wait();
        bool lf_after_cr = after_cr && c == '\n';
        after_cr = c == '\r';
        if (lf_after_cr)
            continue;
        if (c == '\r' || c == '\n') {
            serial_write("\n", 1);
            buf[len] = 0;
            return (int)len;
        }
        if (c == CONSOLE_ESCAPE && len == 0)
            return -1;
        if (c == KEY_BACKSPACE || c == KEY_DELETE) {
            if (len) {
                len--;
                serial_write("\b \b", 3);
            }
        } else if (c == KEY_CTRL_U) {
            for (; len; len--)
                serial_write("\b \b", 3);
        } else if (c == KEY_CTRL_C) {
            serial_write("^C\n", 3);
            buf[0] = 0;
            return 0;
        } else if (c >= KEY_PRINTABLE_FIRST && c <= KEY_PRINTABLE_LAST && len + 1 < cap) {
            buf[len++] = (char)c;
            serial_write((const char *)&c, 1);
        }
    }
}

static int split(char *line, char **argv)
{
    int argc = 0;
    char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            *p++ = 0;
        if (!*p)
            break;
        if (argc == MON_ARGS_MAX)
            return -1;
        argv[argc++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    return argc;
}

/* Run one command line; MON_LEAVE ends the session. */
static enum mon_next dispatch(struct vcpu *v, char *line)
{
    char *argv[MON_ARGS_MAX];
    int argc = split(line, argv);
    if (argc < 0) {
        mon_out("too many arguments (at most %d words)", MON_ARGS_MAX);
        return MON_STAY;
    }
    if (argc == 0)
        return MON_STAY;
    const struct mon_cmd *c = !strcmp(argv[0], "help") ? &help_cmd : find_cmd(argv[0]);
    if (!c) {
        mon_out("unknown command '%s' ('help' lists the commands)", argv[0]);
        return MON_STAY;
    }
    return c->run(v, c, argc, argv);
}

enum monitor_end monitor_run(struct vcpu *v)
{
    uint64_t start = rdtsc();
    pv_info("monitor: guest paused ('help' lists the commands, 'continue' resumes; "
            CONSOLE_ESCAPE_NAME " again sends " CONSOLE_ESCAPE_NAME " to the guest)");
    enum monitor_end end = MONITOR_RESUME;
    char line[LINE_MAX];
    for (;;) {
        serial_write(MONITOR_PROMPT, sizeof(MONITOR_PROMPT) - 1);
        int n = read_line(line, sizeof(line));
        if (n < 0) {
            serial_write("\n", 1);
            end = MONITOR_SEND_ESCAPE;
            break;
        }
        if (dispatch(v, line) == MON_LEAVE)
            break;
    }
    if (!v->stopped)
        pv_info("monitor: guest resumed%s",
                end == MONITOR_SEND_ESCAPE ? " (" CONSOLE_ESCAPE_NAME " sent to the guest)" : "");
    paused_ticks += rdtsc() - start;
    return end;
}

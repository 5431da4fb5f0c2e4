/*
 * Hypervisor log (see log.h): each message becomes exactly one line
 * "[pv] <level>: text" handed to the console in one go, so it is never
 * interleaved mid-line with anything else the hypervisor prints.
 * Info lines carry no level tag, to keep the common case readable.
 */
#include "vmm/lib/log.h"
#include "vmm/lib/fmt.h"

#include <stdarg.h>
#include <stddef.h>

#define LOG_LINE_MAX 512

static enum log_level max_level = LOG_INFO;
static const char *const level_tag[] = {
    [LOG_ERROR] = "error: ", [LOG_WARN] = "warn: ", [LOG_INFO] = "",
    [LOG_DEBUG] = "debug: ", [LOG_TRACE] = "trace: ",
};

void pv_log_set_level(enum log_level level) { max_level = level; }
enum log_level pv_log_get_level(void) { return max_level; }

void pv_log(enum log_level level, const char *fmt, ...)
{
    if (level > max_level)
        return;
    char line[LOG_LINE_MAX];
    int n = pv_snprintf(line, sizeof(line), "[pv] %s", level_tag[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = pv_vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    if (len == 0 || line[len - 1] != '\n')
        line[len++] = '\n';
    log_console_write(line, len);
}

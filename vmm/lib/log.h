/*
 * Logging interface used by every layer (vmm/, ept/, swap/, guest/).
 *
 * In the hypervisor, vmm/lib/log.c formats each message as one line, prefixed
 * "[pv] " and the level, and hands it to log_console_write(), which the
 * console driver provides (vmm/drivers/serial.c): the runtime library itself
 * depends on no device. Host test builds link tests/unit/host_log.c instead, which
 * records lines so tests can assert on them. The implementation is chosen at
 * link time; callers never know which one they got.
 *
 * A message is one line; a trailing '\n' is optional (added if missing).
 */
#ifndef PV_VMM_LOG_H
#define PV_VMM_LOG_H

#include <stddef.h>

enum log_level {
    LOG_ERROR = 0,
    LOG_WARN = 1,
    LOG_INFO = 2,
    LOG_DEBUG = 3,
    LOG_TRACE = 4,
};

void pv_log(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Messages above this level are dropped (default LOG_INFO). */
void pv_log_set_level(enum log_level level);
enum log_level pv_log_get_level(void);

/*
 * Provided by the console owner, not by this library: write one complete
 * line (ending in '\n', len bytes) so that it starts on a fresh line even
 * when the guest left its own line half written.
 */
void log_console_write(const char *line, size_t len);

#define pv_err(...) pv_log(LOG_ERROR, __VA_ARGS__)
#define pv_warn(...) pv_log(LOG_WARN, __VA_ARGS__)
#define pv_info(...) pv_log(LOG_INFO, __VA_ARGS__)
#define pv_debug(...) pv_log(LOG_DEBUG, __VA_ARGS__)
#define pv_trace(...) pv_log(LOG_TRACE, __VA_ARGS__)

#endif

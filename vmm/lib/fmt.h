/*
 * Freestanding formatted output: a printf subset shared by the hypervisor
 * (no libc after ExitBootServices) and its host-built tests.
 *
 * Supported: %d %i %u %x %X %o %c %s %p %%, flags '-' '0' '#' ' ' '+',
 * field width and precision (also '*'), length modifiers hh h l ll z j t.
 * No floating point: hypervisor code is built -mgeneral-regs-only.
 *
 * Contract: like C99 vsnprintf — the output is always NUL-terminated when
 * size > 0, and the return value is the length the full output would have
 * had, so truncation is detectable as ret >= size.
 */
#ifndef PV_VMM_FMT_H
#define PV_VMM_FMT_H

#include <stdarg.h>
#include <stddef.h>

int pv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int pv_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * For functions that report an error as one line: format it into err (when
 * err is non-NULL and len > 0) and return -PV_EINVAL (ept/types.h), so a
 * caller writes `return pv_fail(err, len, "memory %s: too small", m);`.
 */
int pv_fail(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * For renderers that hand their output to a line callback (the statistics
 * block, the monitor): format one line (at most PV_EMIT_LINE_MAX - 1 bytes,
 * longer is cut) and pass it to emit(ctx, line).
 */
#define PV_EMIT_LINE_MAX 160
typedef void (*pv_emit_fn)(void *ctx, const char *line);
void pv_emitf(pv_emit_fn emit, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

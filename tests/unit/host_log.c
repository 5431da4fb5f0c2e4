/*
 * Host implementation of vmm/log.h: keeps the most recent lines in memory so
 * tests can assert on messages; echoes to stderr when PV_LOG is set in the
 * environment (e.g. PV_LOG=1 build/host/tests/test_x).
 */
#include "tests/unit/host_log.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST_LOG_LINES 256
#define HOST_LOG_LINE_LEN 256

static char lines[HOST_LOG_LINES][HOST_LOG_LINE_LEN];
static size_t nlines; /* total since clear; ring index = nlines % HOST_LOG_LINES */
static enum log_level max_level = LOG_TRACE;

void pv_log_set_level(enum log_level level) { max_level = level; }
enum log_level pv_log_get_level(void) { return max_level; }

void pv_log(enum log_level level, const char *fmt, ...)
{
    if (level > max_level)
        return;
    char *line = lines[nlines % HOST_LOG_LINES];
    va_list ap;
    va_start(ap, fmt);
    pv_vsnprintf(line, HOST_LOG_LINE_LEN, fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    if (n && line[n - 1] == '\n')
        line[n - 1] = '\0';
    nlines++;
    if (getenv("PV_LOG"))
        fprintf(stderr, "[pv] %s\n", line);
}

bool host_log_contains(const char *needle)
{
    size_t first = nlines > HOST_LOG_LINES ? nlines - HOST_LOG_LINES : 0;
    for (size_t i = first; i < nlines; i++)
        if (strstr(lines[i % HOST_LOG_LINES], needle))
            return true;
    return false;
}

size_t host_log_count(void) { return nlines; }
void host_log_clear(void) { nlines = 0; }

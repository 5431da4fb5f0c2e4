/* UEFI text console output; see efi_glue.h. */
#include "efi/efi_glue.h"
#include "vmm/lib/fmt.h"

#include <stdarg.h>

#define CON_CHUNK 128

void con_line(const char *s)
{
    if (!g_st || !g_st->ConOut)
        return;
    CHAR16 buf[CON_CHUNK + 3];
    size_t n = 0;
    for (;; s++) {
        if (*s == '\0' || n == CON_CHUNK) {
            buf[n] = 0;
            uefi_call_wrapper(g_st->ConOut->OutputString, 2, g_st->ConOut, buf);
            n = 0;
            if (*s == '\0')
                break;
        }
        buf[n++] = (CHAR16)(unsigned char)*s;
    }
    CHAR16 crlf[] = { '\r', '\n', 0 };
    uefi_call_wrapper(g_st->ConOut->OutputString, 2, g_st->ConOut, crlf);
}

void say(enum log_level level, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    pv_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    pv_log(level, "%s", line);
    char con[540];
    pv_snprintf(con, sizeof(con), "pagevisor: %s%s",
                level == LOG_ERROR ? "error: " : "", line);
    con_line(con);
}

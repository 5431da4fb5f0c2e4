/*
 * Internal to the pagevisor.conf parser: what guest/config.c (file, lines,
 * keys) and guest/config_values.c (one grammar per key's value) share.
 * Not for other users; the public interface is guest/config.h.
 */
#ifndef PV_GUEST_CONFIG_VALUES_H
#define PV_GUEST_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest/config.h"

/* A piece of the caller's text; never NUL-terminated, never modified. */
struct slice {
    const char *p;
    size_t len;
};

/* Where the parse is: what it fills and where its one message goes. */
struct parser {
    struct pv_config *cfg;
    const char *file;
    uint32_t line; /* 1-based line being parsed; 0 before the first */
    char *err;
    size_t err_len;
};

static inline bool slice_eq(struct slice s, const char *word)
{
    size_t n = strlen(word);
    return s.len == n && memcmp(s.p, word, n) == 0;
}

/* Longest piece of user text quoted back in a message (then "..."). */
#define CONFIG_QUOTE_MAX 64u
#define CONFIG_QUOTE_BUF (CONFIG_QUOTE_MAX + sizeof("..."))

/*
 * Copies s into buf as a C string, shortened with "..." past
 * CONFIG_QUOTE_MAX, so messages never read past the caller's text.
 */
const char *config_quote(char buf[CONFIG_QUOTE_BUF], struct slice s);

/* Writes "FILE:LINE: message" for the current line; returns -PV_EINVAL. */
int config_fail(struct parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Per-key value setters. v is the trimmed, non-empty value. Each returns 0
 * after storing into ps->cfg, or config_fail()'s error.
 */
int config_set_linux(struct parser *ps, struct slice v);
int config_set_initrd(struct parser *ps, struct slice v);
int config_add_options(struct parser *ps, struct slice v);
int config_set_memory(struct parser *ps, struct slice v);
int config_set_frames(struct parser *ps, struct slice v);
int config_set_swap(struct parser *ps, struct slice v);
int config_set_selftest(struct parser *ps, struct slice v);
int config_set_readahead(struct parser *ps, struct slice v);
int config_set_console(struct parser *ps, struct slice v);
int config_set_console_data(struct parser *ps, struct slice v);
int config_set_log(struct parser *ps, struct slice v);
int config_set_telemetry(struct parser *ps, struct slice v);

/* A PCI address as written in the config. */
struct config_pci {
    uint16_t segment;
    uint8_t bus, dev, fn;
};

/* [SSSS:]BB:DD.F (hex) for key: 1 when v is not PCI syntax (nothing said),
 * 0 with *out filled, or config_fail's error (device or function out of
 * range, named with key). */
int config_parse_pci(struct parser *ps, const char *key, struct slice v, struct config_pci *out);

int config_set_disk(struct parser *ps, struct slice v);

/* Value words for config_describe(); "?" for values out of range. */
const char *config_swap_word(enum config_swap swap); /* NULL for PCI */
const char *config_readahead_word(enum config_readahead ra);
const char *config_log_word(enum log_level level);
const char *config_console_data_word(enum config_console_data mode);

#endif

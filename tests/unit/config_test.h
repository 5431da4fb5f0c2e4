/*
 * Shared helpers for the pagevisor.conf unit tests (test_config*.c): parse a
 * string and assert on the exact outcome. Each test binary gets its own copy.
 */
#ifndef PV_TESTS_CONFIG_TEST_H
#define PV_TESTS_CONFIG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/lib/types.h"
#include "guest/config.h"

static struct pv_config cfg;
static char err[512];

/*
 * Parses text[0..len) from an exact-size heap copy (no NUL after it), so
 * ASan flags any read past the end of the file.
 */
static inline int parse_n(const char *text, size_t len)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    memset(err, 'X', sizeof(err));
    int rc = config_parse(&cfg, "pagevisor.conf", copy, len, err, sizeof(err));
    free(copy);
    return rc;
}

static inline int parse(const char *text) { return parse_n(text, strlen(text)); }

static inline void expect_ok(const char *text)
{
    int rc = parse(text);
    if (rc != 0)
        fail_msg("rejected: %s\n--- text:\n%s", err, text);
    assert_string_equal(err, "");
}

/* The parse fails with exactly this message and leaves cfg defaulted. */
static inline void expect_err_n(const char *text, size_t len, const char *msg)
{
    int rc = parse_n(text, len);
    assert_int_equal(rc, -PV_EINVAL);
    assert_string_equal(err, msg);
    assert_null(strchr(err, '\n'));
    struct pv_config def;
    config_defaults(&def);
    assert_memory_equal(&cfg, &def, sizeof(def));
}

static inline void expect_err(const char *text, const char *msg)
{
    expect_err_n(text, strlen(text), msg);
}

/* A file using every key (initrd with mixed separators). */
#define CONFIG_TEST_FULL_FILE \
    "# pagevisor test configuration\n" \
    "linux   /EFI/linux/vmlinuz\n" \
    "initrd\t/EFI\\linux\\initrd.img  \n" \
    "\n" \
    "options console=ttyS0  earlyprintk=serial\n" \
    "   memory 512M\n" \
    "frames 256MiB\n" \
    "swap 0000:00:1F.2\n" \
    "readahead cluster:16\n" \
    "console com2\n" \
    "log debug\n" \
    "options quiet\n"

#endif

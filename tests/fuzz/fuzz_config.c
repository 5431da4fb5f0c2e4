/*
 * libFuzzer target for the pagevisor.conf parser and the size helpers.
 *
 * Properties checked on arbitrary bytes:
 * - config_parse() never crashes or reads outside the input (the input is
 *   not NUL-terminated, and ASan watches its end) or the error buffer;
 * - on success every field is within its documented bounds, strings are
 *   NUL-terminated, and config_describe() output parses back to the same
 *   settings;
 * - on failure the message is one non-empty NUL-terminated line starting
 *   with the file name, and cfg holds exactly the defaults;
 * - a too-small error buffer is truncated, never overrun;
 * - parse_size(format_size(x)) == x for x taken from the input, and any size
 *   parse_size() accepts formats and re-parses to the same value.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/lib/types.h"
#include "guest/config.h"
#include "guest/size.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
            abort();                                                           \
        }                                                                      \
    } while (0)

#define ERR_LEN 512
#define SMALL_ERR_MOD 48 /* truncated-buffer sizes tried: 0..47 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_pow2(uint32_t v) { return v && !(v & (v - 1)); }

static bool clean_text(const char *s, size_t max_len)
{
    const char *nul = memchr(s, '\0', max_len + 1);
    if (!nul)
        return false;
    for (const char *p = s; p < nul; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

static void check_path(const char *path)
{
    CHECK(clean_text(path, CONFIG_PATH_MAX - 1));
    size_t n = strlen(path);
    if (n == 0)
        return;
    CHECK(path[0] == '/');
    CHECK(path[n - 1] != '/' && path[n - 1] != '\\');
    CHECK(path[n - 1] != ' ' && path[n - 1] != '\t');
}

static void check_bounds(const struct pv_config *c, uint32_t nlines)
{
    check_path(c->linux_path);
    check_path(c->initrd_path);
    CHECK(!c->initrd_path[0] || c->linux_path[0]);
    CHECK(clean_text(c->options, CONFIG_OPTIONS_MAX - 1));
    size_t on = strlen(c->options);
    if (on) {
        CHECK(c->options[0] != ' ' && c->options[0] != '\t');
        CHECK(c->options[on - 1] != ' ' && c->options[on - 1] != '\t');
    }

    CHECK(c->memory >= CONFIG_MEMORY_MIN && c->memory <= CONFIG_MEMORY_MAX);
    CHECK(IS_ALIGNED(c->memory, CONFIG_SIZE_ALIGN));
    CHECK(c->frames >= CONFIG_FRAMES_MIN && c->frames <= c->memory);
    CHECK(IS_ALIGNED(c->frames, CONFIG_SIZE_ALIGN));
    CHECK(config_overcommit(c) == (c->frames < c->memory));

    CHECK(c->swap >= CONFIG_SWAP_NONE && c->swap <= CONFIG_SWAP_PCI);
    if (c->swap == CONFIG_SWAP_PCI) {
        CHECK(c->swap_dev <= CONFIG_PCI_DEV_MAX);
        CHECK(c->swap_fn <= CONFIG_PCI_FN_MAX);
    } else {
        CHECK(!c->swap_segment && !c->swap_bus && !c->swap_dev && !c->swap_fn);
    }
    CHECK(c->readahead >= CONFIG_READAHEAD_OFF &&
          c->readahead <= CONFIG_READAHEAD_AUTO);
    CHECK(is_pow2(c->readahead_pages));
    CHECK(c->readahead_pages <= CONFIG_READAHEAD_MAX_PAGES);
    CHECK(c->readahead != CONFIG_READAHEAD_OFF || c->readahead_pages == 1);
    CHECK(c->console_port != 0);
    CHECK(c->log_level >= LOG_ERROR && c->log_level <= LOG_TRACE);

    for (int k = 0; k < CONFIG_KEY_COUNT; k++)
        CHECK(c->line[k] <= nlines);
    CHECK(!c->linux_path[0] == !c->line[CONFIG_KEY_LINUX]);
    CHECK(!c->options[0] == !c->line[CONFIG_KEY_OPTIONS]);
}

static void check_error(const char *err, size_t err_len)
{
    const char *nul = memchr(err, '\0', err_len);
    CHECK(nul != NULL);
    CHECK(nul != err);
    CHECK(!memchr(err, '\n', (size_t)(nul - err)));
    CHECK(!memchr(err, '\r', (size_t)(nul - err)));
    size_t fl = strlen(CONFIG_FILE_NAME);
    CHECK(strncmp(err, CONFIG_FILE_NAME, fl) == 0);
    CHECK(err[fl] == ':');
}

/* ---- describe round trip --------------------------------------------------
 */

struct rebuild {
    char text[4 * CONFIG_OPTIONS_MAX];
    size_t len;
    int lines;
};

static void add(struct rebuild *rb, const char *key, const char *v, size_t vn)
{
    int n = snprintf(rb->text + rb->len, sizeof(rb->text) - rb->len,
                     "%s %.*s\n", key, (int)vn, v);
    CHECK(n > 0 && (size_t)n < sizeof(rb->text) - rb->len);
    rb->len += (size_t)n;
}

/* Turns "config k=v k=v" lines back into "k v" lines of a config file. */
static void collect(void *ctx, const char *line)
{
    struct rebuild *rb = ctx;
    static const char *const free_text[] = { "linux", "initrd", "options" };
    CHECK(strncmp(line, "config ", 7) == 0);
    CHECK(!strchr(line, '\n'));
    const char *p = line + 7;
    if (rb->lines < 3) {
        size_t kn = strlen(free_text[rb->lines]);
        CHECK(strncmp(p, free_text[rb->lines], kn) == 0 && p[kn] == '=');
        const char *v = p + kn + 1;
        if (*v && strcmp(v, "none") != 0)
            add(rb, free_text[rb->lines], v, strlen(v));
    } else {
        while (*p) {
            const char *eq = strchr(p, '=');
            CHECK(eq != NULL);
            const char *end = strchr(eq, ' ');
            if (!end)
                end = eq + strlen(eq);
            char key[16];
            CHECK((size_t)(eq - p) < sizeof(key));
            memcpy(key, p, (size_t)(eq - p));
            key[eq - p] = '\0';
            if (strcmp(key, "overcommit") != 0)
                add(rb, key, eq + 1, (size_t)(end - eq - 1));
            p = *end ? end + 1 : end;
        }
    }
    rb->lines++;
}

static void check_describe(const struct pv_config *c)
{
    static struct rebuild rb;
    static struct pv_config again;
    static char err[ERR_LEN];
    rb.len = 0;
    rb.lines = 0;
    CHECK(config_describe(c, collect, &rb) == 0);
    CHECK(rb.lines == 6);
    if (config_parse(&again, NULL, rb.text, rb.len, err, sizeof(err)) != 0) {
        fprintf(stderr, "describe output rejected: %s\n%s", err, rb.text);
        abort();
    }
    CHECK(strcmp(again.linux_path, c->linux_path) == 0);
    CHECK(strcmp(again.initrd_path, c->initrd_path) == 0);
    CHECK(strcmp(again.options, c->options) == 0);
    CHECK(again.memory == c->memory && again.frames == c->frames);
    CHECK(again.swap == c->swap && again.swap_segment == c->swap_segment &&
          again.swap_bus == c->swap_bus && again.swap_dev == c->swap_dev &&
          again.swap_fn == c->swap_fn);
    CHECK(again.readahead == c->readahead &&
          again.readahead_pages == c->readahead_pages);
    CHECK(again.console_port == c->console_port);
    CHECK(again.log_level == c->log_level);
}

/* ---- sizes ----------------------------------------------------------------
 */

static void check_sizes(const uint8_t *data, size_t size)
{
    char buf[SIZE_STR_MAX];
    uint64_t x = 0, back;
    memcpy(&x, data, size < sizeof(x) ? size : sizeof(x));
    for (int shift = 0; shift < 64; shift += 10) {
        uint64_t v = x << shift;
        int n = format_size(v, buf, sizeof(buf));
        CHECK(n > 0 && (size_t)n < sizeof(buf) && (size_t)n == strlen(buf));
        CHECK(parse_size(buf, (size_t)n, &back) == 0 && back == v);
    }

    /* Whatever parse_size() accepts is canonicalised losslessly. */
    if (parse_size((const char *)data, size, &back) == 0) {
        int n = format_size(back, buf, sizeof(buf));
        uint64_t again;
        CHECK(parse_size(buf, (size_t)n, &again) == 0 && again == back);
        CHECK(size > 0 && data[0] >= '0' && data[0] <= '9');
    }
}

/* ---- entry point ----------------------------------------------------------
 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pv_config cfg, def;
    static char err[ERR_LEN];
    const char *text = (const char *)data;

    uint32_t nlines = 1;
    for (size_t i = 0; i < size; i++)
        nlines += data[i] == '\n';

    config_defaults(&def);
    memset(err, 0x55, sizeof(err));
    int rc = config_parse(&cfg, CONFIG_FILE_NAME, text, size, err, sizeof(err));
    if (rc == 0) {
        CHECK(err[0] == '\0');
        check_bounds(&cfg, nlines);
        check_describe(&cfg);
    } else {
        CHECK(rc == -PV_EINVAL);
        check_error(err, sizeof(err));
        CHECK(memcmp(&cfg, &def, sizeof(def)) == 0);
    }

    /* Same input, a small exact-size heap buffer: truncated, not overrun. */
    size_t small_len = size ? data[0] % SMALL_ERR_MOD : 0;
    char *small = malloc(small_len ? small_len : 1);
    CHECK(small != NULL);
    int rc2 =
        config_parse(&cfg, CONFIG_FILE_NAME, text, size, small, small_len);
    CHECK(rc2 == rc);
    if (small_len) {
        CHECK(memchr(small, '\0', small_len) != NULL);
        CHECK(strncmp(small, err, small_len - 1) == 0);
    }
    free(small);

    check_sizes(data, size);
    return 0;
}

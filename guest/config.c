/*
 * pagevisor.conf parser: file structure, lines, keys and cross-key rules
 * (see config.h for the format; the value grammars are in config_values.c).
 *
 * The text is never copied or modified: lines, keys and values are slices
 * of the caller's buffer, which need not be NUL-terminated. Anything quoted
 * back in a message is first copied into a bounded local buffer, so no
 * formatter ever reads past the end of the input.
 */
#include "guest/config.h"

#include <stdarg.h>
#include <string.h>

#include "vmm/lib/types.h"
#include "guest/config_values.h"
#include "vmm/lib/fmt.h"

#define ASCII_DEL 0x7f
#define ASCII_SPACE 0x20

/* Enough for "config options=" plus the longest command line. */
#define DESCRIBE_LINE_MAX (CONFIG_OPTIONS_MAX + 64u)

static const unsigned char utf8_bom[] = { 0xef, 0xbb, 0xbf };

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static struct slice slice_trim(struct slice s)
{
    while (s.len && is_blank(s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len && is_blank(s.p[s.len - 1]))
        s.len--;
    return s;
}

/* ---- messages -------------------------------------------------------------
 */

static int verror(char *err, size_t err_len, const char *file, uint32_t line,
                  const char *fmt, va_list ap)
{
    if (!err || err_len == 0)
        return -PV_EINVAL;
    if (!file)
        file = CONFIG_FILE_NAME;
    int n = line ? pv_snprintf(err, err_len, "%s:%u: ", file, (unsigned)line)
                 : pv_snprintf(err, err_len, "%s: ", file);
    if (n >= 0 && (size_t)n < err_len)
        pv_vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
    return -PV_EINVAL;
}

int config_error(char *err, size_t err_len, const char *file_name,
                 uint32_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verror(err, err_len, file_name, line, fmt, ap);
    va_end(ap);
    return rc;
}

/* See config_values.h. */
int config_fail(struct parser *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verror(ps->err, ps->err_len, ps->file, ps->line, fmt, ap);
    va_end(ap);
    return rc;
}

static const struct key_def {
    const char *name;
    int (*set)(struct parser *ps, struct slice value);
    bool repeatable;
} keys[CONFIG_KEY_COUNT] = {
    [CONFIG_KEY_LINUX] = { "linux", config_set_linux, false },
    [CONFIG_KEY_INITRD] = { "initrd", config_set_initrd, false },
    [CONFIG_KEY_OPTIONS] = { "options", config_add_options, true },
    [CONFIG_KEY_MEMORY] = { "memory", config_set_memory, false },
    [CONFIG_KEY_FRAMES] = { "frames", config_set_frames, false },
    [CONFIG_KEY_SWAP] = { "swap", config_set_swap, false },
    [CONFIG_KEY_READAHEAD] = { "readahead", config_set_readahead, false },
    [CONFIG_KEY_CONSOLE] = { "console", config_set_console, false },
    [CONFIG_KEY_CONSOLE_DATA] = { "console-data", config_set_console_data, false },
    [CONFIG_KEY_LOG] = { "log", config_set_log, false },
    [CONFIG_KEY_SELFTEST] = { "selftest", config_set_selftest, false },
    [CONFIG_KEY_TELEMETRY] = { "telemetry", config_set_telemetry, false },
    [CONFIG_KEY_DISK] = { "disk", config_set_disk, false },
};

const char *config_key_name(enum config_key key)
{
    if ((unsigned)key >= CONFIG_KEY_COUNT)
        return NULL;
    return keys[key].name;
}

/* One line, terminator removed, already checked for control characters. */
static int parse_line(struct parser *ps, struct slice line)
{
    line = slice_trim(line);
    if (line.len == 0 || line.p[0] == '#')
        return 0;

    struct slice key = line;
    size_t k = 0;
    while (k < line.len && !is_blank(line.p[k]))
        k++;
    key.len = k;
    struct slice value = slice_trim((struct slice){ line.p + k, line.len - k });

    enum config_key id = CONFIG_KEY_COUNT;
    for (unsigned i = 0; i < CONFIG_KEY_COUNT; i++) {
        if (slice_eq(key, keys[i].name)) {
            id = (enum config_key)i;
            break;
        }
    }
    char q[CONFIG_QUOTE_BUF];
    if (id == CONFIG_KEY_COUNT)
        return config_fail(ps, "unknown key '%s'", config_quote(q, key));
    if (value.len == 0)
        return config_fail(ps, "missing value for key '%s'", keys[id].name);
    uint32_t *first = &ps->cfg->line[id];
    if (*first && !keys[id].repeatable)
        return config_fail(ps, "duplicate key '%s' (first on line %u)",
                           keys[id].name, (unsigned)*first);

    int rc = keys[id].set(ps, value);
    if (rc < 0)
        return rc;
    if (!*first)
        *first = ps->line;
    return 0;
}

/* Checks that need the whole file: cross-key rules and derived defaults. */
static int finish(struct parser *ps)
{
    struct pv_config *cfg = ps->cfg;
    if (cfg->initrd_path[0] && !cfg->linux_path[0])
        return config_error(ps->err, ps->err_len, ps->file, 0,
                            "initrd given but no linux");
    if (!cfg->line[CONFIG_KEY_FRAMES])
        cfg->frames = cfg->memory;
    if (cfg->frames > cfg->memory) {
        char f[SIZE_STR_MAX], m[SIZE_STR_MAX];
        format_size(cfg->frames, f, sizeof(f));
        format_size(cfg->memory, m, sizeof(m));
        return config_error(ps->err, ps->err_len, ps->file,
                            cfg->line[CONFIG_KEY_FRAMES],
                            "frames %s exceeds memory %s", f, m);
    }
    if (cfg->disk == CONFIG_DISK_PCI && cfg->swap == CONFIG_SWAP_PCI &&
        cfg->disk_segment == cfg->swap_segment && cfg->disk_bus == cfg->swap_bus &&
        cfg->disk_dev == cfg->swap_dev && cfg->disk_fn == cfg->swap_fn)
        return config_error(ps->err, ps->err_len, ps->file, cfg->line[CONFIG_KEY_DISK],
                            "disk and swap name the same device");
    return 0;
}

static bool is_control(unsigned char c)
{
    return (c < ASCII_SPACE && c != '\t') || c == ASCII_DEL;
}

static int parse_text(struct parser *ps, const char *text, size_t len)
{
    size_t pos = 0;
    if (len >= sizeof(utf8_bom) &&
        memcmp(text, utf8_bom, sizeof(utf8_bom)) == 0)
        pos = sizeof(utf8_bom);

    while (pos < len) {
        ps->line++;
        size_t start = pos;
        size_t end;
        for (;;) {
            if (pos == len) {
                end = pos;
                break;
            }
            unsigned char c = (unsigned char)text[pos];
            if (c == '\n') {
                end = pos++;
                break;
            }
            if (c == '\r' && pos + 1 < len && text[pos + 1] == '\n') {
                end = pos;
                pos += 2;
                break;
            }
            if (pos - start >= CONFIG_LINE_MAX)
                return config_fail(ps, "line longer than %u bytes",
                                   CONFIG_LINE_MAX);
            if (is_control(c))
                return config_fail(ps, "control character 0x%02x at column %zu",
                                   c, pos - start + 1);
            pos++;
        }
        int rc = parse_line(ps, (struct slice){ text + start, end - start });
        if (rc < 0)
            return rc;
    }
    return finish(ps);
}

void config_defaults(struct pv_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->memory = CONFIG_MEMORY_DEFAULT;
    cfg->frames = CONFIG_MEMORY_DEFAULT;
    cfg->swap = CONFIG_SWAP_NONE;
    /* auto, not Linux's cluster:8: it reads no more than off on random
     * faults and opens a window on walks (docs/decisions.md, "The default
     * readahead is auto") */
    cfg->readahead = CONFIG_READAHEAD_AUTO;
    cfg->readahead_pages = CONFIG_READAHEAD_DEFAULT_PAGES;
    cfg->console_port = CONFIG_PORT_COM1;
    cfg->console_data = CONFIG_CONSOLE_DATA_PASS;
    cfg->log_level = LOG_INFO;
}

int config_parse(struct pv_config *cfg, const char *file_name, const char *text,
                 size_t len, char *err, size_t err_len)
{
    if (err && err_len)
        err[0] = '\0';
    if (!cfg)
        return config_error(err, err_len, file_name, 0, "no config to fill");
    config_defaults(cfg);
    if (!text && len)
        return config_error(err, err_len, file_name, 0, "no text to parse");

    struct parser ps = {
        .cfg = cfg,
        .file = file_name ? file_name : CONFIG_FILE_NAME,
        .line = 0,
        .err = err,
        .err_len = err_len,
    };
    int rc = parse_text(&ps, text, len);
    if (rc < 0)
        config_defaults(cfg);
    return rc;
}

bool config_overcommit(const struct pv_config *cfg)
{
    return cfg->frames < cfg->memory;
}

bool config_has_guest(const struct pv_config *cfg)
{
    return cfg->linux_path[0] != '\0';
}

/* ---- describe -------------------------------------------------------------
 */

int config_describe(const struct pv_config *cfg,
                    void (*emit)(void *ctx, const char *line), void *ctx)
{
    if (!cfg || !emit)
        return -PV_EINVAL;
    char line[DESCRIBE_LINE_MAX];
    char a[SIZE_STR_MAX], b[SIZE_STR_MAX];

    pv_snprintf(line, sizeof(line), "config linux=%s",
                cfg->linux_path[0] ? cfg->linux_path : "none");
    emit(ctx, line);
    pv_snprintf(line, sizeof(line), "config initrd=%s",
                cfg->initrd_path[0] ? cfg->initrd_path : "none");
    emit(ctx, line);
    pv_snprintf(line, sizeof(line), "config options=%s", cfg->options);
    emit(ctx, line);

    format_size(cfg->memory, a, sizeof(a));
    format_size(cfg->frames, b, sizeof(b));
    pv_snprintf(line, sizeof(line), "config memory=%s frames=%s overcommit=%s",
                a, b, config_overcommit(cfg) ? "yes" : "no");
    emit(ctx, line);

    char swap[sizeof("ffff:ff:ff.f")];
    const char *word = config_swap_word(cfg->swap);
    if (word)
        pv_snprintf(swap, sizeof(swap), "%s", word);
    else
        pv_snprintf(swap, sizeof(swap), "%04x:%02x:%02x.%x",
                    (unsigned)cfg->swap_segment, (unsigned)cfg->swap_bus,
                    (unsigned)cfg->swap_dev, (unsigned)cfg->swap_fn);
    const char *ra = config_readahead_word(cfg->readahead);
    if (cfg->readahead == CONFIG_READAHEAD_CLUSTER)
        pv_snprintf(line, sizeof(line), "config swap=%s readahead=%s:%u", swap,
                    ra, (unsigned)cfg->readahead_pages);
    else
        pv_snprintf(line, sizeof(line), "config swap=%s readahead=%s", swap,
                    ra);
    emit(ctx, line);

    pv_snprintf(line, sizeof(line), "config console=0x%x log=%s",
                (unsigned)cfg->console_port, config_log_word(cfg->log_level));
    emit(ctx, line);
    if (cfg->console_data != CONFIG_CONSOLE_DATA_PASS) {
        pv_snprintf(line, sizeof(line), "config console-data=%s",
                    config_console_data_word(cfg->console_data));
        emit(ctx, line);
    }
    if (cfg->selftest == CONFIG_SELFTEST_EXCEPTION)
        emit(ctx, "config selftest=exception");
    if (cfg->disk != CONFIG_DISK_NONE) {
        char d[sizeof("serial=") + CONFIG_DISK_SERIAL_MAX + sizeof(",ro")];
        config_disk_word(cfg, d, sizeof(d));
        pv_snprintf(line, sizeof(line), "config disk=%s", d);
        emit(ctx, line);
    }
    if (cfg->telemetry_ms) {
        pv_snprintf(line, sizeof(line), "config telemetry=%u%s", (unsigned)cfg->telemetry_ms,
                    cfg->telemetry_trace ? ",trace" : "");
        emit(ctx, line);
    }
    return 0;
}

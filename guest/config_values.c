/*
 * Value grammars of pagevisor.conf keys (see config.h for the rules, and
 * config_values.h for how config.c calls them). Values are slices of the
 * caller's text: they are copied out, never NUL-terminated in place.
 */
#include "guest/config_values.h"

#include "vmm/lib/types.h"
#include "guest/size.h"

#define HEX_PREFIX_LEN 2u /* "0x" */
#define PCI_SEG_DIGITS 4u
#define PCI_BUS_DIGITS 2u
#define PCI_DEV_DIGITS 2u
#define PCI_FN_DIGITS 1u
#define DECIMAL_BASE 10u
#define HEX_SHIFT 4u

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static bool slice_starts(struct slice s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && memcmp(s.p, prefix, n) == 0;
}

/* See config_values.h. */
const char *config_quote(char buf[CONFIG_QUOTE_BUF], struct slice s)
{
    size_t n = s.len > CONFIG_QUOTE_MAX ? CONFIG_QUOTE_MAX : s.len;
    memcpy(buf, s.p, n);
    if (n < s.len) {
        memcpy(buf + n, "...", sizeof("..."));
    } else {
        buf[n] = '\0';
    }
    return buf;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Whole slice as 1..max_digits hex digits. */
static bool parse_hex(struct slice s, size_t max_digits, uint32_t *out)
{
    if (s.len == 0 || s.len > max_digits)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        int d = hex_digit(s.p[i]);
        if (d < 0)
            return false;
        v = (v << HEX_SHIFT) | (uint32_t)d;
    }
    *out = v;
    return true;
}

static int set_path(struct parser *ps, const char *key, char *dst,
                    struct slice v)
{
    char q[CONFIG_QUOTE_BUF];
    if (v.p[0] != '/')
        return config_fail(ps,
                           "%s '%s': path must be absolute (start with '/')",
                           key, config_quote(q, v));
    if (v.len > CONFIG_PATH_MAX - 1)
        return config_fail(ps, "%s '%s': path longer than %u bytes", key,
                           config_quote(q, v), CONFIG_PATH_MAX - 1);
    char last = v.p[v.len - 1];
    if (last == '/' || last == '\\')
        return config_fail(ps, "%s '%s': path names a directory", key,
                           config_quote(q, v));
    memcpy(dst, v.p, v.len);
    dst[v.len] = '\0';
    return 0;
}

int config_set_linux(struct parser *ps, struct slice v)
{
    return set_path(ps, "linux", ps->cfg->linux_path, v);
}

int config_set_initrd(struct parser *ps, struct slice v)
{
    return set_path(ps, "initrd", ps->cfg->initrd_path, v);
}

/* systemd-boot semantics: every options line is appended, space-separated. */
int config_add_options(struct parser *ps, struct slice v)
{
    char *opts = ps->cfg->options;
    size_t have = strlen(opts);
    size_t sep = have ? 1 : 0;
    size_t total = have + sep + v.len;
    if (total > CONFIG_OPTIONS_MAX - 1)
        return config_fail(ps,
                           "options: command line would be %zu bytes, limit %u "
                           "(COMMAND_LINE_SIZE %u)",
                           total, CONFIG_OPTIONS_MAX - 1, CONFIG_OPTIONS_MAX);
    if (sep)
        opts[have] = ' ';
    memcpy(opts + have + sep, v.p, v.len);
    opts[total] = '\0';
    return 0;
}

/* Parses a size and checks the bounds and alignment shared by both keys. */
static int get_size(struct parser *ps, const char *key, struct slice v,
                    uint64_t min, uint64_t max, uint64_t *out)
{
    char q[CONFIG_QUOTE_BUF];
    char lim[SIZE_STR_MAX];
    uint64_t n;
    if (parse_size(v.p, v.len, &n) < 0)
        return config_fail(ps, "%s %s: not a size", key, config_quote(q, v));
    if (n < min) {
        format_size(min, lim, sizeof(lim));
        return config_fail(ps, "%s %s: below minimum %s", key,
                           config_quote(q, v), lim);
    }
    if (n > max) {
        format_size(max, lim, sizeof(lim));
        return config_fail(ps, "%s %s: above maximum %s", key,
                           config_quote(q, v), lim);
    }
    if (!IS_ALIGNED(n, CONFIG_SIZE_ALIGN)) {
        format_size(CONFIG_SIZE_ALIGN, lim, sizeof(lim));
        return config_fail(ps, "%s %s: not a multiple of %s", key,
                           config_quote(q, v), lim);
    }
    *out = n;
    return 0;
}

int config_set_memory(struct parser *ps, struct slice v)
{
    return get_size(ps, "memory", v, CONFIG_MEMORY_MIN, CONFIG_MEMORY_MAX,
                    &ps->cfg->memory);
}

/* The upper bound (memory) is checked once the whole file is read. */
int config_set_frames(struct parser *ps, struct slice v)
{
    return get_size(ps, "frames", v, CONFIG_FRAMES_MIN, UINT64_MAX,
                    &ps->cfg->frames);
}

/* Splits v at the first c: head before, *tail after. False if no c. */
static bool split_at(struct slice v, char c, struct slice *head,
                     struct slice *tail)
{
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] == c) {
            *head = (struct slice){ v.p, i };
            *tail = (struct slice){ v.p + i + 1, v.len - i - 1 };
            return true;
        }
    }
    return false;
}

/* See config_values.h. */
int config_parse_pci(struct parser *ps, const char *key, struct slice v, struct config_pci *out)
{
    struct slice a, rest, b, c, dev, fn;
    uint32_t seg = 0, bus, d, f;
    if (!split_at(v, ':', &a, &rest) || !split_at(rest, '.', &b, &fn))
        return 1;
    if (split_at(b, ':', &c, &dev)) { /* segment:bus:dev */
        if (!parse_hex(a, PCI_SEG_DIGITS, &seg) ||
            !parse_hex(c, PCI_BUS_DIGITS, &bus))
            return 1;
    } else { /* bus:dev */
        dev = b;
        if (!parse_hex(a, PCI_BUS_DIGITS, &bus))
            return 1;
    }
    if (!parse_hex(dev, PCI_DEV_DIGITS, &d) ||
        !parse_hex(fn, PCI_FN_DIGITS, &f))
        return 1;

    char q[CONFIG_QUOTE_BUF];
    if (d > CONFIG_PCI_DEV_MAX)
        return config_fail(ps, "%s '%s': device 0x%x out of range (max 0x%x)", key,
                           config_quote(q, v), d, CONFIG_PCI_DEV_MAX);
    if (f > CONFIG_PCI_FN_MAX)
        return config_fail(ps, "%s '%s': function %u out of range (max %u)", key,
                           config_quote(q, v), f, CONFIG_PCI_FN_MAX);
    *out = (struct config_pci){ (uint16_t)seg, (uint8_t)bus, (uint8_t)d, (uint8_t)f };
    return 0;
}

static int set_swap_pci(struct parser *ps, struct slice v)
{
    struct config_pci a;
    int rc = config_parse_pci(ps, "swap", v, &a);
    if (rc != 0)
        return rc;
    struct pv_config *cfg = ps->cfg;
    cfg->swap = CONFIG_SWAP_PCI;
    cfg->swap_segment = a.segment;
    cfg->swap_bus = a.bus;
    cfg->swap_dev = a.dev;
    cfg->swap_fn = a.fn;
    return 0;
}

static const struct {
    const char *name;
    enum config_swap kind;
} swap_words[] = {
    { "none", CONFIG_SWAP_NONE },
    { "auto", CONFIG_SWAP_AUTO },
    { "virtio", CONFIG_SWAP_VIRTIO },
    { "ata", CONFIG_SWAP_ATA },
};

int config_set_swap(struct parser *ps, struct slice v)
{
    for (size_t i = 0; i < ARRAY_LEN(swap_words); i++) {
        if (slice_eq(v, swap_words[i].name)) {
            ps->cfg->swap = swap_words[i].kind;
            return 0;
        }
    }
    int rc = set_swap_pci(ps, v);
    if (rc <= 0)
        return rc;
    char q[CONFIG_QUOTE_BUF];
    return config_fail(ps,
                       "swap '%s': expected none, auto, virtio, ata or a PCI "
                       "address [SSSS:]BB:DD.F",
                       config_quote(q, v));
}

int config_set_readahead(struct parser *ps, struct slice v)
{
    static const char cluster_n[] = "cluster:";
    struct pv_config *cfg = ps->cfg;
    char q[CONFIG_QUOTE_BUF];

    if (slice_eq(v, "off")) {
        cfg->readahead = CONFIG_READAHEAD_OFF;
        cfg->readahead_pages = 1;
    } else if (slice_eq(v, "auto")) {
        cfg->readahead = CONFIG_READAHEAD_AUTO;
        cfg->readahead_pages = CONFIG_READAHEAD_DEFAULT_PAGES;
    } else if (slice_eq(v, "cluster")) {
        cfg->readahead = CONFIG_READAHEAD_CLUSTER;
        cfg->readahead_pages = CONFIG_READAHEAD_DEFAULT_PAGES;
    } else if (slice_starts(v, cluster_n)) {
        struct slice n = { v.p + sizeof(cluster_n) - 1,
                           v.len - (sizeof(cluster_n) - 1) };
        uint32_t pages = 0;
        size_t i;
        for (i = 0; i < n.len && n.p[i] >= '0' && n.p[i] <= '9'; i++) {
            pages = pages * DECIMAL_BASE + (uint32_t)(n.p[i] - '0');
            if (pages > CONFIG_READAHEAD_MAX_PAGES)
                break;
        }
        if (n.len == 0 || i != n.len || pages == 0 ||
            pages > CONFIG_READAHEAD_MAX_PAGES || (pages & (pages - 1)) != 0)
            return config_fail(ps,
                               "readahead '%s': cluster size must be a power "
                               "of two from 1 to %u",
                               config_quote(q, v), CONFIG_READAHEAD_MAX_PAGES);
        cfg->readahead = CONFIG_READAHEAD_CLUSTER;
        cfg->readahead_pages = pages;
    } else {
        return config_fail(ps,
                           "readahead '%s': expected off, cluster, "
                           "cluster:N or auto",
                           config_quote(q, v));
    }
    return 0;
}

static const struct {
    const char *name;
    uint16_t port;
} com_ports[] = {
    { "com1", CONFIG_PORT_COM1 },
    { "com2", CONFIG_PORT_COM2 },
    { "com3", CONFIG_PORT_COM3 },
    { "com4", CONFIG_PORT_COM4 },
};

int config_set_console(struct parser *ps, struct slice v)
{
    char q[CONFIG_QUOTE_BUF];
    for (size_t i = 0; i < ARRAY_LEN(com_ports); i++) {
        if (slice_eq(v, com_ports[i].name)) {
            ps->cfg->console_port = com_ports[i].port;
            return 0;
        }
    }
    if (v.len > HEX_PREFIX_LEN && v.p[0] == '0' &&
        (v.p[1] == 'x' || v.p[1] == 'X')) {
        uint32_t port = 0;
        size_t i;
        for (i = HEX_PREFIX_LEN; i < v.len; i++) {
            int d = hex_digit(v.p[i]);
            if (d < 0)
                break;
            port = (port << HEX_SHIFT) | (uint32_t)d;
            if (port > CONFIG_PORT_MAX)
                break;
        }
        if (i == v.len) {
            if (port == 0)
                return config_fail(ps, "console '%s': I/O port must be nonzero",
                                   config_quote(q, v));
            ps->cfg->console_port = (uint16_t)port;
            return 0;
        }
        if (port > CONFIG_PORT_MAX)
            return config_fail(ps, "console '%s': I/O port above 0x%x",
                               config_quote(q, v), CONFIG_PORT_MAX);
    }
    return config_fail(ps,
                       "console '%s': expected com1, com2, com3, com4 or "
                       "an I/O port 0xNNNN",
                       config_quote(q, v));
}

/* The index of v in words[0..n), or -1: the values of a key whose enum
 * indexes its words. */
static int word_index(struct slice v, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (slice_eq(v, words[i]))
            return (int)i;
    return -1;
}

/* Indexed by enum config_console_data. */
static const char *const console_data_words[] = {
    [CONFIG_CONSOLE_DATA_PASS] = "pass",
    [CONFIG_CONSOLE_DATA_TRAP] = "trap",
};

int config_set_console_data(struct parser *ps, struct slice v)
{
    int i = word_index(v, console_data_words, ARRAY_LEN(console_data_words));
    if (i >= 0) {
        ps->cfg->console_data = (enum config_console_data)i;
        return 0;
    }
    char q[CONFIG_QUOTE_BUF];
    return config_fail(ps, "console-data '%s': expected pass or trap", config_quote(q, v));
}

const char *config_console_data_word(enum config_console_data mode)
{
    return (unsigned)mode < ARRAY_LEN(console_data_words) ? console_data_words[mode] : "?";
}

/* Indexed by enum log_level. */
static const char *const log_names[] = {
    [LOG_ERROR] = "error",
    [LOG_WARN] = "warn",
    [LOG_INFO] = "info",
    [LOG_DEBUG] = "debug",
    [LOG_TRACE] = "trace",
};

int config_set_log(struct parser *ps, struct slice v)
{
    int i = word_index(v, log_names, ARRAY_LEN(log_names));
    if (i >= 0) {
        ps->cfg->log_level = (enum log_level)i;
        return 0;
    }
    char q[CONFIG_QUOTE_BUF];
    return config_fail(ps,
                       "log '%s': expected error, warn, info, debug or trace",
                       config_quote(q, v));
}

static const char *const readahead_words[] = {
    [CONFIG_READAHEAD_OFF] = "off",
    [CONFIG_READAHEAD_CLUSTER] = "cluster",
    [CONFIG_READAHEAD_AUTO] = "auto",
};

const char *config_swap_word(enum config_swap swap)
{
    if (swap == CONFIG_SWAP_PCI)
        return NULL;
    for (size_t i = 0; i < ARRAY_LEN(swap_words); i++) {
        if (swap_words[i].kind == swap)
            return swap_words[i].name;
    }
    return "?";
}

const char *config_readahead_word(enum config_readahead ra)
{
    return (unsigned)ra < ARRAY_LEN(readahead_words) ? readahead_words[ra]
                                                     : "?";
}

const char *config_log_word(enum log_level level)
{
    return (unsigned)level < ARRAY_LEN(log_names) ? log_names[level] : "?";
}

int config_set_selftest(struct parser *ps, struct slice v)
{
    if (slice_eq(v, "none")) {
        ps->cfg->selftest = CONFIG_SELFTEST_NONE;
        return 0;
    }
    if (slice_eq(v, "exception")) {
        ps->cfg->selftest = CONFIG_SELFTEST_EXCEPTION;
        return 0;
    }
    char q[CONFIG_QUOTE_BUF];
    return config_fail(ps, "selftest '%s': expected none or exception", config_quote(q, v));
}

/* "off", "N" or "N,trace": CSV samples every N ms of guest time. */
int config_set_telemetry(struct parser *ps, struct slice v)
{
    static const char trace[] = ",trace";
    struct pv_config *cfg = ps->cfg;
    char q[CONFIG_QUOTE_BUF];
    if (slice_eq(v, "off")) {
        cfg->telemetry_ms = 0;
        cfg->telemetry_trace = false;
        return 0;
    }
    struct slice n = v;
    bool with_trace = false;
    if (v.len > sizeof(trace) - 1 &&
        !memcmp(v.p + v.len - (sizeof(trace) - 1), trace, sizeof(trace) - 1)) {
        n.len -= sizeof(trace) - 1;
        with_trace = true;
    }
    uint32_t ms = 0;
    size_t i;
    for (i = 0; i < n.len && n.p[i] >= '0' && n.p[i] <= '9'; i++) {
        ms = ms * DECIMAL_BASE + (uint32_t)(n.p[i] - '0');
        if (ms > CONFIG_TELEMETRY_MS_MAX)
            break;
    }
    if (n.len == 0 || i != n.len || ms == 0 || ms > CONFIG_TELEMETRY_MS_MAX)
        return config_fail(ps,
                           "telemetry '%s': expected off, or a sample interval in ms "
                           "(1 to %u) optionally followed by ',trace'",
                           config_quote(q, v), CONFIG_TELEMETRY_MS_MAX);
    cfg->telemetry_ms = ms;
    cfg->telemetry_trace = with_trace;
    return 0;
}

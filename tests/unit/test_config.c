/* Unit tests for guest/config.c + guest/config_values.c (pagevisor.conf). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ept/types.h"
#include "guest/config.h"

static struct pv_config cfg;
static char err[512];

/*
 * Parses text[0..len) from an exact-size heap copy (no NUL after it), so
 * ASan flags any read past the end of the file.
 */
static int parse_n(const char *text, size_t len)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    memset(err, 'X', sizeof(err));
    int rc = config_parse(&cfg, "pagevisor.conf", copy, len, err, sizeof(err));
    free(copy);
    return rc;
}

static int parse(const char *text) { return parse_n(text, strlen(text)); }

static void expect_ok(const char *text)
{
    int rc = parse(text);
    if (rc != 0)
        fail_msg("rejected: %s\n--- text:\n%s", err, text);
    assert_string_equal(err, "");
}

/* The parse fails with exactly this message and leaves cfg defaulted. */
static void expect_err_n(const char *text, size_t len, const char *msg)
{
    int rc = parse_n(text, len);
    assert_int_equal(rc, -PV_EINVAL);
    assert_string_equal(err, msg);
    assert_null(strchr(err, '\n'));
    struct pv_config def;
    config_defaults(&def);
    assert_memory_equal(&cfg, &def, sizeof(def));
}

static void expect_err(const char *text, const char *msg)
{
    expect_err_n(text, strlen(text), msg);
}

/* ---- structure ----------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    config_defaults(&cfg);
    assert_string_equal(cfg.linux_path, "");
    assert_string_equal(cfg.initrd_path, "");
    assert_string_equal(cfg.options, "");
    assert_int_equal(cfg.memory, 256 * SIZE_M);
    assert_int_equal(cfg.frames, 256 * SIZE_M);
    assert_int_equal(cfg.swap, CONFIG_SWAP_NONE);
    assert_int_equal(cfg.readahead, CONFIG_READAHEAD_CLUSTER);
    assert_int_equal(cfg.readahead_pages, 8);
    assert_int_equal(cfg.console_port, 0x3f8);
    assert_int_equal(cfg.log_level, LOG_INFO);
    for (int k = 0; k < CONFIG_KEY_COUNT; k++)
        assert_int_equal(cfg.line[k], 0);
    assert_false(config_overcommit(&cfg));
    assert_false(config_has_guest(&cfg));

    /* An empty file (or only comments) is all defaults. */
    struct pv_config def = cfg;
    memset(&cfg, 0x5a, sizeof(cfg));
    expect_ok("");
    assert_memory_equal(&cfg, &def, sizeof(def));
    expect_ok("# nothing\n\n   \n\t# indented comment\n");
    assert_memory_equal(&cfg, &def, sizeof(def));
}

static const char full_file[] =
    "# pagevisor test configuration\n"
    "linux   /EFI/linux/vmlinuz\n"
    "initrd\t/EFI\\linux\\initrd.img  \n"
    "\n"
    "options console=ttyS0  earlyprintk=serial\n"
    "   memory 512M\n"
    "frames 256MiB\n"
    "swap 0000:00:1F.2\n"
    "readahead cluster:16\n"
    "console com2\n"
    "log debug\n"
    "options quiet\n";

static void test_full_file(void **state)
{
    (void)state;
    expect_ok(full_file);
    assert_string_equal(cfg.linux_path, "/EFI/linux/vmlinuz");
    assert_string_equal(cfg.initrd_path, "/EFI\\linux\\initrd.img");
    assert_string_equal(cfg.options, "console=ttyS0  earlyprintk=serial quiet");
    assert_int_equal(cfg.memory, 512 * SIZE_M);
    assert_int_equal(cfg.frames, 256 * SIZE_M);
    assert_int_equal(cfg.swap, CONFIG_SWAP_PCI);
    assert_int_equal(cfg.swap_segment, 0);
    assert_int_equal(cfg.swap_bus, 0);
    assert_int_equal(cfg.swap_dev, 0x1f);
    assert_int_equal(cfg.swap_fn, 2);
    assert_int_equal(cfg.readahead, CONFIG_READAHEAD_CLUSTER);
    assert_int_equal(cfg.readahead_pages, 16);
    assert_int_equal(cfg.console_port, 0x2f8);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_true(config_overcommit(&cfg));
    assert_true(config_has_guest(&cfg));
}

static void test_initrd_path_must_start_with_slash(void **state)
{
    (void)state;
    /* '\' separates but does not start a path. */
    expect_err("linux /vmlinuz\ninitrd \\EFI\\initrd.img\n",
               "pagevisor.conf:2: initrd '\\EFI\\initrd.img': path must be "
               "absolute (start with '/')");
}

static void test_line_numbers(void **state)
{
    (void)state;
    expect_ok("\n# c\nmemory 1G\noptions a\nlinux /k\noptions b\r\n"
              "log warn\n");
    assert_int_equal(cfg.line[CONFIG_KEY_MEMORY], 3);
    assert_int_equal(cfg.line[CONFIG_KEY_OPTIONS], 4); /* first options */
    assert_int_equal(cfg.line[CONFIG_KEY_LINUX], 5);
    assert_int_equal(cfg.line[CONFIG_KEY_LOG], 7);
    assert_int_equal(cfg.line[CONFIG_KEY_FRAMES], 0);
    assert_int_equal(cfg.line[CONFIG_KEY_INITRD], 0);
    assert_int_equal(cfg.frames, SIZE_G); /* defaults to memory */
    assert_false(config_overcommit(&cfg));
}

static void test_crlf_and_bom(void **state)
{
    (void)state;
    struct pv_config lf;
    expect_ok("linux /k\nmemory 1G\noptions a b\n");
    lf = cfg;
    expect_ok("linux /k\r\nmemory 1G\r\noptions a b\r\n");
    assert_memory_equal(&cfg, &lf, sizeof(lf));
    expect_ok("\xef\xbb\xbflinux /k\r\nmemory 1G\noptions a b");
    assert_memory_equal(&cfg, &lf, sizeof(lf));
    /* A BOM anywhere else is just bytes of a key. */
    expect_err("linux /k\n\xef\xbb\xbfmemory 1G\n",
               "pagevisor.conf:2: unknown key '\xef\xbb\xbfmemory'");
    /* Only a BOM. */
    expect_ok("\xef\xbb\xbf");
    assert_int_equal(cfg.memory, CONFIG_MEMORY_DEFAULT);
}

static void test_not_nul_terminated(void **state)
{
    (void)state;
    /* The length, not a NUL, ends the file: "memory 1G" + trailing junk. */
    assert_int_equal(parse_n("memory 1Gjunk", 9), 0);
    assert_int_equal(cfg.memory, SIZE_G);
    assert_int_equal(parse_n("log info", 8), 0);
    assert_int_equal(parse_n("linux /a", 8), 0);
    assert_string_equal(cfg.linux_path, "/a");
}

static void test_control_characters(void **state)
{
    (void)state;
    expect_err_n("memory 1G\nlog in\0fo\n", 20,
                 "pagevisor.conf:2: control character 0x00 at column 7");
    expect_err_n("\0", 1, "pagevisor.conf:1: control character 0x00 at column 1");
    expect_err("log info\rmemory 1G\n",
               "pagevisor.conf:1: control character 0x0d at column 9");
    expect_err("log info\r", /* CR only counts as part of CRLF */
               "pagevisor.conf:1: control character 0x0d at column 9");
    expect_err("# comment\x1b[31m\n",
               "pagevisor.conf:1: control character 0x1b at column 10");
    expect_err("\n\noptions a\x7f\n",
               "pagevisor.conf:3: control character 0x7f at column 10");
    expect_err("memory\v1G\n",
               "pagevisor.conf:1: control character 0x0b at column 7");
    /* Tabs are blanks; high bytes (UTF-8) are fine in values. */
    expect_ok("\tmemory\t\t1G\t\noptions caf\xc3\xa9\n");
    assert_string_equal(cfg.options, "caf\xc3\xa9");
}

static void test_long_lines(void **state)
{
    (void)state;
    size_t n = CONFIG_LINE_MAX + 16;
    char *text = malloc(n);
    assert_non_null(text);

    /* Exactly CONFIG_LINE_MAX bytes, then LF / CRLF / end of file: fine. */
    memset(text, ' ', n);
    text[0] = '#';
    text[CONFIG_LINE_MAX] = '\n';
    memcpy(text + CONFIG_LINE_MAX + 1, "log warn\n", 9);
    assert_int_equal(parse_n(text, CONFIG_LINE_MAX + 10), 0);
    assert_int_equal(cfg.log_level, LOG_WARN);
    text[CONFIG_LINE_MAX] = '\r';
    text[CONFIG_LINE_MAX + 1] = '\n';
    assert_int_equal(parse_n(text, CONFIG_LINE_MAX + 2), 0);
    assert_int_equal(parse_n(text, CONFIG_LINE_MAX), 0);

    /* One byte more is an error naming the line. */
    memcpy(text, "log warn\n#", 10);
    memset(text + 10, 'x', n - 10);
    expect_err_n(text, CONFIG_LINE_MAX + 10,
                 "pagevisor.conf:2: line longer than 4096 bytes");
    text[CONFIG_LINE_MAX + 9] = '\n';
    assert_int_equal(parse_n(text, CONFIG_LINE_MAX + 10), 0);
    free(text);
}

/* ---- keys ----------------------------------------------------------------- */

static void test_unknown_key(void **state)
{
    (void)state;
    expect_err("linux /k\nmemory 1G\n# memroy\nmemroy 512M\n",
               "pagevisor.conf:4: unknown key 'memroy'");
    expect_err("Memory 1G\n", "pagevisor.conf:1: unknown key 'Memory'");
    expect_err("LINUX /k\n", "pagevisor.conf:1: unknown key 'LINUX'");
    expect_err("memory=1G\n", "pagevisor.conf:1: unknown key 'memory=1G'");
    expect_err("title Linux\n", "pagevisor.conf:1: unknown key 'title'");
    /* Unknown wins over a missing value. */
    expect_err("bogus\n", "pagevisor.conf:1: unknown key 'bogus'");
    /* Long keys are quoted shortened. */
    char key[200];
    memset(key, 'k', sizeof(key));
    key[sizeof(key) - 1] = '\0';
    char want[128];
    snprintf(want, sizeof(want), "pagevisor.conf:1: unknown key '%.64s...'",
             key);
    expect_err(key, want);
}

static void test_missing_value(void **state)
{
    (void)state;
    expect_err("memory\n", "pagevisor.conf:1: missing value for key 'memory'");
    expect_err("log warn\nlinux \t \r\n",
               "pagevisor.conf:2: missing value for key 'linux'");
    expect_err("options", "pagevisor.conf:1: missing value for key 'options'");
}

static void test_duplicate_key(void **state)
{
    (void)state;
    expect_err("linux /k\nmemory 512M\nlog info\n\nmemory 1G\n",
               "pagevisor.conf:5: duplicate key 'memory' (first on line 2)");
    expect_err("log info\nlog info\n",
               "pagevisor.conf:2: duplicate key 'log' (first on line 1)");
    expect_err("swap none\nswap ata\n",
               "pagevisor.conf:2: duplicate key 'swap' (first on line 1)");
    /* A rejected first occurrence stops the parse before any duplicate. */
    expect_err("memory 1X\nmemory 1G\n", "pagevisor.conf:1: memory 1X: not a size");
}

/* ---- sizes ---------------------------------------------------------------- */

static void test_memory(void **state)
{
    (void)state;
    expect_ok("memory 16M");
    assert_int_equal(cfg.memory, 16 * SIZE_M);
    assert_int_equal(cfg.frames, 16 * SIZE_M);
    expect_ok("memory 1T");
    assert_int_equal(cfg.memory, SIZE_T);
    expect_ok("memory 1048580K");
    assert_int_equal(cfg.memory, 1048580 * SIZE_K);

    expect_err("memory lots\n", "pagevisor.conf:1: memory lots: not a size");
    expect_err("memory 1.5G\n", "pagevisor.conf:1: memory 1.5G: not a size");
    expect_err("memory 1 G\n", "pagevisor.conf:1: memory 1 G: not a size");
    expect_err("memory -1G\n", "pagevisor.conf:1: memory -1G: not a size");
    expect_err("memory 0x1000000\n",
               "pagevisor.conf:1: memory 0x1000000: not a size");
    expect_err("memory 99999999999999999999\n",
               "pagevisor.conf:1: memory 99999999999999999999: not a size");
    expect_err("memory 8M\n", "pagevisor.conf:1: memory 8M: below minimum 16M");
    expect_err("memory 16777215\n",
               "pagevisor.conf:1: memory 16777215: below minimum 16M");
    expect_err("memory 1025G\n",
               "pagevisor.conf:1: memory 1025G: above maximum 1T");
    expect_err("memory 16777217\n",
               "pagevisor.conf:1: memory 16777217: not a multiple of 4K");
    expect_err("memory 16385K\n",
               "pagevisor.conf:1: memory 16385K: not a multiple of 4K");
}

static void test_frames(void **state)
{
    (void)state;
    expect_ok("memory 512M\nframes 4M\n");
    assert_int_equal(cfg.frames, 4 * SIZE_M);
    assert_true(config_overcommit(&cfg));
    /* Order does not matter: the bound is checked at the end. */
    expect_ok("frames 1G\nmemory 2G\n");
    assert_int_equal(cfg.frames, SIZE_G);
    assert_int_equal(cfg.memory, 2 * SIZE_G);
    expect_ok("frames 256M\n"); /* equal to the default memory */
    assert_false(config_overcommit(&cfg));

    expect_err("log info\nframes 3X\n", "pagevisor.conf:2: frames 3X: not a size");
    expect_err("frames 3M\n", "pagevisor.conf:1: frames 3M: below minimum 4M");
    expect_err("frames 4097K\n",
               "pagevisor.conf:1: frames 4097K: not a multiple of 4K");
    expect_err("memory 512M\nlinux /k\nframes 1G\n",
               "pagevisor.conf:3: frames 1G exceeds memory 512M");
    expect_err("frames 1024M\nmemory 512M\n",
               "pagevisor.conf:1: frames 1G exceeds memory 512M");
    expect_err("frames 257M\n", "pagevisor.conf:1: frames 257M exceeds memory 256M");
    expect_err("frames 2T\n", "pagevisor.conf:1: frames 2T exceeds memory 256M");
}

/* ---- paths and options --------------------------------------------------- */

static void test_paths(void **state)
{
    (void)state;
    expect_ok("linux /vmlinuz\n");
    assert_string_equal(cfg.linux_path, "/vmlinuz");
    expect_ok("linux /EFI\\Linux/my kernel.efi \n");
    assert_string_equal(cfg.linux_path, "/EFI\\Linux/my kernel.efi");

    expect_err("linux vmlinuz\n", "pagevisor.conf:1: linux 'vmlinuz': path "
                                  "must be absolute (start with '/')");
    expect_err("linux /boot/\n",
               "pagevisor.conf:1: linux '/boot/': path names a directory");
    expect_err("linux /k\ninitrd /boot\\\n",
               "pagevisor.conf:2: initrd '/boot\\': path names a directory");
    expect_err("linux /\n", "pagevisor.conf:1: linux '/': path names a directory");

    /* 255 bytes fit, 256 do not. */
    char text[300] = "linux /";
    memset(text + 7, 'a', 254);
    text[7 + 254] = '\0';
    expect_ok(text);
    assert_int_equal(strlen(cfg.linux_path), 255);
    assert_int_equal(cfg.linux_path[0], '/');
    strcat(text, "b");
    char want[200];
    snprintf(want, sizeof(want),
             "pagevisor.conf:1: linux '%.64s...': path longer than 255 bytes",
             text + 6);
    expect_err(text, want);
}

static void test_initrd_without_linux(void **state)
{
    (void)state;
    expect_err("initrd /initrd.img\nmemory 1G\n",
               "pagevisor.conf: initrd given but no linux");
    expect_ok("initrd /initrd.img\nlinux /vmlinuz\n");
    assert_string_equal(cfg.initrd_path, "/initrd.img");
}

static void test_options(void **state)
{
    (void)state;
    expect_ok("options  console=ttyS0   root=/dev/vda \t\n"
              "linux /k\noptions quiet\n\noptions   a=\"b c\"\n");
    assert_string_equal(cfg.options, "console=ttyS0   root=/dev/vda quiet a=\"b c\"");

    /* 2047 bytes in one line or spread over several: fine. */
    char *text = malloc(4096);
    assert_non_null(text);
    strcpy(text, "options ");
    memset(text + 8, 'x', 2047);
    text[8 + 2047] = '\0';
    expect_ok(text);
    assert_int_equal(strlen(cfg.options), 2047);

    strcat(text, "y");
    expect_err(text, "pagevisor.conf:1: options: command line would be 2048 "
                     "bytes, limit 2047 (COMMAND_LINE_SIZE 2048)");

    /* 1000 + 1 + 1046 = 2047 joined; one more byte overflows on line 3. */
    strcpy(text, "options ");
    memset(text + 8, 'a', 1000);
    strcpy(text + 1008, "\n# c\noptions ");
    size_t at = strlen(text);
    memset(text + at, 'b', 1046);
    text[at + 1046] = '\0';
    expect_ok(text);
    assert_int_equal(strlen(cfg.options), 2047);
    assert_int_equal(cfg.options[1000], ' ');
    strcat(text, "\noptions c");
    expect_err(text, "pagevisor.conf:4: options: command line would be 2049 "
                     "bytes, limit 2047 (COMMAND_LINE_SIZE 2048)");
    free(text);
}

/* ---- enumerated values --------------------------------------------------- */

static void test_swap(void **state)
{
    (void)state;
    static const struct {
        const char *word;
        enum config_swap kind;
    } words[] = {
        { "none", CONFIG_SWAP_NONE },
        { "auto", CONFIG_SWAP_AUTO },
        { "virtio", CONFIG_SWAP_VIRTIO },
        { "ata", CONFIG_SWAP_ATA },
    };
    char text[64];
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        snprintf(text, sizeof(text), "swap %s\n", words[i].word);
        expect_ok(text);
        assert_int_equal(cfg.swap, words[i].kind);
    }

    expect_ok("swap 00:04.0");
    assert_int_equal(cfg.swap, CONFIG_SWAP_PCI);
    assert_int_equal(cfg.swap_segment, 0);
    assert_int_equal(cfg.swap_bus, 0);
    assert_int_equal(cfg.swap_dev, 4);
    assert_int_equal(cfg.swap_fn, 0);
    expect_ok("swap ffff:Fe:1f.7");
    assert_int_equal(cfg.swap_segment, 0xffff);
    assert_int_equal(cfg.swap_bus, 0xfe);
    assert_int_equal(cfg.swap_dev, 0x1f);
    assert_int_equal(cfg.swap_fn, 7);
    expect_ok("swap 1:2.3");
    assert_int_equal(cfg.swap_bus, 1);
    assert_int_equal(cfg.swap_dev, 2);
    assert_int_equal(cfg.swap_fn, 3);

    static const char *const bad[] = {
        "floppy", "None", "virtio0", "00:04", "00.04.0", "000:04.0",
        "00:004.0", "00:04.00", "00:04.", ":04.0", "00:.0", "10000:00:04.0",
        "0:0:0:0.0", "00:0g.0", "00 :04.0", "-1:04.0",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[200];
        snprintf(text, sizeof(text), "swap %s\n", bad[i]);
        snprintf(want, sizeof(want),
                 "pagevisor.conf:1: swap '%s': expected none, auto, virtio, "
                 "ata or a PCI address [SSSS:]BB:DD.F", bad[i]);
        expect_err(text, want);
    }
    expect_err("swap 00:20.0\n", "pagevisor.conf:1: swap '00:20.0': device "
                                 "0x20 out of range (max 0x1f)");
    expect_err("swap 0000:00:1f.8\n", "pagevisor.conf:1: swap '0000:00:1f.8': "
                                      "function 8 out of range (max 7)");
}

static void test_readahead(void **state)
{
    (void)state;
    expect_ok("readahead off");
    assert_int_equal(cfg.readahead, CONFIG_READAHEAD_OFF);
    assert_int_equal(cfg.readahead_pages, 1);
    expect_ok("readahead auto");
    assert_int_equal(cfg.readahead, CONFIG_READAHEAD_AUTO);
    assert_int_equal(cfg.readahead_pages, 8);
    expect_ok("readahead cluster");
    assert_int_equal(cfg.readahead, CONFIG_READAHEAD_CLUSTER);
    assert_int_equal(cfg.readahead_pages, 8);
    char text[64];
    for (unsigned n = 1; n <= 256; n *= 2) {
        snprintf(text, sizeof(text), "readahead cluster:%u\n", n);
        expect_ok(text);
        assert_int_equal(cfg.readahead, CONFIG_READAHEAD_CLUSTER);
        assert_int_equal(cfg.readahead_pages, n);
    }
    expect_ok("readahead cluster:0016");
    assert_int_equal(cfg.readahead_pages, 16);

    expect_err("log info\nlinux /k\n\n\nreadahead sometimes\n",
               "pagevisor.conf:5: readahead 'sometimes': expected off, "
               "cluster, cluster:N or auto");
    expect_err("readahead Off\n", "pagevisor.conf:1: readahead 'Off': expected "
                                  "off, cluster, cluster:N or auto");
    expect_err("readahead cluster8\n", "pagevisor.conf:1: readahead "
               "'cluster8': expected off, cluster, cluster:N or auto");
    static const char *const bad_n[] = {
        "0", "3", "12", "512", "257", "", "x", "-8", "+8", "8k", "0x8",
        "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad_n) / sizeof(bad_n[0]); i++) {
        char want[200];
        snprintf(text, sizeof(text), "readahead cluster:%s\n", bad_n[i]);
        snprintf(want, sizeof(want), "pagevisor.conf:1: readahead 'cluster:%s'"
                 ": cluster size must be a power of two from 1 to 256", bad_n[i]);
        expect_err(text, want);
    }
}

static void test_console(void **state)
{
    (void)state;
    static const struct {
        const char *word;
        uint16_t port;
    } ports[] = {
        { "com1", 0x3f8 },   { "com2", 0x2f8 },   { "com3", 0x3e8 },
        { "com4", 0x2e8 },   { "0x3f8", 0x3f8 },  { "0X2F8", 0x2f8 },
        { "0xffff", 0xffff }, { "0x1", 1 },       { "0x0000402", 0x402 },
    };
    char text[64];
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        snprintf(text, sizeof(text), "console %s\n", ports[i].word);
        expect_ok(text);
        assert_int_equal(cfg.console_port, ports[i].port);
    }
    expect_err("console 0x0\n",
               "pagevisor.conf:1: console '0x0': I/O port must be nonzero");
    expect_err("console 0x10000\n",
               "pagevisor.conf:1: console '0x10000': I/O port above 0xffff");
    expect_err("console 0xfffffffffffffffff\n", "pagevisor.conf:1: console "
               "'0xfffffffffffffffff': I/O port above 0xffff");
    static const char *const bad[] = {
        "com5", "COM1", "com0", "ttyS0", "0x", "0xg", "1016", "x3f8", "0x3f8h",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[200];
        snprintf(text, sizeof(text), "console %s\n", bad[i]);
        snprintf(want, sizeof(want), "pagevisor.conf:1: console '%s': expected "
                 "com1, com2, com3, com4 or an I/O port 0xNNNN", bad[i]);
        expect_err(text, want);
    }
}

static void test_log(void **state)
{
    (void)state;
    static const struct {
        const char *word;
        enum log_level level;
    } levels[] = {
        { "error", LOG_ERROR }, { "warn", LOG_WARN },   { "info", LOG_INFO },
        { "debug", LOG_DEBUG }, { "trace", LOG_TRACE },
    };
    char text[64];
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        snprintf(text, sizeof(text), "log %s\n", levels[i].word);
        expect_ok(text);
        assert_int_equal(cfg.log_level, levels[i].level);
    }
    expect_err("log verbose\n", "pagevisor.conf:1: log 'verbose': expected "
                                "error, warn, info, debug or trace");
    expect_err("log warning\n", "pagevisor.conf:1: log 'warning': expected "
                                "error, warn, info, debug or trace");
    expect_err("log 3\n", "pagevisor.conf:1: log '3': expected "
                          "error, warn, info, debug or trace");
}

/* ---- errors, API edges ---------------------------------------------------- */

static void test_error_leaves_defaults(void **state)
{
    (void)state;
    /* Lots of valid settings, then a bad one: nothing partial survives. */
    expect_err("linux /k\noptions a\nmemory 1G\nframes 512M\nswap ata\n"
               "log trace\nconsole com3\nreadahead off\nbogus 1\n",
               "pagevisor.conf:9: unknown key 'bogus'");
}

static void test_file_name_and_err_buffer(void **state)
{
    (void)state;
    char small[24];
    const char text[] = "memory 1X\n";
    assert_int_equal(config_parse(&cfg, "/EFI/pv/pv.conf", text, strlen(text),
                                  err, sizeof(err)), -PV_EINVAL);
    assert_string_equal(err, "/EFI/pv/pv.conf:1: memory 1X: not a size");
    assert_int_equal(config_parse(&cfg, NULL, text, strlen(text), err,
                                  sizeof(err)), -PV_EINVAL);
    assert_string_equal(err, "pagevisor.conf:1: memory 1X: not a size");

    /* Truncated but terminated; NULL / empty buffers tolerated. */
    assert_int_equal(config_parse(&cfg, NULL, text, strlen(text), small,
                                  sizeof(small)), -PV_EINVAL);
    assert_string_equal(small, "pagevisor.conf:1: memor");
    small[0] = 'Z';
    assert_int_equal(config_parse(&cfg, NULL, text, strlen(text), small, 0),
                     -PV_EINVAL);
    assert_int_equal(small[0], 'Z');
    assert_int_equal(config_parse(&cfg, NULL, text, strlen(text), NULL, 0),
                     -PV_EINVAL);
    assert_int_equal(config_parse(&cfg, NULL, "memory 1G", 9, NULL, 0), 0);
    assert_int_equal(cfg.memory, SIZE_G);

    /* Success clears a stale message. */
    strcpy(err, "stale");
    assert_int_equal(config_parse(&cfg, NULL, "", 0, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(config_parse(&cfg, NULL, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(config_parse(&cfg, NULL, NULL, 5, err, sizeof(err)),
                     -PV_EINVAL);
    assert_string_equal(err, "pagevisor.conf: no text to parse");
    assert_int_equal(config_parse(NULL, NULL, "", 0, err, sizeof(err)),
                     -PV_EINVAL);
    assert_string_equal(err, "pagevisor.conf: no config to fill");
}

static void test_config_error(void **state)
{
    (void)state;
    assert_int_equal(config_error(err, sizeof(err), "pagevisor.conf", 2,
                                  "linux '%s': file not found", "/vmlinuz"),
                     -PV_EINVAL);
    assert_string_equal(err, "pagevisor.conf:2: linux '/vmlinuz': file not found");
    config_error(err, sizeof(err), NULL, 0, "no guest configured");
    assert_string_equal(err, "pagevisor.conf: no guest configured");
    assert_int_equal(config_error(NULL, 0, NULL, 1, "x"), -PV_EINVAL);
}

static void test_key_names(void **state)
{
    (void)state;
    assert_string_equal(config_key_name(CONFIG_KEY_LINUX), "linux");
    assert_string_equal(config_key_name(CONFIG_KEY_READAHEAD), "readahead");
    assert_string_equal(config_key_name(CONFIG_KEY_LOG), "log");
    assert_null(config_key_name(CONFIG_KEY_COUNT));
    /* Every name is a key the parser knows (a duplicate proves it). */
    char text[64];
    for (int k = 0; k < CONFIG_KEY_COUNT; k++) {
        snprintf(text, sizeof(text), "%s\n", config_key_name(k));
        char want[128];
        snprintf(want, sizeof(want),
                 "pagevisor.conf:1: missing value for key '%s'",
                 config_key_name(k));
        expect_err(text, want);
    }
}

/* ---- describe ------------------------------------------------------------- */

struct lines {
    char text[8][2200];
    int n;
};

static void collect(void *ctx, const char *line)
{
    struct lines *l = ctx;
    assert_true(l->n < 8);
    assert_null(strchr(line, '\n'));
    snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", line);
}

static void test_describe_defaults(void **state)
{
    (void)state;
    static struct lines l;
    l.n = 0;
    config_defaults(&cfg);
    assert_int_equal(config_describe(&cfg, collect, &l), 0);
    assert_int_equal(l.n, 6);
    assert_string_equal(l.text[0], "config linux=none");
    assert_string_equal(l.text[1], "config initrd=none");
    assert_string_equal(l.text[2], "config options=");
    assert_string_equal(l.text[3], "config memory=256M frames=256M overcommit=no");
    assert_string_equal(l.text[4], "config swap=none readahead=cluster:8");
    assert_string_equal(l.text[5], "config console=0x3f8 log=info");
    assert_int_equal(config_describe(NULL, collect, &l), -PV_EINVAL);
    assert_int_equal(config_describe(&cfg, NULL, &l), -PV_EINVAL);
}

static void test_describe_full(void **state)
{
    (void)state;
    static struct lines l;
    l.n = 0;
    expect_ok(full_file);
    assert_int_equal(config_describe(&cfg, collect, &l), 0);
    assert_int_equal(l.n, 6);
    assert_string_equal(l.text[0], "config linux=/EFI/linux/vmlinuz");
    assert_string_equal(l.text[1], "config initrd=/EFI\\linux\\initrd.img");
    assert_string_equal(l.text[2],
                        "config options=console=ttyS0  earlyprintk=serial quiet");
    assert_string_equal(l.text[3], "config memory=512M frames=256M overcommit=yes");
    assert_string_equal(l.text[4], "config swap=0000:00:1f.2 readahead=cluster:16");
    assert_string_equal(l.text[5], "config console=0x2f8 log=debug");

    l.n = 0;
    expect_ok("memory 1536M\nframes 1000M\nswap auto\nreadahead auto\n"
              "log trace\nconsole 0x402\n");
    config_describe(&cfg, collect, &l);
    assert_string_equal(l.text[3], "config memory=1536M frames=1000M overcommit=yes");
    assert_string_equal(l.text[4], "config swap=auto readahead=auto");
    assert_string_equal(l.text[5], "config console=0x402 log=trace");
    l.n = 0;
    expect_ok("readahead off\nswap ABCD:7:3.1\n");
    config_describe(&cfg, collect, &l);
    assert_string_equal(l.text[4], "config swap=abcd:07:03.1 readahead=off");
}

/*
 * Every describe token is a value the parser accepts: turning the lines back
 * into "key value" lines reproduces the same settings.
 */
static void test_describe_round_trip(void **state)
{
    (void)state;
    static const char *const files[] = {
        full_file,
        "",
        "memory 1T\nframes 4M\nswap ffff:ff:1f.7\nreadahead cluster:1\n"
        "console 0xffff\nlog error\nlinux /a b\noptions x\n",
        "swap virtio\nreadahead auto\nlog warn\nconsole com4\n",
        "readahead off\nswap ata\nmemory 16M\n",
    };
    static struct lines l;
    static char rebuilt[8192];
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        expect_ok(files[f]);
        struct pv_config first = cfg;
        l.n = 0;
        config_describe(&first, collect, &l);
        size_t at = 0;
        rebuilt[0] = '\0';
        for (int i = 0; i < l.n; i++) {
            const char *p = l.text[i] + strlen("config ");
            bool free_text = i < 3; /* linux/initrd/options: value to the end */
            while (*p) {
                const char *eq = strchr(p, '=');
                assert_non_null(eq);
                const char *end = free_text ? p + strlen(p) : strchr(eq, ' ');
                if (!end)
                    end = p + strlen(p);
                int klen = (int)(eq - p), vlen = (int)(end - eq - 1);
                bool skip = vlen == 0 || strncmp(p, "overcommit", 10) == 0 ||
                            (vlen == 4 && strncmp(eq + 1, "none", 4) == 0 &&
                             strncmp(p, "swap", 4) != 0);
                if (!skip)
                    at += (size_t)snprintf(rebuilt + at, sizeof(rebuilt) - at,
                                           "%.*s %.*s\n", klen, p, vlen, eq + 1);
                p = *end ? end + 1 : end;
            }
        }
        expect_ok(rebuilt);
        memset(cfg.line, 0, sizeof(cfg.line));
        memset(first.line, 0, sizeof(first.line));
        assert_memory_equal(&cfg, &first, sizeof(first));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_initrd_path_must_start_with_slash),
        cmocka_unit_test(test_line_numbers),
        cmocka_unit_test(test_crlf_and_bom),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_initrd_without_linux),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_swap),
        cmocka_unit_test(test_readahead),
        cmocka_unit_test(test_console),
        cmocka_unit_test(test_log),
        cmocka_unit_test(test_error_leaves_defaults),
        cmocka_unit_test(test_file_name_and_err_buffer),
        cmocka_unit_test(test_config_error),
        cmocka_unit_test(test_key_names),
        cmocka_unit_test(test_describe_defaults),
        cmocka_unit_test(test_describe_full),
        cmocka_unit_test(test_describe_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

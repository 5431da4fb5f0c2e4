/* Unit tests: pagevisor.conf value grammars (guest/config_values.c). */
#include "tests/unit/config_test.h"

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

    expect_err("log info\nframes 3X\n",
               "pagevisor.conf:2: frames 3X: not a size");
    expect_err("frames 3M\n", "pagevisor.conf:1: frames 3M: below minimum 4M");
    expect_err("frames 4097K\n",
               "pagevisor.conf:1: frames 4097K: not a multiple of 4K");
    expect_err("memory 512M\nlinux /k\nframes 1G\n",
               "pagevisor.conf:3: frames 1G exceeds memory 512M");
    expect_err("frames 1024M\nmemory 512M\n",
               "pagevisor.conf:1: frames 1G exceeds memory 512M");
    expect_err("frames 257M\n",
               "pagevisor.conf:1: frames 257M exceeds memory 256M");
    expect_err("frames 2T\n",
               "pagevisor.conf:1: frames 2T exceeds memory 256M");
}

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
    expect_err("linux /\n",
               "pagevisor.conf:1: linux '/': path names a directory");

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

static void test_initrd_path_must_start_with_slash(void **state)
{
    (void)state;
    /* '\' separates but does not start a path. */
    expect_err("linux /vmlinuz\ninitrd \\EFI\\initrd.img\n",
               "pagevisor.conf:2: initrd '\\EFI\\initrd.img': path must be "
               "absolute (start with '/')");
}

static void test_options(void **state)
{
    (void)state;
    expect_ok("options  console=ttyS0   root=/dev/vda \t\n"
              "linux /k\noptions quiet\n\noptions   a=\"b c\"\n");
    assert_string_equal(cfg.options,
                        "console=ttyS0   root=/dev/vda quiet a=\"b c\"");

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
        "floppy",    "None",     "virtio0",  "00:04",
        "00.04.0",   "000:04.0", "00:004.0", "00:04.00",
        "00:04.",    ":04.0",    "00:.0",    "10000:00:04.0",
        "0:0:0:0.0", "00:0g.0",  "00 :04.0", "-1:04.0",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[200];
        snprintf(text, sizeof(text), "swap %s\n", bad[i]);
        snprintf(want, sizeof(want),
                 "pagevisor.conf:1: swap '%s': expected none, auto, virtio, "
                 "ata or a PCI address [SSSS:]BB:DD.F",
                 bad[i]);
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
    expect_err("readahead cluster8\n",
               "pagevisor.conf:1: readahead "
               "'cluster8': expected off, cluster, cluster:N or auto");
    static const char *const bad_n[] = {
        "0", "3",  "12", "512", "257", "",
        "x", "-8", "+8", "8k",  "0x8", "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad_n) / sizeof(bad_n[0]); i++) {
        char want[200];
        snprintf(text, sizeof(text), "readahead cluster:%s\n", bad_n[i]);
        snprintf(want, sizeof(want),
                 "pagevisor.conf:1: readahead 'cluster:%s'"
                 ": cluster size must be a power of two from 1 to 256",
                 bad_n[i]);
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
        { "com1", 0x3f8 },    { "com2", 0x2f8 },  { "com3", 0x3e8 },
        { "com4", 0x2e8 },    { "0x3f8", 0x3f8 }, { "0X2F8", 0x2f8 },
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
    expect_err("console 0xfffffffffffffffff\n",
               "pagevisor.conf:1: console "
               "'0xfffffffffffffffff': I/O port above 0xffff");
    static const char *const bad[] = {
        "com5", "COM1", "com0", "ttyS0", "0x", "0xg", "1016", "x3f8", "0x3f8h",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[200];
        snprintf(text, sizeof(text), "console %s\n", bad[i]);
        snprintf(want, sizeof(want),
                 "pagevisor.conf:1: console '%s': expected "
                 "com1, com2, com3, com4 or an I/O port 0xNNNN",
                 bad[i]);
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

static void test_selftest(void **state)
{
    (void)state;
    expect_ok("memory 64M\n");
    assert_int_equal(cfg.selftest, CONFIG_SELFTEST_NONE);
    expect_ok("selftest exception\n");
    assert_int_equal(cfg.selftest, CONFIG_SELFTEST_EXCEPTION);
    assert_int_equal(cfg.line[CONFIG_KEY_SELFTEST], 1);
    expect_ok("selftest none\n");
    assert_int_equal(cfg.selftest, CONFIG_SELFTEST_NONE);
    expect_err("selftest crash\n",
               "pagevisor.conf:1: selftest 'crash': expected none or exception");
}

static void test_console_data(void **state)
{
    (void)state;
    expect_ok("memory 64M\n");
    assert_int_equal(cfg.console_data, CONFIG_CONSOLE_DATA_PASS); /* the default */
    expect_ok("console-data trap\n");
    assert_int_equal(cfg.console_data, CONFIG_CONSOLE_DATA_TRAP);
    expect_ok("console-data pass\n");
    assert_int_equal(cfg.console_data, CONFIG_CONSOLE_DATA_PASS);
    expect_ok("console com2\nconsole-data   trap  \n");
    assert_int_equal(cfg.console_port, CONFIG_PORT_COM2);
    assert_int_equal(cfg.console_data, CONFIG_CONSOLE_DATA_TRAP);
    expect_err("console-data off\n",
               "pagevisor.conf:1: console-data 'off': expected pass or trap");
    expect_err("memory 64M\nconsole-data Trap\n",
               "pagevisor.conf:2: console-data 'Trap': expected pass or trap");
    expect_err("console-data trap\nconsole-data pass\n",
               "pagevisor.conf:2: duplicate key 'console-data' (first on line 1)");
}

static void test_telemetry(void **state)
{
    (void)state;
    expect_ok("memory 64M\n");
    assert_int_equal(cfg.telemetry_ms, 0);
    assert_false(cfg.telemetry_trace);
    expect_ok("telemetry 100\n");
    assert_int_equal(cfg.telemetry_ms, 100);
    assert_false(cfg.telemetry_trace);
    assert_int_equal(cfg.line[CONFIG_KEY_TELEMETRY], 1);
    expect_ok("telemetry 250,trace\n");
    assert_int_equal(cfg.telemetry_ms, 250);
    assert_true(cfg.telemetry_trace);
    expect_ok("telemetry 3600000\n");
    assert_int_equal(cfg.telemetry_ms, 3600000);
    expect_ok("telemetry off\n");
    assert_int_equal(cfg.telemetry_ms, 0);
    static const char *const bad[] = {
        "0", "3600001", "99999999999999", "fast", "100ms", "100,", "100,Trace", ",trace",
        "trace", "-5", "1 00",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[80], want[240];
        snprintf(text, sizeof(text), "telemetry %s\n", bad[i]);
        snprintf(want, sizeof(want),
                 "pagevisor.conf:1: telemetry '%s': expected off, or a sample interval in ms "
                 "(1 to 3600000) optionally followed by ',trace'", bad[i]);
        expect_err(text, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_initrd_path_must_start_with_slash),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_swap),
        cmocka_unit_test(test_readahead),
        cmocka_unit_test(test_console),
        cmocka_unit_test(test_log),
        cmocka_unit_test(test_selftest),
        cmocka_unit_test(test_console_data),
        cmocka_unit_test(test_telemetry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

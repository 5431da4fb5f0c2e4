/* Unit tests: pagevisor.conf structure, keys and errors (guest/config.c). */
#include "tests/unit/config_test.h"

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
    assert_int_equal(cfg.readahead, CONFIG_READAHEAD_AUTO);
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

static void test_full_file(void **state)
{
    (void)state;
    expect_ok(CONFIG_TEST_FULL_FILE);
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
    expect_err_n("\0", 1,
                 "pagevisor.conf:1: control character 0x00 at column 1");
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
    expect_err("memory 1X\nmemory 1G\n",
               "pagevisor.conf:1: memory 1X: not a size");
}

static void test_initrd_without_linux(void **state)
{
    (void)state;
    expect_err("initrd /initrd.img\nmemory 1G\n",
               "pagevisor.conf: initrd given but no linux");
    expect_ok("initrd /initrd.img\nlinux /vmlinuz\n");
    assert_string_equal(cfg.initrd_path, "/initrd.img");
}

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
                                  err, sizeof(err)),
                     -PV_EINVAL);
    assert_string_equal(err, "/EFI/pv/pv.conf:1: memory 1X: not a size");
    assert_int_equal(
        config_parse(&cfg, NULL, text, strlen(text), err, sizeof(err)),
        -PV_EINVAL);
    assert_string_equal(err, "pagevisor.conf:1: memory 1X: not a size");

    /* Truncated but terminated; NULL / empty buffers tolerated. */
    assert_int_equal(
        config_parse(&cfg, NULL, text, strlen(text), small, sizeof(small)),
        -PV_EINVAL);
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
    assert_string_equal(err,
                        "pagevisor.conf:2: linux '/vmlinuz': file not found");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_line_numbers),
        cmocka_unit_test(test_crlf_and_bom),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_initrd_without_linux),
        cmocka_unit_test(test_error_leaves_defaults),
        cmocka_unit_test(test_file_name_and_err_buffer),
        cmocka_unit_test(test_config_error),
        cmocka_unit_test(test_key_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

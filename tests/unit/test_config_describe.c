/* Unit tests: config_describe() output (guest/config.c). */
#include "tests/unit/config_test.h"

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
    assert_string_equal(l.text[3],
                        "config memory=256M frames=256M overcommit=no");
    assert_string_equal(l.text[4], "config swap=none readahead=auto");
    assert_string_equal(l.text[5], "config console=0x3f8 log=info");
    assert_int_equal(config_describe(NULL, collect, &l), -PV_EINVAL);
    assert_int_equal(config_describe(&cfg, NULL, &l), -PV_EINVAL);
}

static void test_describe_full(void **state)
{
    (void)state;
    static struct lines l;
    l.n = 0;
    expect_ok(CONFIG_TEST_FULL_FILE);
    assert_int_equal(config_describe(&cfg, collect, &l), 0);
    assert_int_equal(l.n, 6);
    assert_string_equal(l.text[0], "config linux=/EFI/linux/vmlinuz");
    assert_string_equal(l.text[1], "config initrd=/EFI\\linux\\initrd.img");
    assert_string_equal(
        l.text[2], "config options=console=ttyS0  earlyprintk=serial quiet");
    assert_string_equal(l.text[3],
                        "config memory=512M frames=256M overcommit=yes");
    assert_string_equal(l.text[4],
                        "config swap=0000:00:1f.2 readahead=cluster:16");
    assert_string_equal(l.text[5], "config console=0x2f8 log=debug");

    l.n = 0;
    expect_ok("memory 1536M\nframes 1000M\nswap auto\nreadahead auto\n"
              "log trace\nconsole 0x402\n");
    config_describe(&cfg, collect, &l);
    assert_string_equal(l.text[3],
                        "config memory=1536M frames=1000M overcommit=yes");
    assert_string_equal(l.text[4], "config swap=auto readahead=auto");
    assert_string_equal(l.text[5], "config console=0x402 log=trace");
    l.n = 0;
    expect_ok("readahead off\nswap ABCD:7:3.1\n");
    config_describe(&cfg, collect, &l);
    assert_string_equal(l.text[4], "config swap=abcd:07:03.1 readahead=off");
    l.n = 0;
    expect_ok("telemetry 250,trace\n");
    config_describe(&cfg, collect, &l);
    assert_int_equal(l.n, 7);
    assert_string_equal(l.text[6], "config telemetry=250,trace");
    /* console-data: a line only when not the default pass */
    l.n = 0;
    expect_ok("console-data trap\n");
    config_describe(&cfg, collect, &l);
    assert_int_equal(l.n, 7);
    assert_string_equal(l.text[6], "config console-data=trap");
    l.n = 0;
    expect_ok("console-data pass\n");
    config_describe(&cfg, collect, &l);
    assert_int_equal(l.n, 6);
}

/*
 * Every describe token is a value the parser accepts: turning the lines back
 * into "key value" lines reproduces the same settings.
 */
static void test_describe_round_trip(void **state)
{
    (void)state;
    static const char *const files[] = {
        CONFIG_TEST_FULL_FILE,
        "",
        "memory 1T\nframes 4M\nswap ffff:ff:1f.7\nreadahead cluster:1\n"
        "console 0xffff\nlog error\nlinux /a b\noptions x\n",
        "swap virtio\nreadahead auto\nlog warn\nconsole com4\n",
        "readahead off\nswap ata\nmemory 16M\n",
        "telemetry 40\n",
        "telemetry 1000,trace\nlog debug\n",
        "console-data trap\nconsole com2\n",
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
                    at +=
                        (size_t)snprintf(rebuilt + at, sizeof(rebuilt) - at,
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
        cmocka_unit_test(test_describe_defaults),
        cmocka_unit_test(test_describe_full),
        cmocka_unit_test(test_describe_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

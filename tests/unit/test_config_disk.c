/* The `disk` key (guest/config_disk.c): accepted forms, refusals, describe. */
#include "tests/unit/config_test.h"

static char described[64];

static void keep_disk_line(void *ctx, const char *line)
{
    (void)ctx;
    if (!strncmp(line, "config disk=", 12))
        snprintf(described, sizeof(described), "%s", line + 12);
}

/* Parse, describe, and parse the description again: the same config. */
static void round_trip(const char *text, const char *want_word)
{
    expect_ok(text);
    struct pv_config first = cfg;
    described[0] = '\0';
    assert_int_equal(config_describe(&cfg, keep_disk_line, NULL), 0);
    assert_string_equal(described, want_word);
    char again[128];
    snprintf(again, sizeof(again), "disk %s\n", described);
    expect_ok(again);
    assert_memory_equal(&first.disk, &cfg.disk,
                        offsetof(struct pv_config, disk_ro) + sizeof(bool) -
                            offsetof(struct pv_config, disk));
}

static void test_disk_forms(void **state)
{
    (void)state;
    expect_ok("linux /k\n");
    assert_int_equal(cfg.disk, CONFIG_DISK_NONE);
    described[0] = '\0';
    config_describe(&cfg, keep_disk_line, NULL);
    assert_string_equal(described, ""); /* no line without a disk */

    round_trip("disk 00:05.0\n", "0000:00:05.0");
    assert_int_equal(cfg.disk, CONFIG_DISK_PCI);
    assert_int_equal(cfg.disk_dev, 5);
    assert_false(cfg.disk_ro);
    round_trip("disk 0001:02:1f.7,ro\n", "0001:02:1f.7,ro");
    assert_int_equal(cfg.disk_segment, 1);
    assert_int_equal(cfg.disk_bus, 2);
    assert_int_equal(cfg.disk_fn, 7);
    assert_true(cfg.disk_ro);
    round_trip("disk serial=data-1.x_Y\n", "serial=data-1.x_Y");
    assert_int_equal(cfg.disk, CONFIG_DISK_SERIAL);
    assert_string_equal(cfg.disk_serial, "data-1.x_Y");
    round_trip("disk serial=abcdefghij0123456789,ro\n", "serial=abcdefghij0123456789,ro");
    assert_true(cfg.disk_ro);
    round_trip("disk ata1-master\n", "ata1-master");
    assert_int_equal(cfg.disk, CONFIG_DISK_ATA);
    assert_int_equal(cfg.disk_ata_channel, 1);
    assert_false(cfg.disk_ata_slave);
    round_trip("disk ata0-slave,ro\n", "ata0-slave,ro");
    assert_int_equal(cfg.disk_ata_channel, 0);
    assert_true(cfg.disk_ata_slave);
    round_trip("disk ata1-slave\n", "ata1-slave");
}

static void test_disk_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "sda", "00:05", "virtio", ",ro", "00:05.0,rw", "00:05.0,ro,ro", "ata2-master", "serial",
    };
    char text[128], want[300];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "disk %s\n", bad[i]);
        snprintf(want, sizeof(want),
                 "pagevisor.conf:1: disk '%s': expected a PCI address [SSSS:]BB:DD.F, "
                 "serial=NAME, ata0-slave, ata1-master or ata1-slave, optionally followed by ,ro",
                 bad[i]);
        expect_err(text, want);
    }
    expect_err("disk serial=\n",
               "pagevisor.conf:1: disk 'serial=': a serial is 1 to 20 characters");
    expect_err("disk serial=abcdefghij0123456789x\n",
               "pagevisor.conf:1: disk 'serial=abcdefghij0123456789x': a serial is 1 to 20 "
               "characters");
    expect_err("disk serial=a b\n", "pagevisor.conf:1: disk 'serial=a b': serial character ' ' "
                                    "is not one of A-Z a-z 0-9 . _ -");
    expect_err("disk ata0-master\n", "pagevisor.conf:1: disk 'ata0-master': ata0-master holds "
                                     "the boot disk; use ata0-slave, ata1-master or ata1-slave");
    expect_err("disk 00:20.0\n",
               "pagevisor.conf:1: disk '00:20.0': device 0x20 out of range (max 0x1f)");
    expect_err("disk 00:05.0\ndisk 00:06.0\n",
               "pagevisor.conf:2: duplicate key 'disk' (first on line 1)");
    expect_err("swap 00:05.0\ndisk 0000:00:05.0,ro\n",
               "pagevisor.conf:2: disk and swap name the same device");
    expect_ok("swap 00:04.0\ndisk 00:05.0\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk_forms),
        cmocka_unit_test(test_disk_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

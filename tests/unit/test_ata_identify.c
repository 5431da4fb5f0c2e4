/* Unit tests for ATA IDENTIFY parsing (swap/ata.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/lib/types.h"
#include "vmm/drivers/ata.h"

static uint16_t id[ATA_IDENTIFY_WORDS];

/* ATA strings: two characters per word, the first in the high byte. */
static void put_string(unsigned word, unsigned words, const char *s)
{
    char buf[64];
    memset(buf, ' ', sizeof(buf));
    memcpy(buf, s, strlen(s));
    for (unsigned i = 0; i < words; i++)
        id[word + i] = (uint16_t)((uint8_t)buf[2 * i] << 8 | (uint8_t)buf[2 * i + 1]);
}

/* What Bochs reports for a small flat disk: LBA28 only. */
static void bochs_disk(uint32_t sectors)
{
    memset(id, 0, sizeof(id));
    id[ATA_ID_CONFIG] = 0x0040;
    put_string(ATA_ID_SERIAL, ATA_ID_SERIAL_WORDS, "BXHD00011");
    put_string(ATA_ID_MODEL, ATA_ID_MODEL_WORDS, "Generic 1234");
    id[ATA_ID_CAPABILITY] = ATA_ID_CAP_LBA | (1u << 8);
    id[ATA_ID_LBA28_SECTORS] = (uint16_t)sectors;
    id[ATA_ID_LBA28_SECTORS + 1] = (uint16_t)(sectors >> 16);
    id[ATA_ID_CMDSET2] = ATA_ID_CMDSET2_VALID;
}

static void test_lba28(void **state)
{
    (void)state;
    bochs_disk(131072);
    struct ata_identity a;
    char err[128];
    assert_int_equal(ata_identify_parse(id, &a, err, sizeof(err)), 0);
    assert_int_equal(a.sectors, 131072);
    assert_false(a.lba48);
    assert_int_equal(a.sector_size, 512);
    assert_string_equal(a.model, "Generic 1234");
    assert_string_equal(a.serial, "BXHD00011");
}

static void test_lba48(void **state)
{
    (void)state;
    bochs_disk(0x0FFFFFFF);   /* LBA28 words saturate on big disks */
    id[ATA_ID_CMDSET2] = ATA_ID_CMDSET2_VALID | ATA_ID_CMDSET2_LBA48;
    uint64_t big = 3907029168ull;   /* a 2 TB disk */
    for (unsigned i = 0; i < 4; i++)
        id[ATA_ID_LBA48_SECTORS + i] = (uint16_t)(big >> (16 * i));
    struct ata_identity a;
    char err[128];
    assert_int_equal(ata_identify_parse(id, &a, err, sizeof(err)), 0);
    assert_true(a.lba48);
    assert_int_equal(a.sectors, big);
    /* LBA48 claimed through a word 83 that is not valid: ignored */
    id[ATA_ID_CMDSET2] = 0xFFFF;
    assert_int_equal(ata_identify_parse(id, &a, err, sizeof(err)), 0);
    assert_false(a.lba48);
    assert_int_equal(a.sectors, 0x0FFFFFFF);
}

static void test_refusals(void **state)
{
    (void)state;
    struct ata_identity a;
    char err[128];
    bochs_disk(1000);
    id[ATA_ID_CONFIG] = 0x85C0;   /* ATAPI CD-ROM */
    assert_int_equal(ata_identify_parse(id, &a, err, sizeof(err)), -PV_EINVAL);
    assert_non_null(strstr(err, "not an ATA disk"));

    bochs_disk(1000);
    id[ATA_ID_CAPABILITY] = 0;
    assert_int_equal(ata_identify_parse(id, &a, err, sizeof(err)), -PV_EINVAL);
    assert_string_equal(err, "disk 'Generic 1234' has no LBA addressing");

    bochs_disk(1000);
    id[ATA_ID_SECTOR_SIZE] = ATA_ID_SS_VALID | ATA_ID_SS_LONG_LOGICAL;
    id[ATA_ID_LOGICAL_WORDS] = 2048;   /* 4096-byte logical sectors */
    assert_int_equal(ata_identify_parse(id, &a, err, sizeof(err)), -PV_EINVAL);
    assert_non_null(strstr(err, "4096-byte logical sectors"));
    /* the same bit without the validity pattern is ignored */
    id[ATA_ID_SECTOR_SIZE] = ATA_ID_SS_LONG_LOGICAL;
    assert_int_equal(ata_identify_parse(id, &a, err, sizeof(err)), 0);

    bochs_disk(0);
    assert_int_equal(ata_identify_parse(id, &a, err, sizeof(err)), -PV_EINVAL);
    assert_non_null(strstr(err, "no capacity"));
}

static void test_model_string_full_width(void **state)
{
    (void)state;
    bochs_disk(8);
    put_string(ATA_ID_MODEL, ATA_ID_MODEL_WORDS, "QEMU HARDDISK");
    struct ata_identity a;
    char err[128];
    assert_int_equal(ata_identify_parse(id, &a, err, sizeof(err)), 0);
    assert_string_equal(a.model, "QEMU HARDDISK");
    put_string(ATA_ID_MODEL, ATA_ID_MODEL_WORDS, "0123456789012345678901234567890123456789");
    assert_int_equal(ata_identify_parse(id, &a, err, sizeof(err)), 0);
    assert_int_equal(strlen(a.model), 40);
}

static void test_names(void **state)
{
    (void)state;
    char b[32];
    ata_name(0, true, b, sizeof(b));
    assert_string_equal(b, "ata0-slave");
    ata_name(1, false, b, sizeof(b));
    assert_string_equal(b, "ata1-master");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lba28),
        cmocka_unit_test(test_lba48),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_model_string_full_width),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the ATA PIO driver's command sequences (vmm/drivers/ata.c)
 * against the register-level device model in tests/unit/ata_fake.h:
 * IDENTIFY and the probe's refusals, the task file written in the right
 * order for 28- and 48-bit commands, multi-command multi-segment round trips
 * across the LBA28 limit, device errors, a disk that stays busy, requests
 * beyond the end. IDENTIFY parsing alone is test_ata_identify.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/ata_fake.h"
#include "tests/unit/host_log.h"
#include "vmm/drivers/ata.h"
#include "vmm/lib/types.h"

#define P_IO ATA_PRIMARY_IO
#define P_CTRL ATA_PRIMARY_CTRL
#define BIG 600u                   /* sectors: three commands of at most 256 */
#define LBA28_LIMIT 0x10000000ull
#define SMALL_TIMEOUT_MS 2u

static struct ata_fake fk;
static struct ata_disk ad;
static uint8_t wbuf[BIG * FA_SECTOR], rbuf[BIG * FA_SECTOR];

static int reset(void **state)
{
    (void)state;
    host_log_clear();
    return 0;
}

/* A disk at (channel 0, pos) on the primary ports, initialised; logs cleared. */
static void disk_up(unsigned pos, uint64_t sectors, bool lba48)
{
    fa_init(&fk, P_IO, P_CTRL);
    fa_attach(&fk, pos, FA_ATA, sectors, lba48);
    char err[128] = "";
    assert_int_equal(ata_init(&ad, &fk.ops, 0, pos == 1, P_IO, P_CTRL, err, sizeof(err)), 0);
    assert_string_equal(fk.violation, "");
    fa_time_passes(&fk);
    fa_clear_log(&fk);
}

/* Split n sectors of buf into segments of 8, 1, 24, 3, 13, ... sectors. */
static unsigned segments(uint8_t *buf, uint32_t n, unsigned shift, struct blk_seg *segs)
{
    static const uint32_t sizes[] = { 8, 1, 24, 3, 13 };
    unsigned k = 0;
    for (uint32_t done = 0; done < n; k++) {
        uint32_t s = sizes[(k + shift) % 5];
        s = s > n - done ? n - done : s;
        segs[k] = (struct blk_seg){ buf + done * FA_SECTOR, s * FA_SECTOR };
        done += s;
    }
    assert_true(k <= BLK_MAX_SEGS);
    return k;
}

static int rw(bool write, uint64_t lba, uint8_t *buf, uint32_t n, unsigned shift)
{
    struct blk_seg segs[BLK_MAX_SEGS];
    unsigned k = segments(buf, n, shift, segs);
    return ad.bd.ops->rw(&ad.bd, write, lba, segs, k);
}

static void fill(uint8_t *buf, uint32_t n, uint8_t seed)
{
    for (uint32_t i = 0; i < n * FA_SECTOR; i++)
        buf[i] = (uint8_t)(seed + i * 13 + (i >> 9));
}

/* The fake disk holds buf at lba.. */
static void assert_disk_has(uint64_t lba, const uint8_t *buf, uint32_t n)
{
    uint8_t s[FA_SECTOR];
    for (uint32_t i = 0; i < n; i++) {
        fa_sector(&fk, lba + i, s);
        assert_memory_equal(s, buf + i * FA_SECTOR, FA_SECTOR);
    }
}

static void assert_cmd(unsigned i, uint8_t cmd, uint64_t lba, uint32_t count)
{
    assert_true(i < fk.ncmds);
    assert_int_equal(fk.cmds[i].cmd, cmd);
    assert_int_equal(fk.cmds[i].lba, lba);
    assert_int_equal(fk.cmds[i].count, count);
}

static void assert_writes(const struct fa_write *exp, unsigned n)
{
    assert_int_equal(fk.ntrace, n);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(fk.trace[i].port, exp[i].port);
        assert_int_equal(fk.trace[i].v, exp[i].v);
    }
}

static void test_identify_28_and_48(void **state)
{
    (void)state;
    char err[128] = "";
    fa_init(&fk, P_IO, P_CTRL);
    fa_attach(&fk, 0, FA_ATA, FA_LBA28_MAX, false);
    assert_int_equal(ata_init(&ad, &fk.ops, 0, false, P_IO, P_CTRL, err, sizeof(err)), 0);
    assert_string_equal(ad.bd.name, "ata0-master");
    assert_string_equal(ad.id.model, "FAKE ATA DISK");
    assert_false(ad.id.lba48);
    assert_int_equal(ad.bd.sectors, FA_LBA28_MAX);
    assert_int_equal(ad.bd.sector_size, 512);
    /* nIEN first, then master selected (no LBA bit yet), IDENTIFY last */
    const struct fa_write init[] = {
        { P_CTRL, FA_CTL_NIEN }, { P_IO + FA_DEVICE, 0xA0 }, { P_IO + FA_COUNT, 0 },
        { P_IO + FA_LBA0, 0 }, { P_IO + FA_LBA1, 0 }, { P_IO + FA_LBA2, 0 },
        { P_IO + FA_CMD, FA_CMD_IDENTIFY },
    };
    assert_writes(init, sizeof(init) / sizeof(init[0]));
    assert_string_equal(fk.violation, "");

    /* a 48-bit disk on the secondary channel's slave position */
    fa_init(&fk, ATA_SECONDARY_IO, ATA_SECONDARY_CTRL);
    fa_attach(&fk, 1, FA_ATA, LBA28_LIMIT + 0x400, true);
    assert_int_equal(ata_init(&ad, &fk.ops, 1, true, ATA_SECONDARY_IO, ATA_SECONDARY_CTRL,
                              err, sizeof(err)), 0);
    assert_string_equal(ad.bd.name, "ata1-slave");
    assert_true(ad.id.lba48);
    assert_int_equal(ad.bd.sectors, LBA28_LIMIT + 0x400);
    assert_int_equal(fk.trace[1].v, 0xB0);   /* slave bit */
    assert_string_equal(fk.violation, "");
}

static void probe_refused(const char *why)
{
    char err[128] = "";
    assert_int_equal(ata_init(&ad, &fk.ops, 0, true, P_IO, P_CTRL, err, sizeof(err)),
                     -PV_ENOENT);
    assert_string_equal(err, why);
    assert_string_equal(fk.violation, "");
}

static void test_probe_refusals(void **state)
{
    (void)state;
    fa_init(&fk, P_IO, P_CTRL);
    fk.floating = true;
    probe_refused("ata0-slave: no controller at ports 0x1f0/0x3f6");
    assert_int_equal(fk.ntrace, 0);   /* nothing written to an empty bus */

    fa_init(&fk, P_IO, P_CTRL);
    fa_attach(&fk, 0, FA_ATA, 1000, false);   /* a master, the slave position empty */
    probe_refused("ata0-slave: no disk");

    fa_init(&fk, P_IO, P_CTRL);
    fa_attach(&fk, 1, FA_ATAPI, 0, false);
    probe_refused("ata0-slave: not an ATA disk (ATAPI signature)");

    fa_init(&fk, P_IO, P_CTRL);
    fa_attach(&fk, 1, FA_SATA, 0, false);
    probe_refused("ata0-slave: not an ATA disk (SATA signature)");
}

/* A position that never drops BSY is no disk (after ATA_PROBE_TIMEOUT_MS). */
static void test_probe_stays_busy(void **state)
{
    (void)state;
    fa_init(&fk, P_IO, P_CTRL);
    fa_attach(&fk, 1, FA_ATA, 1000, false);
    fk.stuck_busy = true;
    probe_refused("ata0-slave: no disk (busy or floating)");
    assert_int_equal(fk.ncmds, 0);
}

static void test_registers_lba28(void **state)
{
    (void)state;
    disk_up(1, LBA28_LIMIT + 0x400, true);
    /* the last LBA28 sector still goes as a 28-bit command, its top nibble
     * in the device register beside LBA, slave and the obsolete bits */
    assert_int_equal(rw(false, 0x0FFFFFFF, rbuf, 1, 0), 0);
    const struct fa_write last28[] = {
        { P_IO + FA_DEVICE, 0xFF }, { P_IO + FA_COUNT, 1 }, { P_IO + FA_LBA0, 0xFF },
        { P_IO + FA_LBA1, 0xFF }, { P_IO + FA_LBA2, 0xFF }, { P_IO + FA_CMD, FA_CMD_READ },
    };
    assert_writes(last28, 6);
    assert_disk_has(0x0FFFFFFF, rbuf, 1);

    /* 256 sectors: the count register takes 0 */
    fa_clear_log(&fk);
    assert_int_equal(rw(false, 0x01234567, rbuf, 256, 0), 0);
    const struct fa_write full[] = {
        { P_IO + FA_DEVICE, 0xF1 }, { P_IO + FA_COUNT, 0 }, { P_IO + FA_LBA0, 0x67 },
        { P_IO + FA_LBA1, 0x45 }, { P_IO + FA_LBA2, 0x23 }, { P_IO + FA_CMD, FA_CMD_READ },
    };
    assert_writes(full, 6);
    assert_cmd(0, FA_CMD_READ, 0x01234567, 256);
    assert_disk_has(0x01234567, rbuf, 256);
    assert_string_equal(fk.violation, "");
}

static void test_registers_lba48(void **state)
{
    (void)state;
    disk_up(0, 1ull << 47, true);
    /* EXT: the high-order bytes go first, each register written twice */
    const uint64_t lba = 0x7B6A5C4D3E2Full;
    fill(wbuf, 2, 7);
    assert_int_equal(rw(true, lba, wbuf, 2, 0), 0);
    const struct fa_write ext[] = {
        { P_IO + FA_DEVICE, 0xE0 }, { P_IO + FA_COUNT, 0 }, { P_IO + FA_LBA0, 0x5C },
        { P_IO + FA_LBA1, 0x6A }, { P_IO + FA_LBA2, 0x7B }, { P_IO + FA_COUNT, 2 },
        { P_IO + FA_LBA0, 0x2F }, { P_IO + FA_LBA1, 0x3E }, { P_IO + FA_LBA2, 0x4D },
        { P_IO + FA_CMD, FA_CMD_WRITE_EXT },
    };
    assert_writes(ext, 10);
    assert_cmd(0, FA_CMD_WRITE_EXT, lba, 2);
    assert_disk_has(lba, wbuf, 2);

    /* two sectors from the last LBA28 one need EXT */
    fa_clear_log(&fk);
    assert_int_equal(rw(false, 0x0FFFFFFF, rbuf, 2, 0), 0);
    assert_int_equal(fk.trace[2].v, 0x0F);   /* HOB of LBA0 = bits 24..31 */
    assert_cmd(0, FA_CMD_READ_EXT, 0x0FFFFFFF, 2);
    assert_string_equal(fk.violation, "");
}

static void test_round_trip_lba28_end(void **state)
{
    (void)state;
    disk_up(0, FA_LBA28_MAX, false);
    const uint64_t start = FA_LBA28_MAX - BIG;   /* the last BIG sectors */
    fill(wbuf, BIG, 1);
    assert_int_equal(rw(true, start, wbuf, BIG, 0), 0);
    assert_int_equal(fk.ncmds, 3);
    assert_cmd(0, FA_CMD_WRITE, start, 256);
    assert_cmd(1, FA_CMD_WRITE, start + 256, 256);
    assert_cmd(2, FA_CMD_WRITE, start + 512, BIG - 512);
    assert_disk_has(start, wbuf, BIG);

    memset(rbuf, 0, sizeof(rbuf));
    assert_int_equal(rw(false, start, rbuf, BIG, 3), 0);   /* other segment sizes */
    assert_memory_equal(rbuf, wbuf, BIG * FA_SECTOR);
    assert_int_equal(rw(false, start - 1, rbuf, 1, 0), 0);   /* the neighbour untouched */
    uint8_t pat[FA_SECTOR];
    fa_pattern(start - 1, pat);
    assert_memory_equal(rbuf, pat, FA_SECTOR);
    assert_int_equal(ad.bd.writes, 1);
    assert_int_equal(ad.bd.sectors_written, BIG);
    assert_int_equal(ad.bd.reads, 2);
    assert_int_equal(ad.bd.sectors_read, BIG + 1);

    /* FLUSH CACHE (28-bit), after selecting the disk */
    fa_clear_log(&fk);
    assert_int_equal(ad.bd.ops->flush(&ad.bd), 0);
    const struct fa_write flush[] = { { P_IO + FA_DEVICE, 0xE0 }, { P_IO + FA_CMD, FA_CMD_FLUSH } };
    assert_writes(flush, 2);
    assert_int_equal(fk.flushes, 1);
    assert_string_equal(fk.violation, "");
}

/* Requests past the end are refused before any port is touched. */
static void test_beyond_capacity(void **state)
{
    (void)state;
    disk_up(0, 5000, false);
    assert_int_equal(rw(false, 4999, rbuf, 2, 0), -PV_EINVAL);
    assert_int_equal(rw(true, 5000, wbuf, 1, 0), -PV_EINVAL);
    assert_int_equal(rw(false, UINT64_MAX, rbuf, 1, 0), -PV_EINVAL);
    struct blk_seg odd = { rbuf, 100 };   /* not whole sectors */
    assert_int_equal(ad.bd.ops->rw(&ad.bd, false, 0, &odd, 1), -PV_EINVAL);
    assert_int_equal(fk.ntrace, 0);
    assert_int_equal(fk.ncmds, 0);
    assert_int_equal(rw(false, 4999, rbuf, 1, 0), 0);   /* the last sector is fine */
    assert_string_equal(fk.violation, "");
}

static void test_round_trip_lba48_boundary(void **state)
{
    (void)state;
    disk_up(1, LBA28_LIMIT + 0x400, true);
    const uint64_t start = LBA28_LIMIT - 256;
    fill(wbuf, BIG, 9);
    assert_int_equal(rw(true, start, wbuf, BIG, 1), 0);
    /* up to the limit as a 28-bit command, past it as EXT */
    assert_int_equal(fk.ncmds, 3);
    assert_cmd(0, FA_CMD_WRITE, start, 256);
    assert_cmd(1, FA_CMD_WRITE_EXT, LBA28_LIMIT, 256);
    assert_cmd(2, FA_CMD_WRITE_EXT, LBA28_LIMIT + 256, BIG - 512);
    assert_disk_has(start, wbuf, BIG);

    fa_clear_log(&fk);
    memset(rbuf, 0, sizeof(rbuf));
    assert_int_equal(rw(false, start, rbuf, BIG, 4), 0);
    assert_memory_equal(rbuf, wbuf, BIG * FA_SECTOR);
    assert_cmd(0, FA_CMD_READ, start, 256);
    assert_cmd(1, FA_CMD_READ_EXT, LBA28_LIMIT, 256);
    assert_cmd(2, FA_CMD_READ_EXT, LBA28_LIMIT + 256, BIG - 512);

    /* one command across the limit, into four segments (1, 24, 3, 2 sectors) */
    fa_clear_log(&fk);
    memset(rbuf, 0, sizeof(rbuf));
    assert_int_equal(rw(false, LBA28_LIMIT - 15, rbuf, 30, 1), 0);
    assert_int_equal(fk.ncmds, 1);
    assert_cmd(0, FA_CMD_READ_EXT, LBA28_LIMIT - 15, 30);
    assert_memory_equal(rbuf, wbuf + (256 - 15) * FA_SECTOR, 30 * FA_SECTOR);

    /* FLUSH CACHE EXT on a 48-bit disk */
    fa_clear_log(&fk);
    assert_int_equal(ad.bd.ops->flush(&ad.bd), 0);
    const struct fa_write flush[] = { { P_IO + FA_DEVICE, 0xF0 },
                                      { P_IO + FA_CMD, FA_CMD_FLUSH_EXT } };
    assert_writes(flush, 2);
    assert_string_equal(fk.violation, "");
}

static void test_device_errors(void **state)
{
    (void)state;
    disk_up(0, 100000, false);
    /* an uncorrectable read in the middle of a command */
    fk.fail_armed = true;
    fk.fail_lba = 1005;
    fk.fail_status = FA_ST_ERR;
    fk.fail_error = FA_ERR_UNC;
    assert_int_equal(rw(false, 1000, rbuf, 16, 0), -PV_EIO);
    assert_true(host_log_contains("ata0-master: read at LBA 1005 failed: status 0x41 error 0x40"));
    assert_int_equal(ad.bd.errors, 1);
    assert_int_equal(ad.bd.reads, 0);
    /* the disk stays usable: the same range reads once the fault is gone */
    fk.fail_armed = false;
    assert_int_equal(rw(false, 1000, rbuf, 16, 0), 0);
    uint8_t pat[FA_SECTOR];
    fa_pattern(1005, pat);
    assert_memory_equal(rbuf + 5 * FA_SECTOR, pat, FA_SECTOR);

    /* the device ends the data phase early without an error bit: no DRQ */
    host_log_clear();
    fk.fail_armed = true;
    fk.fail_status = 0;
    fk.fail_error = 0;
    assert_int_equal(rw(false, 1000, rbuf, 16, 0), -PV_EIO);
    assert_true(host_log_contains("ata0-master: read at LBA 1005 failed: status 0x40"));

    /* a device fault while writing */
    host_log_clear();
    fk.fail_armed = true;
    fk.fail_lba = 2003;
    fk.fail_status = FA_ST_DF;
    fk.fail_error = 0;
    fill(wbuf, 8, 3);
    assert_int_equal(rw(true, 2000, wbuf, 8, 0), -PV_EIO);
    assert_true(host_log_contains("ata0-master: write at LBA"));
    assert_true(host_log_contains("failed: status 0x60 error 0x00"));
    assert_int_equal(ad.bd.errors, 3);
    assert_disk_has(2000, wbuf, 3);   /* what came before the fault is on the disk */

    /* a failed flush */
    host_log_clear();
    fk.fail_armed = false;
    fk.flush_fail = true;
    assert_int_equal(ad.bd.ops->flush(&ad.bd), -PV_EIO);
    assert_true(host_log_contains("ata0-master: flush at LBA 0 failed: status 0x61 error 0x04"));

    /* a device fault flagged while the sector is offered all the same (last:
     * the driver does not reset a device it leaves in a data phase) */
    host_log_clear();
    fk.flush_fail = false;
    fk.fail_armed = true;
    fk.fail_lba = 1005;
    fk.fail_status = FA_ST_DF | FA_ST_DRQ;
    assert_int_equal(rw(false, 1000, rbuf, 16, 0), -PV_EIO);
    assert_true(host_log_contains("ata0-master: read at LBA 1005 failed: status 0x68"));
    assert_int_equal(ad.bd.errors, 5);
    assert_string_equal(fk.violation, "");
}

/* A disk that stays busy times out, is marked failed, and is not touched
 * again: each later try would stall the guest for the whole timeout. */
static void test_stays_busy_times_out(void **state)
{
    (void)state;
    disk_up(0, 100000, false);
    ad.timeout_ms = SMALL_TIMEOUT_MS;   /* the field every wait of a ready disk uses */
    fk.stuck_busy = true;
    assert_int_equal(rw(false, 7, rbuf, 1, 0), -PV_EIO);
    assert_true(host_log_contains("ata0-master: read at LBA 7 timed out"));
    assert_int_equal(fk.ncmds, 0);   /* never issued to a busy disk */
    assert_true(ad.bd.failed);
    fa_clear_log(&fk);
    assert_int_equal(rw(false, 8, rbuf, 1, 0), -PV_EIO);
    assert_int_equal(ad.bd.ops->flush(&ad.bd), -PV_EIO);
    assert_int_equal(fk.ntrace, 0);
    assert_int_equal(ad.bd.errors, 1);

    /* busy for good once the command was accepted: the data never comes */
    host_log_clear();
    disk_up(0, 100000, false);
    ad.timeout_ms = SMALL_TIMEOUT_MS;
    fk.busy_reads = 0;
    assert_int_equal(rw(false, 9, rbuf, 1, 0), 0);
    fk.busy_reads = ~0u;
    assert_int_equal(rw(false, 11, rbuf, 1, 0), -PV_EIO);
    assert_true(host_log_contains("ata0-master: read at LBA 11 timed out"));
    assert_int_equal(fk.ncmds, 2);
    assert_true(ad.bd.failed);

    /* a flush that never completes */
    host_log_clear();
    disk_up(0, 100000, true);
    ad.timeout_ms = SMALL_TIMEOUT_MS;
    fk.busy_reads = ~0u;
    assert_int_equal(ad.bd.ops->flush(&ad.bd), -PV_EIO);
    assert_true(host_log_contains("ata0-master: flush at LBA 0 timed out"));
    assert_true(ad.bd.failed);
    assert_string_equal(fk.violation, "");
}

/* No BSY at all, and a long one: the driver's sequencing holds for both. */
static void test_busy_lengths(void **state)
{
    (void)state;
    static const unsigned lengths[] = { 0, 1, 200 };
    for (unsigned i = 0; i < 3; i++) {
        fa_init(&fk, P_IO, P_CTRL);
        fk.busy_reads = lengths[i];
        fa_attach(&fk, 1, FA_ATA, LBA28_LIMIT + 64, true);
        char err[128] = "";
        assert_int_equal(ata_init(&ad, &fk.ops, 0, true, P_IO, P_CTRL, err, sizeof(err)), 0);
        fa_time_passes(&fk);
        fill(wbuf, 40, (uint8_t)i);
        assert_int_equal(rw(true, LBA28_LIMIT - 20, wbuf, 40, i), 0);
        memset(rbuf, 0, 40 * FA_SECTOR);
        assert_int_equal(rw(false, LBA28_LIMIT - 20, rbuf, 40, i + 1), 0);
        assert_memory_equal(rbuf, wbuf, 40 * FA_SECTOR);
        assert_int_equal(ad.bd.ops->flush(&ad.bd), 0);
        assert_string_equal(fk.violation, "");
    }
}

/* The model's protocol checks fire, so the clean runs above mean something. */
static void test_fake_catches_misuse(void **state)
{
    (void)state;
    uint16_t words[256];
    fa_init(&fk, P_IO, P_CTRL);
    fa_attach(&fk, 0, FA_ATA, 1000, false);
    fa_outb(&fk, P_IO + FA_DEVICE, 0xE0);
    fa_outb(&fk, P_IO + FA_CMD, FA_CMD_READ);   /* no settle, interrupts on */
    assert_string_equal(fk.violation,
                        "command written without the settle delay after a device select");
    assert_int_equal(fk.violations, 2);

    fa_init(&fk, P_IO, P_CTRL);
    fa_attach(&fk, 0, FA_ATA, 1000, false);
    fa_outb(&fk, P_CTRL, FA_CTL_NIEN);
    fa_outb(&fk, P_IO + FA_COUNT, 1);
    fa_outb(&fk, P_IO + FA_DEVICE, 0xE0);
    for (unsigned i = 0; i < FAKE_ATA_SETTLE_READS; i++)
        (void)fa_inb(&fk, P_CTRL);
    fa_outb(&fk, P_IO + FA_CMD, FA_CMD_READ);
    assert_int_equal(fk.violations, 0);
    fa_insw(&fk, P_IO + FA_DATA, words, 256);   /* before the status showed DRQ */
    assert_string_equal(fk.violation, "data moved without DRQ (or in the wrong direction)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_identify_28_and_48, reset),
        cmocka_unit_test_setup(test_probe_refusals, reset),
        cmocka_unit_test_setup(test_probe_stays_busy, reset),
        cmocka_unit_test_setup(test_registers_lba28, reset),
        cmocka_unit_test_setup(test_registers_lba48, reset),
        cmocka_unit_test_setup(test_round_trip_lba28_end, reset),
        cmocka_unit_test_setup(test_beyond_capacity, reset),
        cmocka_unit_test_setup(test_round_trip_lba48_boundary, reset),
        cmocka_unit_test_setup(test_device_errors, reset),
        cmocka_unit_test_setup(test_stays_busy_times_out, reset),
        cmocka_unit_test_setup(test_busy_lengths, reset),
        cmocka_unit_test_setup(test_fake_catches_misuse, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

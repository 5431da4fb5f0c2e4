/* ATA PIO; see ata.h. */
#include "vmm/drivers/ata.h"
#include "vmm/lib/types.h"
#include "vmm/arch/arch.h"
#include "vmm/arch/clock.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"

#include <string.h>

/* Command block registers, offsets from the I/O base. */
#define REG_DATA 0
#define REG_ERROR 1
#define REG_COUNT 2
#define REG_LBA0 3
#define REG_LBA1 4
#define REG_LBA2 5
#define REG_DEVICE 6
#define REG_STATUS 7     /* read */
#define REG_COMMAND 7    /* write */

#define ST_ERR 0x01u
#define ST_DRQ 0x08u
#define ST_DF 0x20u
#define ST_DRDY 0x40u
#define ST_BSY 0x80u
#define ST_FLOATING 0xFFu  /* nothing drives the bus */

#define DEV_OBS 0xA0u      /* bits 7 and 5: obsolete, set by convention */
#define DEV_LBA 0x40u
#define DEV_SLAVE 0x10u
#define DEV_LBA28_HIGH 0x0Fu
#define CTL_NIEN 0x02u

#define CMD_READ 0x20u
#define CMD_READ_EXT 0x24u
#define CMD_WRITE 0x30u
#define CMD_WRITE_EXT 0x34u
#define CMD_FLUSH 0xE7u
#define CMD_FLUSH_EXT 0xEAu
#define CMD_IDENTIFY 0xECu

/* Signatures left in LBA1/LBA2 by devices that are not PATA disks. */
#define SIG_ATAPI_1 0x14u
#define SIG_ATAPI_2 0xEBu
#define SIG_SATA_1 0x3Cu
#define SIG_SATA_2 0xC3u

#define LBA28_LIMIT (1ull << 28)
#define LBA48_LIMIT (1ull << 48)
#define MAX_PER_CMD 256u        /* sectors per command (count 0 means 256 in LBA28) */
#define SELECT_DELAY_READS 4u   /* 4 alternate-status reads: the 400 ns settle time */
#define WORDS_PER_SECTOR (ATA_SECTOR / 2)
#define BYTE_BITS 8
#define BYTE_MASK 0xFFu
#define WORD_BITS 16
#define LBA48_WORDS 4u

static uint8_t x86_inb(void *ctx, uint16_t port)
{
    (void)ctx;
    return inb(port);
}

static void x86_outb(void *ctx, uint16_t port, uint8_t v)
{
    (void)ctx;
    outb(port, v);
}

static void x86_insw(void *ctx, uint16_t port, void *buf, uint32_t words)
{
    (void)ctx;
    insw(port, buf, words);
}

static void x86_outsw(void *ctx, uint16_t port, const void *buf, uint32_t words)
{
    (void)ctx;
    outsw(port, buf, words);
}

const struct ata_port_ops ata_x86_ports = { x86_inb, x86_outb, x86_insw, x86_outsw, NULL };

/* Port access through the ops chosen at ata_init; reg_* take a command
 * block register (REG_*), the control block is ad->ctrl itself. */
static uint8_t reg_in(const struct ata_disk *ad, unsigned reg)
{
    return ad->ports->inb(ad->ports->ctx, (uint16_t)(ad->io + reg));
}

static void reg_out(const struct ata_disk *ad, unsigned reg, uint8_t v)
{
    ad->ports->outb(ad->ports->ctx, (uint16_t)(ad->io + reg), v);
}

static void data_in(const struct ata_disk *ad, void *buf, uint32_t words)
{
    ad->ports->insw(ad->ports->ctx, (uint16_t)(ad->io + REG_DATA), buf, words);
}

static void data_out(const struct ata_disk *ad, const void *buf, uint32_t words)
{
    ad->ports->outsw(ad->ports->ctx, (uint16_t)(ad->io + REG_DATA), buf, words);
}

static void copy_id_string(char *dst, const uint16_t *w, unsigned words)
{
    unsigned n = 0;
    for (unsigned i = 0; i < words; i++) {
        dst[n++] = (char)(w[i] >> BYTE_BITS);   /* each word holds two chars, first high */
        dst[n++] = (char)(w[i] & BYTE_MASK);
    }
    dst[n] = '\0';
    while (n && (dst[n - 1] == ' ' || dst[n - 1] == '\0'))
        dst[--n] = '\0';
}

int ata_identify_parse(const uint16_t id[ATA_IDENTIFY_WORDS], struct ata_identity *out,
                       char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (id[ATA_ID_CONFIG] & ATA_ID_CONFIG_NOT_ATA) {
        pv_snprintf(err, err_len, "not an ATA disk (IDENTIFY word 0 = 0x%04x)",
                    id[ATA_ID_CONFIG]);
        return -PV_EINVAL;
    }
    copy_id_string(out->model, &id[ATA_ID_MODEL], ATA_ID_MODEL_WORDS);
    copy_id_string(out->serial, &id[ATA_ID_SERIAL], ATA_ID_SERIAL_WORDS);
    if (!(id[ATA_ID_CAPABILITY] & ATA_ID_CAP_LBA)) {
        pv_snprintf(err, err_len, "disk '%s' has no LBA addressing", out->model);
        return -PV_EINVAL;
    }
    out->sector_size = ATA_SECTOR;
    if ((id[ATA_ID_SECTOR_SIZE] & ATA_ID_SS_VALID_MASK) == ATA_ID_SS_VALID &&
        (id[ATA_ID_SECTOR_SIZE] & ATA_ID_SS_LONG_LOGICAL)) {
        uint32_t words = id[ATA_ID_LOGICAL_WORDS] |
                         (uint32_t)id[ATA_ID_LOGICAL_WORDS + 1] << WORD_BITS;
        out->sector_size = words * sizeof(uint16_t);
    }
    if (out->sector_size != ATA_SECTOR) {
        pv_snprintf(err, err_len, "disk '%s' has %u-byte logical sectors; only 512 is supported",
                    out->model, out->sector_size);
        return -PV_EINVAL;
    }
    out->lba48 = (id[ATA_ID_CMDSET2] & ATA_ID_CMDSET2_VALID_MASK) == ATA_ID_CMDSET2_VALID &&
                 (id[ATA_ID_CMDSET2] & ATA_ID_CMDSET2_LBA48);
    uint64_t lba28 = id[ATA_ID_LBA28_SECTORS] | (uint64_t)id[ATA_ID_LBA28_SECTORS + 1] << WORD_BITS;
    uint64_t lba48 = 0;
    for (unsigned i = 0; i < LBA48_WORDS; i++)
        lba48 |= (uint64_t)id[ATA_ID_LBA48_SECTORS + i] << (WORD_BITS * i);
    out->sectors = out->lba48 && lba48 ? lba48 : lba28;
    if (out->sectors > (out->lba48 ? LBA48_LIMIT : LBA28_LIMIT))
        out->sectors = out->lba48 ? LBA48_LIMIT : LBA28_LIMIT;
    if (!out->sectors) {
        pv_snprintf(err, err_len, "disk '%s' reports no capacity", out->model);
        return -PV_EINVAL;
    }
    return 0;
}

int ata_name(uint8_t channel, bool slave, char *buf, size_t len)
{
    return pv_snprintf(buf, len, "ata%u-%s", (unsigned)channel, slave ? "slave" : "master");
}

static uint8_t status(const struct ata_disk *ad) { return reg_in(ad, REG_STATUS); }
static uint8_t alt_status(const struct ata_disk *ad)
{
    return ad->ports->inb(ad->ports->ctx, ad->ctrl);
}

static void settle(const struct ata_disk *ad)
{
    for (unsigned i = 0; i < SELECT_DELAY_READS; i++)
        (void)alt_status(ad);
}

/* Wait until BSY clears; the final status, or -1 after timeout_ms. */
static int wait_idle(const struct ata_disk *ad, uint32_t timeout_ms)
{
    uint64_t deadline = clock_deadline(timeout_ms);
    for (;;) {
        uint8_t s = alt_status(ad);
        if (s == ST_FLOATING)
            return -1;
        if (!(s & ST_BSY))
            return status(ad);
        if (clock_passed(deadline))
            return -1;
        pause();
    }
}

static void select_dev(const struct ata_disk *ad, uint8_t bits)
{
    reg_out(ad, REG_DEVICE, (uint8_t)(DEV_OBS | (ad->slave ? DEV_SLAVE : 0) | bits));
    settle(ad);
}

static int fail(struct ata_disk *ad, const char *what, uint64_t lba, int st)
{
    ad->bd.errors++;
    if (st < 0) {
        /* Busy for good or floating: nothing later would fare better, and
         * each try would freeze the guest for the whole timeout again. */
        ad->bd.failed = true;
        pv_err("%s: %s at LBA %llu timed out after %u ms; device marked failed", ad->bd.name,
               what, (unsigned long long)lba, ad->timeout_ms);
    } else
        pv_err("%s: %s at LBA %llu failed: status 0x%02x error 0x%02x", ad->bd.name, what,
               (unsigned long long)lba, (unsigned)st,
               (unsigned)reg_in(ad, REG_ERROR));
    return -PV_EIO;
}

/* Byte k of an LBA (the registers take it a byte at a time). */
static uint8_t lba_byte(uint64_t lba, unsigned k) { return (uint8_t)(lba >> (BYTE_BITS * k)); }

/* Issue a transfer command for count (1..MAX_PER_CMD) sectors at lba. */
static void issue(const struct ata_disk *ad, bool write, uint64_t lba, uint32_t count)
{
    bool ext = lba + count > LBA28_LIMIT;
    if (ext) {
        select_dev(ad, DEV_LBA);
        reg_out(ad, REG_COUNT, (uint8_t)(count >> BYTE_BITS));
        reg_out(ad, REG_LBA0, lba_byte(lba, 3));
        reg_out(ad, REG_LBA1, lba_byte(lba, 4));
        reg_out(ad, REG_LBA2, lba_byte(lba, 5));
    } else {
        select_dev(ad, (uint8_t)(DEV_LBA | (lba_byte(lba, 3) & DEV_LBA28_HIGH)));
    }
    reg_out(ad, REG_COUNT, (uint8_t)count);   /* 256 -> 0, as both forms want */
    reg_out(ad, REG_LBA0, lba_byte(lba, 0));
    reg_out(ad, REG_LBA1, lba_byte(lba, 1));
    reg_out(ad, REG_LBA2, lba_byte(lba, 2));
    reg_out(ad, REG_COMMAND,
            (uint8_t)(write ? (ext ? CMD_WRITE_EXT : CMD_WRITE) : (ext ? CMD_READ_EXT : CMD_READ)));
}

/* Move count sectors between the device and the segment cursor. */
struct cursor {
    const struct blk_seg *segs;
    unsigned seg;
    uint32_t off;
};

static uint8_t *next_sector(struct cursor *c)
{
    uint8_t *p = (uint8_t *)c->segs[c->seg].buf + c->off;
    c->off += ATA_SECTOR;
    if (c->off == c->segs[c->seg].len) {
        c->seg++;
        c->off = 0;
    }
    return p;
}

static int transfer(struct ata_disk *ad, bool write, uint64_t lba, uint32_t count,
                    struct cursor *c)
{
    const char *what = write ? "write" : "read";
    int st = wait_idle(ad, ad->timeout_ms);
    if (st < 0)
        return fail(ad, what, lba, st);
    issue(ad, write, lba, count);
    for (uint32_t i = 0; i < count; i++) {
        settle(ad);
        st = wait_idle(ad, ad->timeout_ms);
        if (st < 0 || (st & (ST_ERR | ST_DF)) || !(st & ST_DRQ))
            return fail(ad, what, lba + i, st);
        uint8_t *p = next_sector(c);
        if (write)
            data_out(ad, p, WORDS_PER_SECTOR);
        else
            data_in(ad, p, WORDS_PER_SECTOR);
    }
    settle(ad);
    st = wait_idle(ad, ad->timeout_ms);   /* a write is done when BSY drops */
    if (st < 0 || (st & (ST_ERR | ST_DF)))
        return fail(ad, what, lba, st);
    return 0;
}

static int ata_rw(struct blkdev *d, bool write, uint64_t sector, const struct blk_seg *segs,
                  unsigned nsegs)
{
    struct ata_disk *ad = d->priv;
    if (!nsegs || nsegs > BLK_MAX_SEGS)
        return -PV_EINVAL;
    uint64_t total = 0;
    for (unsigned i = 0; i < nsegs; i++) {
        if (!segs[i].len || segs[i].len % ATA_SECTOR)
            return -PV_EINVAL;
        total += segs[i].len / ATA_SECTOR;
    }
    if (sector > d->sectors || total > d->sectors - sector)
        return -PV_EINVAL;
    if (sector + total > LBA28_LIMIT && !ad->id.lba48)
        return -PV_EINVAL;
    if (d->failed)
        return -PV_EIO;
    struct cursor c = { segs, 0, 0 };
    for (uint64_t done = 0; done < total;) {
        uint32_t n = total - done > MAX_PER_CMD ? MAX_PER_CMD : (uint32_t)(total - done);
        int rc = transfer(ad, write, sector + done, n, &c);
        if (rc < 0)
            return rc;
        done += n;
    }
    if (write) {
        d->writes++;
        d->sectors_written += total;
    } else {
        d->reads++;
        d->sectors_read += total;
    }
    return 0;
}

static int ata_flush(struct blkdev *d)
{
    struct ata_disk *ad = d->priv;
    if (d->failed)
        return -PV_EIO;
    int st = wait_idle(ad, ad->timeout_ms);
    if (st < 0)
        return fail(ad, "flush", 0, st);
    select_dev(ad, DEV_LBA);
    reg_out(ad, REG_COMMAND, (uint8_t)(ad->id.lba48 ? CMD_FLUSH_EXT : CMD_FLUSH));
    settle(ad);
    st = wait_idle(ad, ad->timeout_ms);
    if (st < 0 || (st & (ST_ERR | ST_DF)))
        return fail(ad, "flush", 0, st);
    return 0;
}

static const struct blkdev_ops ata_ops = { .rw = ata_rw, .flush = ata_flush }; /* synchronous only */

int ata_init(struct ata_disk *ad, const struct ata_port_ops *ports, uint8_t channel,
             bool slave, uint16_t io, uint16_t ctrl, char *err, size_t err_len)
{
    memset(ad, 0, sizeof(*ad));
    ad->ports = ports;
    ata_name(channel, slave, ad->bd.name, sizeof(ad->bd.name));
    ad->io = io;
    ad->ctrl = ctrl;
    ad->channel = channel;
    ad->slave = slave;
    ad->timeout_ms = ATA_TIMEOUT_MS;
    const char *name = ad->bd.name;

    if (alt_status(ad) == ST_FLOATING) {
        pv_snprintf(err, err_len, "%s: no controller at ports 0x%x/0x%x", name, io, ctrl);
        return -PV_ENOENT;
    }
    /* polled: the device must not raise IRQ 14/15 */
    ports->outb(ports->ctx, ctrl, CTL_NIEN);
    select_dev(ad, 0);
    if (wait_idle(ad, ATA_PROBE_TIMEOUT_MS) < 0) {
        pv_snprintf(err, err_len, "%s: no disk (busy or floating)", name);
        return -PV_ENOENT;
    }
    reg_out(ad, REG_COUNT, 0);
    reg_out(ad, REG_LBA0, 0);
    reg_out(ad, REG_LBA1, 0);
    reg_out(ad, REG_LBA2, 0);
    reg_out(ad, REG_COMMAND, CMD_IDENTIFY);
    settle(ad);
    if (status(ad) == 0) {
        pv_snprintf(err, err_len, "%s: no disk", name);
        return -PV_ENOENT;
    }
    int st = wait_idle(ad, ATA_PROBE_TIMEOUT_MS);
    uint8_t sig1 = reg_in(ad, REG_LBA1), sig2 = reg_in(ad, REG_LBA2);
    if ((sig1 == SIG_ATAPI_1 && sig2 == SIG_ATAPI_2) || (sig1 == SIG_SATA_1 && sig2 == SIG_SATA_2)) {
        pv_snprintf(err, err_len, "%s: not an ATA disk (%s signature)", name,
                    sig1 == SIG_ATAPI_1 ? "ATAPI" : "SATA");
        return -PV_ENOENT;
    }
    if (st < 0 || (st & (ST_ERR | ST_DF)) || !(st & ST_DRQ)) {
        pv_snprintf(err, err_len, "%s: no disk (IDENTIFY %s, status 0x%02x)", name,
                    st < 0 ? "timed out" : "refused", st < 0 ? 0u : (unsigned)st);
        return -PV_ENOENT;
    }
    uint16_t id[ATA_IDENTIFY_WORDS];
    data_in(ad, id, ATA_IDENTIFY_WORDS);
    char why[96];
    if (ata_identify_parse(id, &ad->id, why, sizeof(why)) < 0) {
        pv_snprintf(err, err_len, "%s: %s", name, why);
        return -PV_EINVAL;
    }
    ad->bd.ops = &ata_ops;
    ad->bd.priv = ad;
    ad->bd.sectors = ad->id.sectors;
    ad->bd.sector_size = ATA_SECTOR;
    pv_debug("%s: '%s' serial '%s', %llu sectors, lba%s", name, ad->id.model, ad->id.serial,
             (unsigned long long)ad->id.sectors, ad->id.lba48 ? "48" : "28");
    return 0;
}

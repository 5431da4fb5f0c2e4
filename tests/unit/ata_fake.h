/*
 * A register-level model of one ATA channel for host tests of
 * vmm/drivers/ata.c, installed through struct ata_port_ops: two drive
 * positions (an ATA disk of either addressing size, an ATAPI or SATA device
 * that aborts IDENTIFY and leaves its signature, or nothing), a controller
 * that may be missing altogether (a floating bus reads 0xFF), the task file
 * with its two-deep 48-bit registers (a write pushes the previous byte into
 * the "high order byte" slot), PIO data phases, and a sparse memory disk.
 *
 * Timing is counted in status reads: a change the host causes (a device
 * select, a command, a finished sector) shows only after FAKE_ATA_SETTLE_READS
 * reads (the previous status reads back until then: the spec's 400 ns), and
 * then BSY stays up for busy_reads reads. A driver that skips the settle
 * delay or moves data before DRQ therefore sees stale status and trips a
 * protocol check. Protocol errors are counted in violations and the first
 * is described in violation[]; tests assert there are none.
 *
 * The register numbers, bits and command codes are the ATA specification's,
 * written here independently of ata.c on purpose: a wrong constant in the
 * driver fails the tests instead of agreeing with itself.
 */
#ifndef PV_TESTS_UNIT_ATA_FAKE_H
#define PV_TESTS_UNIT_ATA_FAKE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vmm/drivers/ata.h"

/* Command block registers (offsets from the I/O base). */
#define FA_DATA 0u
#define FA_ERROR 1u
#define FA_COUNT 2u
#define FA_LBA0 3u
#define FA_LBA1 4u
#define FA_LBA2 5u
#define FA_DEVICE 6u
#define FA_CMD 7u            /* status when read */
#define FA_TF_FIRST FA_COUNT /* the four registers with a high-order byte */
#define FA_TF_REGS 4u

#define FA_ST_ERR 0x01u
#define FA_ST_DRQ 0x08u
#define FA_ST_DF 0x20u
#define FA_ST_DRDY 0x40u
#define FA_ST_BSY 0x80u
#define FA_FLOATING 0xFFu

#define FA_ERR_ABRT 0x04u
#define FA_ERR_IDNF 0x10u
#define FA_ERR_UNC 0x40u

#define FA_DEV_HEAD 0x0Fu
#define FA_DEV_SLAVE 0x10u
#define FA_DEV_LBA 0x40u
#define FA_CTL_NIEN 0x02u
#define FA_CTL_HOB 0x80u

#define FA_CMD_READ 0x20u
#define FA_CMD_READ_EXT 0x24u
#define FA_CMD_WRITE 0x30u
#define FA_CMD_WRITE_EXT 0x34u
#define FA_CMD_FLUSH 0xE7u
#define FA_CMD_FLUSH_EXT 0xEAu
#define FA_CMD_IDENTIFY 0xECu

#define FAKE_ATA_SETTLE_READS 4u
#define FA_SECTOR 512u
#define FA_LBA28_MAX 0x0FFFFFFFull   /* IDENTIFY words 60-61 saturate here */
#define FA_STORED 1024u              /* sectors the sparse disk can hold */
#define FA_TRACE 512u
#define FA_CMDS 64u

enum fa_kind { FA_NONE, FA_ATA, FA_ATAPI, FA_SATA };
enum fa_phase { FA_IDLE, FA_PIO_IN, FA_PIO_OUT };

struct fa_drive {
    enum fa_kind kind;
    uint64_t sectors;
    bool lba48;
    uint8_t status, error;
};

struct fa_write { uint16_t port; uint8_t v; };         /* one outb */
struct fa_cmd { uint8_t cmd, device; uint64_t lba; uint32_t count; };
struct fa_sector { uint64_t lba; uint8_t data[FA_SECTOR]; };

struct ata_fake {
    struct ata_port_ops ops;       /* ctx points back here */
    uint16_t io, ctrl;
    bool floating;                 /* no controller on these ports */
    struct fa_drive drive[2];      /* master, slave */
    unsigned sel;
    uint8_t tf[FA_TF_REGS][2];     /* [reg][0] current, [1] previous (HOB) */
    uint8_t device, control;
    /* what status reads show: stale for stale_left reads, then BSY */
    uint8_t last_shown, stale;
    unsigned stale_left, busy_left, reads_since_select;
    unsigned busy_reads;           /* test knob: BSY length after each change */
    bool stuck_busy;               /* test knob: BSY for ever */
    /* the data phase */
    enum fa_phase phase;
    uint64_t lba;
    uint32_t left;                 /* sectors still to move in this command */
    uint8_t buf[FA_SECTOR];
    unsigned pos;                  /* bytes of buf moved */
    /* faults: the sector at fail_lba fails with fail_status (+DRDY) */
    bool fail_armed, flush_fail;
    uint64_t fail_lba;
    uint8_t fail_status, fail_error;
    /* the disk: sectors never written read as fa_pattern() */
    struct fa_sector stored[FA_STORED];
    unsigned nstored;
    /* observations */
    struct fa_write trace[FA_TRACE];
    unsigned ntrace;
    struct fa_cmd cmds[FA_CMDS];
    unsigned ncmds, flushes, violations;
    char violation[160];
};

static inline void fa_violation(struct ata_fake *f, const char *what)
{
    if (!f->violations++)
        snprintf(f->violation, sizeof(f->violation), "%s", what);
}

/* Contents of a sector never written: its LBA in the first 8 bytes (so a
 * misaddressed transfer shows), then bytes that depend on LBA and offset. */
static inline void fa_pattern(uint64_t lba, uint8_t *out)
{
    memcpy(out, &lba, sizeof(lba));
    for (unsigned i = sizeof(lba); i < FA_SECTOR; i++)
        out[i] = (uint8_t)(lba * 131 + i * 7 + (lba >> 24));
}

static inline struct fa_sector *fa_stored(struct ata_fake *f, uint64_t lba)
{
    for (unsigned i = 0; i < f->nstored; i++)
        if (f->stored[i].lba == lba)
            return &f->stored[i];
    return NULL;
}

/* The disk's current contents of one sector. */
static inline void fa_sector(struct ata_fake *f, uint64_t lba, uint8_t *out)
{
    struct fa_sector *s = fa_stored(f, lba);
    if (s)
        memcpy(out, s->data, FA_SECTOR);
    else
        fa_pattern(lba, out);
}

static inline void fa_store(struct ata_fake *f, uint64_t lba, const uint8_t *data)
{
    struct fa_sector *s = fa_stored(f, lba);
    if (!s) {
        if (f->nstored == FA_STORED) {
            fa_violation(f, "fake disk full (test writes too much)");
            return;
        }
        s = &f->stored[f->nstored++];
        s->lba = lba;
    }
    memcpy(s->data, data, FA_SECTOR);
}

static inline bool fa_busy(const struct ata_fake *f) { return f->stuck_busy || f->busy_left; }

/* The device moves to status st: old status for the settle reads, then BSY. */
static inline void fa_change(struct ata_fake *f, uint8_t st, unsigned busy)
{
    f->drive[f->sel].status = st;
    f->stale = f->last_shown;
    f->stale_left = FAKE_ATA_SETTLE_READS;
    f->busy_left = busy;
}

static inline uint8_t fa_read_status(struct ata_fake *f)
{
    const struct fa_drive *d = &f->drive[f->sel];
    uint8_t s;
    f->reads_since_select++;
    if (d->kind == FA_NONE)
        s = 0;                    /* the other drive answers for an empty position */
    else if (f->stale_left) {
        f->stale_left--;
        s = f->stale;
    } else if (fa_busy(f)) {
        if (f->busy_left)
            f->busy_left--;
        s = FA_ST_BSY;
    } else {
        s = d->status;
    }
    f->last_shown = s;
    return s;
}

static inline void fa_abort(struct ata_fake *f, uint8_t error)
{
    f->drive[f->sel].error = error;
    f->phase = FA_IDLE;
    fa_change(f, FA_ST_DRDY | FA_ST_ERR, f->busy_reads);
}

/* Little-endian IDENTIFY words of an ATA disk, as ata_identify_parse reads. */
static inline void fa_identify(const struct fa_drive *d, uint8_t *out)
{
    uint16_t w[ATA_IDENTIFY_WORDS] = { 0 };
    const char model[] = "FAKE ATA DISK                           ";
    const char serial[] = "FA0001              ";
    w[ATA_ID_CONFIG] = 0x0040;
    for (unsigned i = 0; i < ATA_ID_MODEL_WORDS; i++)
        w[ATA_ID_MODEL + i] = (uint16_t)((uint8_t)model[2 * i] << 8 | (uint8_t)model[2 * i + 1]);
    for (unsigned i = 0; i < ATA_ID_SERIAL_WORDS; i++)
        w[ATA_ID_SERIAL + i] =
            (uint16_t)((uint8_t)serial[2 * i] << 8 | (uint8_t)serial[2 * i + 1]);
    w[ATA_ID_CAPABILITY] = ATA_ID_CAP_LBA;
    uint64_t lba28 = d->sectors > FA_LBA28_MAX ? FA_LBA28_MAX : d->sectors;
    w[ATA_ID_LBA28_SECTORS] = (uint16_t)lba28;
    w[ATA_ID_LBA28_SECTORS + 1] = (uint16_t)(lba28 >> 16);
    w[ATA_ID_CMDSET2] = ATA_ID_CMDSET2_VALID | (d->lba48 ? ATA_ID_CMDSET2_LBA48 : 0);
    for (unsigned i = 0; d->lba48 && i < 4; i++)
        w[ATA_ID_LBA48_SECTORS + i] = (uint16_t)(d->sectors >> (16 * i));
    for (unsigned i = 0; i < ATA_IDENTIFY_WORDS; i++) {
        out[2 * i] = (uint8_t)w[i];
        out[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
}

/* Make the sector at f->lba ready for the host, or fail it; a fail_status
 * with DRQ offers the data all the same (a fault flagged beside it). */
static inline void fa_next_in(struct ata_fake *f)
{
    if (f->fail_armed && f->fail_lba == f->lba && (f->fail_status & FA_ST_DRQ)) {
        fa_sector(f, f->lba, f->buf);
        f->pos = 0;
        f->drive[f->sel].error = f->fail_error;
        fa_change(f, FA_ST_DRDY | f->fail_status, f->busy_reads);
        return;
    }
    if (f->fail_armed && f->fail_lba == f->lba) {
        f->drive[f->sel].error = f->fail_error;
        f->phase = FA_IDLE;
        fa_change(f, FA_ST_DRDY | f->fail_status, f->busy_reads);
        return;
    }
    fa_sector(f, f->lba, f->buf);
    f->pos = 0;
    fa_change(f, FA_ST_DRDY | FA_ST_DRQ, f->busy_reads);
}

static inline void fa_transfer_cmd(struct ata_fake *f, uint8_t cmd)
{
    const struct fa_drive *d = &f->drive[f->sel];
    bool ext = cmd == FA_CMD_READ_EXT || cmd == FA_CMD_WRITE_EXT;
    uint64_t lba;
    uint32_t count;
    if (ext) {
        lba = 0;
        for (unsigned k = 0; k < 3; k++)
            lba |= (uint64_t)f->tf[FA_LBA0 - FA_TF_FIRST + k][0] << (8 * k) |
                   (uint64_t)f->tf[FA_LBA0 - FA_TF_FIRST + k][1] << (8 * (k + 3));
        count = (uint32_t)f->tf[0][1] << 8 | f->tf[0][0];
        count = count ? count : 65536;
    } else {
        lba = f->tf[1][0] | (uint64_t)f->tf[2][0] << 8 | (uint64_t)f->tf[3][0] << 16 |
              (uint64_t)(f->device & FA_DEV_HEAD) << 24;
        count = f->tf[0][0] ? f->tf[0][0] : 256;
    }
    if (f->ncmds < FA_CMDS)
        f->cmds[f->ncmds++] = (struct fa_cmd){ cmd, f->device, lba, count };
    if (ext && !d->lba48) {
        fa_violation(f, "48-bit command to a disk without LBA48");
        fa_abort(f, FA_ERR_ABRT);
        return;
    }
    if (lba + count > d->sectors) {
        fa_violation(f, "transfer beyond the disk's capacity");
        fa_abort(f, FA_ERR_IDNF);
        return;
    }
    f->lba = lba;
    f->left = count;
    if (cmd == FA_CMD_READ || cmd == FA_CMD_READ_EXT) {
        f->phase = FA_PIO_IN;
        fa_next_in(f);
    } else {
        f->phase = FA_PIO_OUT;
        f->pos = 0;
        fa_change(f, FA_ST_DRDY | FA_ST_DRQ, f->busy_reads);
    }
}

static inline void fa_command(struct ata_fake *f, uint8_t cmd)
{
    struct fa_drive *d = &f->drive[f->sel];
    if (d->kind == FA_NONE)
        return;                   /* nobody listens */
    if (fa_busy(f) || (d->status & FA_ST_DRQ))
        fa_violation(f, "command written while BSY or DRQ");
    if (f->reads_since_select < FAKE_ATA_SETTLE_READS)
        fa_violation(f, "command written without the settle delay after a device select");
    if (!(f->control & FA_CTL_NIEN))
        fa_violation(f, "command issued with interrupts enabled (nIEN clear)");
    if (cmd == FA_CMD_IDENTIFY) {
        if (f->ncmds < FA_CMDS)
            f->cmds[f->ncmds++] = (struct fa_cmd){ cmd, f->device, 0, 1 };
        if (d->kind != FA_ATA) {  /* aborted; the signature says what it is */
            f->tf[FA_LBA1 - FA_TF_FIRST][0] = d->kind == FA_ATAPI ? 0x14 : 0x3C;
            f->tf[FA_LBA2 - FA_TF_FIRST][0] = d->kind == FA_ATAPI ? 0xEB : 0xC3;
            fa_abort(f, FA_ERR_ABRT);
            return;
        }
        fa_identify(d, f->buf);
        f->pos = 0;
        f->left = 1;
        f->lba = 0;
        f->phase = FA_PIO_IN;
        fa_change(f, FA_ST_DRDY | FA_ST_DRQ, f->busy_reads);
        return;
    }
    if (!(f->device & FA_DEV_LBA)) {
        fa_violation(f, "command with CHS addressing (device LBA bit clear)");
        fa_abort(f, FA_ERR_ABRT);
        return;
    }
    switch (cmd) {
    case FA_CMD_READ: case FA_CMD_READ_EXT: case FA_CMD_WRITE: case FA_CMD_WRITE_EXT:
        fa_transfer_cmd(f, cmd);
        return;
    case FA_CMD_FLUSH: case FA_CMD_FLUSH_EXT:
        if (f->ncmds < FA_CMDS)
            f->cmds[f->ncmds++] = (struct fa_cmd){ cmd, f->device, 0, 0 };
        f->flushes++;
        d->error = f->flush_fail ? FA_ERR_ABRT : 0;
        fa_change(f, (uint8_t)(FA_ST_DRDY | (f->flush_fail ? FA_ST_ERR | FA_ST_DF : 0)),
                  f->busy_reads);
        return;
    default:
        fa_violation(f, "unknown command");
        fa_abort(f, FA_ERR_ABRT);
    }
}

static inline uint8_t fa_inb(void *ctx, uint16_t port)
{
    struct ata_fake *f = ctx;
    if (f->floating)
        return FA_FLOATING;
    if (port == f->ctrl)
        return fa_read_status(f);
    unsigned reg = (unsigned)(port - f->io);
    if (port < f->io || reg > FA_CMD) {
        fa_violation(f, "read from a port outside the channel");
        return FA_FLOATING;
    }
    if (reg == FA_CMD)
        return fa_read_status(f);
    if (reg == FA_ERROR)
        return f->drive[f->sel].error;
    if (reg == FA_DEVICE)
        return f->device;
    if (reg == FA_DATA) {
        fa_violation(f, "byte read of the data register");
        return 0;
    }
    return f->tf[reg - FA_TF_FIRST][(f->control & FA_CTL_HOB) ? 1 : 0];
}

static inline void fa_outb(void *ctx, uint16_t port, uint8_t v)
{
    struct ata_fake *f = ctx;
    if (f->ntrace < FA_TRACE)
        f->trace[f->ntrace++] = (struct fa_write){ port, v };
    if (f->floating)
        return;
    if (port == f->ctrl) {
        f->control = v;
        return;
    }
    unsigned reg = (unsigned)(port - f->io);
    if (port < f->io || reg > FA_CMD || reg == FA_DATA) {
        fa_violation(f, "byte write outside the task file");
        return;
    }
    if (reg == FA_CMD) {
        fa_command(f, v);
        return;
    }
    /* Selecting a position is how a host looks at it, busy or not; the
     * other registers belong to the selected device once it is idle. */
    if (reg != FA_DEVICE && (fa_busy(f) || (f->drive[f->sel].status & FA_ST_DRQ)))
        fa_violation(f, "task file written while BSY or DRQ");
    f->control &= (uint8_t)~FA_CTL_HOB;   /* any task file write clears HOB */
    if (reg == FA_DEVICE) {
        f->device = v;
        f->sel = (v & FA_DEV_SLAVE) ? 1 : 0;
        f->reads_since_select = 0;
        f->stale = f->last_shown;
        f->stale_left = FAKE_ATA_SETTLE_READS;
        return;
    }
    if (reg == FA_ERROR)
        return;                           /* the features register: unused here */
    f->tf[reg - FA_TF_FIRST][1] = f->tf[reg - FA_TF_FIRST][0];
    f->tf[reg - FA_TF_FIRST][0] = v;
}

/* Host data access: allowed only in a data phase once the host can have
 * seen DRQ up and BSY down (the settle reads are over). */
static inline bool fa_data_ok(struct ata_fake *f, enum fa_phase phase, uint16_t port,
                              uint32_t words)
{
    if (port != f->io + FA_DATA) {
        fa_violation(f, "string I/O to a port other than the data register");
        return false;
    }
    if (f->phase != phase || f->stale_left || fa_busy(f) ||
        !(f->drive[f->sel].status & FA_ST_DRQ)) {
        fa_violation(f, "data moved without DRQ (or in the wrong direction)");
        return false;
    }
    if (f->pos + words * 2 > FA_SECTOR) {
        fa_violation(f, "data moved past the end of the DRQ block");
        return false;
    }
    return true;
}

static inline void fa_insw(void *ctx, uint16_t port, void *buf, uint32_t words)
{
    struct ata_fake *f = ctx;
    if (!fa_data_ok(f, FA_PIO_IN, port, words)) {
        memset(buf, 0xFF, words * 2);
        return;
    }
    memcpy(buf, f->buf + f->pos, words * 2);
    f->pos += words * 2;
    if (f->pos < FA_SECTOR)
        return;
    f->lba++;
    if (--f->left) {
        fa_next_in(f);
    } else {
        f->phase = FA_IDLE;
        fa_change(f, FA_ST_DRDY, 0);
    }
}

static inline void fa_outsw(void *ctx, uint16_t port, const void *buf, uint32_t words)
{
    struct ata_fake *f = ctx;
    if (!fa_data_ok(f, FA_PIO_OUT, port, words))
        return;
    memcpy(f->buf + f->pos, buf, words * 2);
    f->pos += words * 2;
    if (f->pos < FA_SECTOR)
        return;
    f->pos = 0;
    if (f->fail_armed && f->fail_lba == f->lba) {
        f->drive[f->sel].error = f->fail_error;
        f->phase = FA_IDLE;
        fa_change(f, FA_ST_DRDY | f->fail_status, f->busy_reads);
        return;
    }
    fa_store(f, f->lba++, f->buf);
    if (--f->left) {
        fa_change(f, FA_ST_DRDY | FA_ST_DRQ, f->busy_reads);
    } else {
        f->phase = FA_IDLE;
        fa_change(f, FA_ST_DRDY, f->busy_reads);   /* busy while it writes */
    }
}

/* An empty channel at (io, ctrl); add drives with fa_attach. */
static inline void fa_init(struct ata_fake *f, uint16_t io, uint16_t ctrl)
{
    memset(f, 0, sizeof(*f));
    f->ops = (struct ata_port_ops){ fa_inb, fa_outb, fa_insw, fa_outsw, f };
    f->io = io;
    f->ctrl = ctrl;
    f->busy_reads = 3;
    f->reads_since_select = FAKE_ATA_SETTLE_READS;
}

static inline void fa_attach(struct ata_fake *f, unsigned pos, enum fa_kind kind,
                             uint64_t sectors, bool lba48)
{
    f->drive[pos] = (struct fa_drive){ kind, sectors, lba48, FA_ST_DRDY, 0 };
}

/* Time passes with the host away (between two driver calls): whatever the
 * device was about to show, it shows now. Never in the middle of a call. */
static inline void fa_time_passes(struct ata_fake *f)
{
    f->stale_left = 0;
    f->busy_left = 0;
}

/* Forget what was written to the ports and which commands ran. */
static inline void fa_clear_log(struct ata_fake *f)
{
    f->ntrace = 0;
    f->ncmds = 0;
}

#endif

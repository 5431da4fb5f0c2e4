/*
 * ATA PIO disks on the legacy IDE ports (Bochs, QEMU's i440fx, PIIX in
 * compatibility mode), behind swap/blkdev.h: IDENTIFY, READ/WRITE SECTORS
 * (EXT when the disk has 48-bit LBA and the range needs it), FLUSH CACHE.
 * Polled with the device's interrupt masked (nIEN): the hypervisor runs
 * with interrupts off and the guest must not see IRQ 14/15 for our I/O.
 *
 * Names follow Bochs's configuration: "ata0-master", "ata0-slave" (primary
 * channel), "ata1-master", "ata1-slave" (secondary).
 */
#ifndef PV_SWAP_ATA_H
#define PV_SWAP_ATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/drivers/blkdev.h"

#define ATA_PRIMARY_IO 0x1F0u
#define ATA_PRIMARY_CTRL 0x3F6u
#define ATA_SECONDARY_IO 0x170u
#define ATA_SECONDARY_CTRL 0x376u

#define ATA_SECTOR 512u
#define ATA_IDENTIFY_WORDS 256u
/* BSY longer than this: the disk is gone (marked failed, every later
 * request refused at once; see docs/decisions.md, "Swap devices"). */
#define ATA_TIMEOUT_MS 5000u
#define ATA_PROBE_TIMEOUT_MS 2000u     /* IDENTIFY on a position that may be empty */

/* IDENTIFY DEVICE words and bits used. */
#define ATA_ID_CONFIG 0
#define ATA_ID_CONFIG_NOT_ATA (1u << 15)
#define ATA_ID_SERIAL 10
#define ATA_ID_SERIAL_WORDS 10u
#define ATA_ID_MODEL 27
#define ATA_ID_MODEL_WORDS 20u
#define ATA_ID_CAPABILITY 49
#define ATA_ID_CAP_LBA (1u << 9)
#define ATA_ID_LBA28_SECTORS 60        /* two words, low first */
#define ATA_ID_CMDSET2 83
#define ATA_ID_CMDSET2_VALID_MASK 0xC000u
#define ATA_ID_CMDSET2_VALID 0x4000u
#define ATA_ID_CMDSET2_LBA48 (1u << 10)
#define ATA_ID_LBA48_SECTORS 100       /* four words, low first */
#define ATA_ID_SECTOR_SIZE 106
#define ATA_ID_SS_VALID_MASK 0xC000u
#define ATA_ID_SS_VALID 0x4000u
#define ATA_ID_SS_LONG_LOGICAL (1u << 12)
#define ATA_ID_LOGICAL_WORDS 117       /* two words: logical sector size in words */

struct ata_identity {
    uint64_t sectors;
    bool lba48;
    uint32_t sector_size;
    char model[ATA_ID_MODEL_WORDS * 2 + 1];    /* trailing blanks trimmed */
    char serial[ATA_ID_SERIAL_WORDS * 2 + 1];
};

/*
 * Parse IDENTIFY DEVICE data. Returns 0, or -PV_EINVAL with a reason in err
 * (not an ATA disk, no LBA, a logical sector size other than 512, no
 * capacity). Pure.
 */
int ata_identify_parse(const uint16_t id[ATA_IDENTIFY_WORDS], struct ata_identity *out,
                       char *err, size_t err_len);

/* "ata0-slave" etc. */
int ata_name(uint8_t channel, bool slave, char *buf, size_t len);

/*
 * The driver's port access, chosen at ata_init. The hypervisor passes
 * ata_x86_ports (the port instructions of vmm/arch/arch.h); host tests pass
 * a device model (tests/unit/ata_fake.h). insw/outsw move `words` 16-bit
 * values through one port (the data register), as rep insw/outsw do.
 */
struct ata_port_ops {
    uint8_t (*inb)(void *ctx, uint16_t port);
    void (*outb)(void *ctx, uint16_t port, uint8_t v);
    void (*insw)(void *ctx, uint16_t port, void *buf, uint32_t words);
    void (*outsw)(void *ctx, uint16_t port, const void *buf, uint32_t words);
    void *ctx;
};

extern const struct ata_port_ops ata_x86_ports;

struct ata_disk {
    struct blkdev bd;                /* bd.priv points back here */
    const struct ata_port_ops *ports;
    uint16_t io, ctrl;               /* command block and control ports */
    uint8_t channel;
    bool slave;
    struct ata_identity id;
    uint32_t timeout_ms;
};

/*
 * IDENTIFY the disk at (io, ctrl, slave) through ports and fill ad, which
 * keeps using ports for its I/O. Returns 0; -PV_ENOENT when nothing is
 * there or it is not an ATA disk (ATAPI, SATA signature), with the reason
 * in err; -PV_EINVAL / -PV_EIO with a message naming the disk otherwise.
 */
int ata_init(struct ata_disk *ad, const struct ata_port_ops *ports, uint8_t channel,
             bool slave, uint16_t io, uint16_t ctrl, char *err, size_t err_len);

#endif

/*
 * Boot-time choice of the hypervisor's swap device, from the config's
 * `swap` key:
 *   none     no device (swap_probe is not called)
 *   virtio   the first virtio-blk function in PCI enumeration order (bus 0,
 *            then bridges' secondary buses): modern 0x1AF4:0x1042, or
 *            transitional 0x1AF4:0x1001 when it offers VIRTIO_F_VERSION_1
 *            through the modern capabilities
 *   ata      the first ATA disk in the order ata0-slave, ata1-master,
 *            ata1-slave on the legacy IDE ports. ata0-master is never used:
 *            it is where the firmware boots pagevisor's ESP from on the
 *            machines with IDE disks (Bochs, QEMU pc). (The swap header
 *            check would refuse it anyway: pagevisor never formats.)
 *   auto     virtio if there is a virtio-blk function, else ata
 *   BB:DD.F  that function: a virtio-blk device, or an IDE controller
 *            (its channels' ports from the BARs in native mode, the
 *            legacy ports in compatibility mode; same position order)
 * A device is chosen by presence only: if it then fails (a legacy virtio
 * device, no swap signature), pagevisor refuses rather than trying the
 * next one, so the device it uses is always the one the rule names.
 *
 * The chosen device must carry a swap signature (swap_header_check): the
 * line "swap: <device>: <capacity> MiB, <nslots> slots" is logged. At log
 * level debug a read-only self-check follows: the last slot is read as
 * one request of several segments (and, on virtio, also as several
 * requests in flight, which must agree), and its CRC-32 is logged as
 *   "swap: <device>: self-check: slot N crc32 0xXXXXXXXX ..."
 *
 * The devices are the hypervisor's: vmm/pci_filter.c shows the guest only
 * host and ISA bridges, so neither the virtio function nor the IDE
 * controller appears in the guest's PCI enumeration.
 */
#ifndef PV_SWAP_PROBE_H
#define PV_SWAP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/config.h"
#include "vmm/drivers/ata.h"
#include "vmm/drivers/blkdev.h"
#include "vmm/drivers/virtio_blk.h"
#include "vmm/drivers/pci.h"

#define SWAP_ATA_POSITIONS 3u
#define SWAP_PROBE_MAX_FUNCS 64u     /* PCI functions examined */

enum swap_dev_kind {
    SWAP_DEV_VIRTIO,
    SWAP_DEV_ATA,
};

/* A device to try: a virtio-blk function or an ATA position. */
struct swap_choice {
    enum swap_dev_kind kind;
    struct pci_addr pci;        /* virtio: the function; ata: the controller if any */
    uint8_t channel;            /* ata: 0 primary, 1 secondary */
    bool slave;
    uint16_t io, ctrl;          /* ata: command block and control ports */
};

/* The device swap_probe chose, with its driver state. */
struct swap_probe {
    struct blkdev *dev;         /* &virtio.bd or &ata.bd */
    enum swap_dev_kind kind;
    uint64_t nslots;
    uint32_t last_page;         /* highest slot page (swap header) */
    union {
        struct virtio_blk virtio;
        struct ata_disk ata;
    } u;
};

/* True for a virtio-blk function this driver may take (pure). */
bool swap_is_virtio_blk(const struct pci_func *f);

/*
 * Pick the PCI function the config names among funcs[0..n): for virtio and
 * auto the first virtio-blk one; for a PCI address that function, which
 * must be a virtio-blk device or an IDE controller (kind says which).
 * Returns 1 with *out filled, 0 when none fits (virtio/auto/ata), or
 * -PV_ENOENT / -PV_EINVAL with a message in err (an address with nothing
 * or something else there; ata never looks at PCI: returns 0). Pure.
 */
int swap_pick_pci(const struct pv_config *cfg, const struct pci_func *funcs, size_t n,
                  struct swap_choice *out, char *err, size_t err_len);

/*
 * The ATA positions to try, in order (see above), given each channel's
 * command block and control ports. Fills out[0..SWAP_ATA_POSITIONS). Pure.
 */
void swap_ata_positions(const uint16_t io[2], const uint16_t ctrl[2],
                        struct swap_choice out[SWAP_ATA_POSITIONS]);

/* CRC-32 (IEEE 802.3, as zlib's crc32) of len bytes, continuing from crc (0 to start). */
uint32_t swap_crc32(uint32_t crc, const void *buf, size_t len);

/*
 * Find, bring up and check the swap device cfg->swap names (not
 * CONFIG_SWAP_NONE). Returns 0 after logging the swap line; else a negative
 * PV_E* with one line in err naming the device (or the missing one) and the
 * problem: the caller must not start the guest.
 */
int swap_probe(const struct pv_config *cfg, struct swap_probe *out, char *err, size_t err_len);

#endif

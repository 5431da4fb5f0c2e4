/*
 * The virtio-pci transport, modern (virtio 1.0) layout only: the device's
 * structures are found through vendor capabilities in PCI configuration
 * space (common configuration, notification, ISR, device configuration)
 * and live in memory BARs. Legacy (0.9.5, I/O port) devices are refused.
 *
 * Device status protocol (virtio 1.0 section 3.1.1): reset, ACKNOWLEDGE,
 * DRIVER, feature negotiation, FEATURES_OK (re-read to check the device
 * agreed), queue setup, DRIVER_OK.
 */
#ifndef PV_SWAP_VIRTIO_PCI_H
#define PV_SWAP_VIRTIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/drivers/virtio_ring.h"
#include "vmm/drivers/pci.h"

#define VIRTIO_PCI_VENDOR 0x1AF4u
#define VIRTIO_PCI_DEVICE_MODERN_BASE 0x1040u  /* + virtio device id */
#define VIRTIO_PCI_DEVICE_TRANSITIONAL_BLK 0x1001u
#define VIRTIO_ID_BLOCK 2u

/* Vendor capability (struct virtio_pci_cap), offsets from the capability. */
#define VIRTIO_CAP_OFF_LEN 2
#define VIRTIO_CAP_OFF_TYPE 3
#define VIRTIO_CAP_OFF_BAR 4
#define VIRTIO_CAP_OFF_OFFSET 8
#define VIRTIO_CAP_OFF_LENGTH 12
#define VIRTIO_CAP_OFF_NOTIFY_MULT 16
#define VIRTIO_CAP_MIN_LEN 16u
#define VIRTIO_CAP_NOTIFY_MIN_LEN 20u
#define VIRTIO_PCI_CAP_COMMON_CFG 1u
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2u
#define VIRTIO_PCI_CAP_ISR_CFG 3u
#define VIRTIO_PCI_CAP_DEVICE_CFG 4u

/* Common configuration structure (struct virtio_pci_common_cfg). */
#define VIRTIO_COMMON_DFSELECT 0x00
#define VIRTIO_COMMON_DF 0x04
#define VIRTIO_COMMON_GFSELECT 0x08
#define VIRTIO_COMMON_GF 0x0C
#define VIRTIO_COMMON_MSIX 0x10
#define VIRTIO_COMMON_NUMQ 0x12
#define VIRTIO_COMMON_STATUS 0x14
#define VIRTIO_COMMON_CFGGENERATION 0x15
#define VIRTIO_COMMON_Q_SELECT 0x16
#define VIRTIO_COMMON_Q_SIZE 0x18
#define VIRTIO_COMMON_Q_MSIX 0x1A
#define VIRTIO_COMMON_Q_ENABLE 0x1C
#define VIRTIO_COMMON_Q_NOFF 0x1E
#define VIRTIO_COMMON_Q_DESC 0x20
#define VIRTIO_COMMON_Q_AVAIL 0x28
#define VIRTIO_COMMON_Q_USED 0x30
#define VIRTIO_COMMON_LEN 0x38u
#define VIRTIO_MSI_NO_VECTOR 0xFFFFu

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01u
#define VIRTIO_STATUS_DRIVER 0x02u
#define VIRTIO_STATUS_DRIVER_OK 0x04u
#define VIRTIO_STATUS_FEATURES_OK 0x08u
#define VIRTIO_STATUS_NEEDS_RESET 0x40u
#define VIRTIO_STATUS_FAILED 0x80u

/* Transport feature bits. */
#define VIRTIO_F_VERSION_1 (1ull << 32)
#define VIRTIO_F_ACCESS_PLATFORM (1ull << 33)

/* Where one structure lives: BAR and range inside it. */
struct virtio_cap_loc {
    bool present;
    uint8_t bar;
    uint32_t offset, length;
};

struct virtio_pci_caps {
    struct virtio_cap_loc common, notify, isr, device;
    uint32_t notify_mult;      /* queue_notify_off multiplier */
};

struct virtio_pci {
    struct pci_addr addr;
    const char *name;          /* for messages, e.g. the blkdev's name */
    volatile uint8_t *common, *notify, *isr, *device;
    uint32_t notify_mult, notify_len, device_len;
};

struct virtio_queue {
    struct vring vr;
    uint16_t index;
    volatile uint16_t *notify;  /* write the queue index here to kick */
};

/*
 * Read the vendor capabilities of function a (the first of each type with
 * a valid BAR). Returns 0 when common, notify and device configuration are
 * all present, -PV_ENOENT otherwise (a legacy-only device). Pure over the
 * configuration accessors (vmm/pci.h).
 */
int virtio_pci_find_caps(struct pci_addr a, struct virtio_pci_caps *caps);

/* Choose the driver's features: wanted & offered, plus VERSION_1, which
 * must be offered (else -PV_EINVAL). Pure. */
int virtio_features_select(uint64_t offered, uint64_t wanted, uint64_t *accepted);

/*
 * Size and map the BARs the capabilities name, enable memory decoding and
 * bus mastering, and fill vp. -PV_EINVAL with a message in err when a
 * structure lies outside its BAR, in an I/O BAR, or the BAR is unassigned.
 */
int virtio_pci_map(struct virtio_pci *vp, struct pci_addr a, const struct virtio_pci_caps *caps,
                   char *err, size_t err_len);

/*
 * Reset, ACKNOWLEDGE, DRIVER, negotiate (offered features are returned in
 * *offered, the accepted ones in *accepted), FEATURES_OK. On a device that
 * refuses, status FAILED is set and -PV_EIO / -PV_EINVAL returned with a
 * message naming the device.
 */
int virtio_pci_start(struct virtio_pci *vp, uint64_t wanted, uint64_t *offered,
                     uint64_t *accepted, char *err, size_t err_len);

/* Set up queue `index` with at most max_size entries (ring memory from the
 * heap), interrupts off. */
int virtio_pci_setup_queue(struct virtio_pci *vp, uint16_t index, uint16_t max_size,
                           struct virtio_queue *q, char *err, size_t err_len);

void virtio_pci_driver_ok(struct virtio_pci *vp);
/* Mark the device FAILED (after a timeout or protocol error). */
void virtio_pci_fail(struct virtio_pci *vp);
uint8_t virtio_pci_status(struct virtio_pci *vp);
void virtio_queue_kick(struct virtio_queue *q);

/* Device configuration fields, read consistently (config_generation). */
uint32_t virtio_pci_dev_read32(struct virtio_pci *vp, uint32_t off);
uint64_t virtio_pci_dev_read64(struct virtio_pci *vp, uint32_t off);

#endif

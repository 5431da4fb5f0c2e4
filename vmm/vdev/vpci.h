/*
 * The modern virtio-pci transport (virtio 1.x section 4.1) of the guest's
 * block device: a PCI function's configuration space (vendor capabilities
 * for the common, notify, ISR and device configuration, the PCI access
 * capability, MSI-X) and its BAR0 registers, emulated. The layout is in
 * docs/guest-disk.md. No legacy interface.
 *
 * BAR0 is a guest memory region of kind mmio whose ctx is vpci.mmio; it
 * follows the guest's BAR writes and the command register's memory enable.
 * Interrupts leave through msi(): an MSI-X message (address, data) the
 * platform delivers (vmm/irq_inject.h in the hypervisor, a recorder in
 * tests), or, once vpci_set_intx gave the function pin INTA, through
 * intx(): the level of the INTx line (vmm/intx.h in the hypervisor).
 *
 * INTx (PCI 3.0 6.8, virtio 1.x 4.1.4.5): the line is asserted while the
 * ISR status is non-zero, MSI-X is disabled (a function with MSI-X enabled
 * never uses INTx; a queue whose vector is NO_VECTOR then gets no
 * interrupt) and the command register's Interrupt Disable is clear; the
 * driver reading ISR clears it and so deasserts. While asserted, every
 * BAR access says the level again, so the platform can retry a message
 * the guest masked or retired without acknowledging.
 *
 * Errors in what the guest put in memory (vdev/virtq.h) set
 * DEVICE_NEEDS_RESET, log one line and signal a configuration change; the
 * device then ignores notifications until the driver resets it.
 */
#ifndef PV_VDEV_VPCI_H
#define PV_VDEV_VPCI_H

#include "vmm/vdev/mmio_dev.h"
#include "vmm/vdev/vblk.h"

#define VPCI_NQ 1u                 /* request queues */
#define VPCI_NVEC 2u               /* MSI-X vectors: config change, queue 0 */
#define VPCI_BAR_SIZE 0x8000u
#define VPCI_COMMON 0x0000u
#define VPCI_ISR 0x1000u
#define VPCI_DEVICE 0x2000u
#define VPCI_NOTIFY 0x3000u
#define VPCI_NOTIFY_MULT 4u
#define VPCI_MSIX_TABLE 0x4000u
#define VPCI_MSIX_PBA 0x5000u
#define VPCI_CFG_SIZE 256u

/* Device status bits (2.1). */
#define VPCI_S_ACKNOWLEDGE 0x01u
#define VPCI_S_DRIVER 0x02u
#define VPCI_S_DRIVER_OK 0x04u
#define VPCI_S_FEATURES_OK 0x08u
#define VPCI_S_NEEDS_RESET 0x40u
#define VPCI_S_FAILED 0x80u
#define VPCI_NO_VECTOR 0xFFFFu

/* Common configuration offsets (4.1.4.3). */
#define VPCI_C_DFSELECT 0x00u
#define VPCI_C_DF 0x04u
#define VPCI_C_GFSELECT 0x08u
#define VPCI_C_GF 0x0Cu
#define VPCI_C_MSIX 0x10u
#define VPCI_C_NUMQ 0x12u
#define VPCI_C_STATUS 0x14u
#define VPCI_C_GENERATION 0x15u
#define VPCI_C_Q_SELECT 0x16u
#define VPCI_C_Q_SIZE 0x18u
#define VPCI_C_Q_MSIX 0x1Au
#define VPCI_C_Q_ENABLE 0x1Cu
#define VPCI_C_Q_NOFF 0x1Eu
#define VPCI_C_Q_DESC 0x20u
#define VPCI_C_Q_DRIVER 0x28u
#define VPCI_C_Q_DEVICE 0x30u
#define VPCI_C_LEN 0x38u

/* ISR bits. */
#define VPCI_ISR_QUEUE 0x1u
#define VPCI_ISR_CONFIG 0x2u

/* Configuration space. */
#define VPCI_CMD_MEM (1u << 1)
#define VPCI_CMD_MASTER (1u << 2)
#define VPCI_CMD_INTX_OFF (1u << 10)
#define VPCI_MSIX_ENABLE (1u << 15)
#define VPCI_MSIX_MASKALL (1u << 14)
#define VPCI_MSIX_ENTRY 16u
#define VPCI_MSIX_VEC_MASKED 0x1u

#define VPCI_STATUS_INTX (1u << 3)  /* status register: INTx asserted */
#define VPCI_PIN_INTA 1u
#define VPCI_INT_LINE_UNKNOWN 0xFFu

typedef void (*vpci_msi_fn)(void *ctx, uint64_t addr, uint32_t data);
typedef void (*vpci_intx_fn)(void *ctx, bool level);

struct vpci_msix_entry {
    uint32_t addr_lo, addr_hi, data, ctrl;
};

struct vpci {
    struct guest_mm *mm;
    struct vblk *blk;
    struct mmio_dev mmio;          /* BAR0 region's ctx */
    uint8_t cfg[VPCI_CFG_SIZE];    /* read-only template; live fields below */
    uint16_t command;
    uint32_t bar0;                 /* as the guest wrote it (size bits cleared) */
    gpa_t mapped;                  /* BAR0 region base; 0: not mapped */
    uint32_t cfgcap_bar_off, cfgcap_len; uint8_t cfgcap_bar; /* PCI access capability */
    /* virtio */
    uint32_t dfselect, gfselect;
    uint64_t driver_features;
    uint8_t status, isr;
    uint16_t qselect, msix_config;
    struct vq q[VPCI_NQ];
    /* MSI-X */
    uint16_t msix_ctrl;
    struct vpci_msix_entry msix[VPCI_NVEC];
    uint64_t pending;              /* PBA */
    vpci_msi_fn msi;
    void *msi_ctx;
    /* INTx (NULL: interrupt pin 0) */
    vpci_intx_fn intx;
    void *intx_ctx;
    uint8_t int_line;              /* configuration 0x3C, the guest's to write */
    bool intx_asserted;
    char name[24];                 /* "vdisk 00:10.0" */
    uint64_t notifies, interrupts, resets, broken;
};

/*
 * Set up the function (guest PCI address bus:dev.fn for messages) with
 * BAR0 at bar (32 KiB aligned, below 4 GiB) mapped and memory decoding on,
 * as firmware would leave it. Returns 0, -PV_EINVAL (bad bar), or
 * mm_add_mmio's error when bar overlaps a region.
 */
int vpci_init(struct vpci *v, struct guest_mm *mm, struct vblk *blk, uint8_t bus, uint8_t dev,
              uint8_t fn, uint32_t bar, vpci_msi_fn msi, void *msi_ctx);

/* Give the function interrupt pin INTA, its level reported to intx(ctx,
 * level); int_line: the Interrupt Line value firmware would have written. */
void vpci_set_intx(struct vpci *v, vpci_intx_fn intx, void *ctx, uint8_t int_line);

/* Configuration space access (reg any offset, size 1/2/4, may not cross a dword). */
uint32_t vpci_cfg_read(struct vpci *v, uint16_t reg, unsigned size);
void vpci_cfg_write(struct vpci *v, uint16_t reg, unsigned size, uint32_t value);

/* BAR0 access at offset off (also what mmio.read / mmio.write do). */
uint64_t vpci_bar_read(struct vpci *v, uint64_t off, unsigned size);
void vpci_bar_write(struct vpci *v, uint64_t off, unsigned size, uint64_t value);

/* Serve every available chain of queue qi (what a notification does). */
void vpci_notify(struct vpci *v, unsigned qi);

#endif

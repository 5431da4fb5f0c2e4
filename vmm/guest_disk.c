/* The guest's disk: backing disk, device model, PCI function (see guest_disk.h). */
#include "vmm/guest_disk.h"

#include "vmm/drivers/ata.h"
#include "vmm/drivers/virtio_blk.h"
#include "vmm/intx_hw.h"
#include "vmm/io_policy.h"
#include "vmm/irq_inject.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/heap.h"
#include "vmm/lib/log.h"
#include "vmm/vdev/vpci.h"

#include <string.h>

#define FOUND_LIST_LEN 120u

static struct {
    bool present;
    bool is_pci;                /* else ATA */
    struct pci_addr pci;
    struct virtio_blk virtio;
    struct ata_disk ata;
    struct blkdev *dev;
    uint32_t blk_size;
    char serial[VIRTIO_BLK_ID_BYTES + 1];
    struct vblk vb;
    struct vpci vp;
    struct intx_line intx;
} disk;

static const char *key_text(const struct pv_config *cfg, char *buf, size_t len)
{
    config_disk_word(cfg, buf, len);
    return buf;
}

static int use_virtio(struct pci_addr a, char *err, size_t err_len)
{
    int rc = virtio_blk_init(&disk.virtio, a, err, err_len);
    if (rc < 0)
        return rc;
    disk.is_pci = true;
    disk.pci = a;
    disk.dev = &disk.virtio.bd;
    disk.blk_size = disk.virtio.blk_size;
    if (virtio_blk_get_id(&disk.virtio, disk.serial) < 0)
        disk.serial[0] = '\0';
    return 0;
}

static int probe_pci(const struct pv_config *cfg, const struct pci_func *f, size_t n,
                     const char *what, char *err, size_t err_len)
{
    struct pci_addr want = { cfg->disk_segment, cfg->disk_bus, cfg->disk_dev, cfg->disk_fn };
    for (size_t i = 0; i < n; i++) {
        if (!pci_addr_eq(f[i].addr, want))
            continue;
        if (!swap_is_virtio_blk(&f[i])) {
            pv_snprintf(err, err_len, "disk %s: %04x:%04x is not a virtio-blk device", what,
                        f[i].vendor, f[i].device);
            return -PV_EINVAL;
        }
        return use_virtio(want, err, err_len);
    }
    pv_snprintf(err, err_len, "disk %s: no PCI function at that address", what);
    return -PV_ENOENT;
}

static int probe_serial(const struct pv_config *cfg, const struct pci_func *f, size_t n,
                        const char *what, char *err, size_t err_len)
{
    char found[FOUND_LIST_LEN] = "";
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (!swap_is_virtio_blk(&f[i]))
            continue;
        char why[160];
        if (use_virtio(f[i].addr, why, sizeof(why)) < 0) {
            pv_debug("disk: %s", why);
            continue;
        }
        if (!strcmp(disk.serial, cfg->disk_serial))
            return 0;
        int k = pv_snprintf(found + used, sizeof(found) - used, "%s%s", used ? ", " : "",
                            disk.serial[0] ? disk.serial : "(none)");
        if (k > 0 && used + (size_t)k < sizeof(found))
            used += (size_t)k;
    }
    pv_snprintf(err, err_len, "disk %s: no virtio-blk device has that serial (found: %s)", what,
                used ? found : "no virtio-blk device");
    return -PV_ENOENT;
}

static int probe_ata(const struct pv_config *cfg, const char *what, char *err, size_t err_len)
{
    static const uint16_t io[2] = { ATA_PRIMARY_IO, ATA_SECONDARY_IO };
    static const uint16_t ctrl[2] = { ATA_PRIMARY_CTRL, ATA_SECONDARY_CTRL };
    char why[160];
    uint8_t ch = cfg->disk_ata_channel;
    int rc = ata_init(&disk.ata, &ata_x86_ports, ch, cfg->disk_ata_slave, io[ch], ctrl[ch], why,
                      sizeof(why));
    if (rc < 0) {
        pv_snprintf(err, err_len, "disk %s: %s", what, why);
        return rc;
    }
    disk.is_pci = false;
    disk.dev = &disk.ata.bd;
    disk.blk_size = VBLK_SECTOR;
    return 0;
}

int guest_disk_probe(const struct pv_config *cfg, char *err, size_t err_len)
{
    if (cfg->disk == CONFIG_DISK_NONE)
        return 0;
    char what[48];
    key_text(cfg, what, sizeof(what));
    int rc;
    if (cfg->disk == CONFIG_DISK_ATA) {
        rc = probe_ata(cfg, what, err, err_len);
    } else {
        static struct pci_func funcs[SWAP_PROBE_MAX_FUNCS];
        size_t n = pci_enumerate(funcs, SWAP_PROBE_MAX_FUNCS);
        if (n > SWAP_PROBE_MAX_FUNCS)
            n = SWAP_PROBE_MAX_FUNCS;
        rc = cfg->disk == CONFIG_DISK_PCI ? probe_pci(cfg, funcs, n, what, err, err_len)
                                          : probe_serial(cfg, funcs, n, what, err, err_len);
    }
    if (rc < 0)
        return rc;
    disk.present = true;
    pv_info("disk: %s: %s, %llu MiB%s%s%s", what, disk.dev->name,
            (unsigned long long)((disk.dev->sectors * disk.dev->sector_size) >> 20),
            disk.serial[0] ? ", serial " : "", disk.serial, cfg->disk_ro ? ", read-only" : "");
    return 0;
}

int guest_disk_check_swap(const struct pv_config *cfg, const struct swap_probe *sw, char *err,
                          size_t err_len)
{
    if (!disk.present || cfg->swap == CONFIG_SWAP_NONE || !sw->dev)
        return 0;
    bool same = disk.is_pci ? sw->kind == SWAP_DEV_VIRTIO && pci_addr_eq(sw->u.virtio.vp.addr,
                                                                         disk.pci)
                            : sw->kind == SWAP_DEV_ATA &&
                                  sw->u.ata.channel == disk.ata.channel &&
                                  sw->u.ata.slave == disk.ata.slave;
    if (!same)
        return 0;
    char what[48];
    pv_snprintf(err, err_len, "disk %s: %s is also the swap device; name the swap disk by its "
                "PCI address or ATA position", key_text(cfg, what, sizeof(what)), sw->dev->name);
    return -PV_EINVAL;
}

int guest_disk_attach(const struct pv_config *cfg, struct guest_mm *mm, char *err,
                      size_t err_len)
{
    if (!disk.present)
        return 0;
    uint8_t *bounce = heap_alloc(VBLK_BOUNCE, PAGE_SIZE, "guest disk bounce buffer");
    if (!bounce) {
        pv_snprintf(err, err_len, "disk: no memory for the bounce buffer");
        return -PV_ENOMEM;
    }
    uint8_t slot;
    if (!pci_filter_free_slot(GUEST_DISK_SLOT_FIRST, GUEST_DISK_SLOT_LAST, &slot)) {
        pv_snprintf(err, err_len, "disk: no free PCI device number on bus 0 for the guest's disk");
        return -PV_ENOENT;
    }
    const char *id = cfg->disk == CONFIG_DISK_SERIAL ? cfg->disk_serial : disk.serial;
    int rc = vblk_init(&disk.vb, disk.dev, cfg->disk_ro, disk.blk_size, id, bounce);
    if (rc == 0)
        rc = vpci_init(&disk.vp, mm, &disk.vb, 0, slot, 0, GUEST_DISK_BAR, irq_inject_msi, NULL);
    if (rc < 0) {
        pv_snprintf(err, err_len, "disk: cannot set up the guest's device (error %d)", rc);
        return rc;
    }
    irq_inject_init();
    char why[120];
    if (intx_hw_bind(&disk.intx, "vblk", slot, INTX_PIN_INTA, why, sizeof(why)) == 0) {
        vpci_set_intx(&disk.vp, intx_level, &disk.intx,
                      disk.intx.gsi < VPCI_INT_LINE_UNKNOWN ? (uint8_t)disk.intx.gsi
                                                            : VPCI_INT_LINE_UNKNOWN);
        pv_info("disk: guest's device INTA -> GSI %u (IOAPIC pin %u)", disk.intx.gsi,
                disk.intx.pin);
    } else {
        pv_info("disk: guest's device has no INTx (MSI-X only): %s", why);
    }
    pci_filter_attach((struct pci_addr){ 0, 0, slot, 0 }, &disk.vp);
    pv_info("disk: guest sees virtio-blk at 00:%02x.0, BAR0 0x%x, %llu sectors%s", slot,
            GUEST_DISK_BAR, (unsigned long long)disk.dev->sectors,
            cfg->disk_ro ? ", read-only" : "");
    return 0;
}

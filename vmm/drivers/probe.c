/* Boot-time swap device choice and check; see probe.h. */
#include "vmm/drivers/probe.h"
#include "vmm/lib/types.h"
#include "swap/swap_area.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/heap.h"
#include "vmm/lib/log.h"

#include <string.h>

#define CRC32_POLY 0xEDB88320u       /* reflected IEEE 802.3 polynomial */
#define CRC32_INIT 0xFFFFFFFFu
#define IDE_PROGIF_PRIMARY_NATIVE 0x01u
#define IDE_PROGIF_SECONDARY_NATIVE 0x04u
#define IDE_CTRL_OFFSET 2u           /* device control at BAR(2n+1) + 2 in native mode */
#define SELFCHECK_SEGS 4u
#define SELFCHECK_SEG_MIN 1024u
#define MIB_SHIFT 20

static const char *const ata_positions_text = "ata0-slave, ata1-master or ata1-slave";

bool swap_is_virtio_blk(const struct pci_func *f)
{
    return f->vendor == VIRTIO_PCI_VENDOR &&
           (f->device == VIRTIO_PCI_DEVICE_MODERN_BASE + VIRTIO_ID_BLOCK ||
            f->device == VIRTIO_PCI_DEVICE_TRANSITIONAL_BLK);
}

static bool is_ide(const struct pci_func *f)
{
    return f->class_code == PCI_CLASS_STORAGE && f->subclass == PCI_SUBCLASS_IDE;
}

int swap_pick_pci(const struct pv_config *cfg, const struct pci_func *funcs, size_t n,
                  struct swap_choice *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (cfg->swap == CONFIG_SWAP_VIRTIO || cfg->swap == CONFIG_SWAP_AUTO) {
        for (size_t i = 0; i < n; i++)
            if (swap_is_virtio_blk(&funcs[i])) {
                out->kind = SWAP_DEV_VIRTIO;
                out->pci = funcs[i].addr;
                return 1;
            }
        return 0;
    }
    if (cfg->swap != CONFIG_SWAP_PCI)
        return 0;
    struct pci_addr want = { cfg->swap_segment, cfg->swap_bus, cfg->swap_dev, cfg->swap_fn };
    char where[16];
    pci_addr_format(want, where, sizeof(where));
    for (size_t i = 0; i < n; i++) {
        const struct pci_func *f = &funcs[i];
        if (!pci_addr_eq(f->addr, want))
            continue;
        out->pci = want;
        if (swap_is_virtio_blk(f)) {
            out->kind = SWAP_DEV_VIRTIO;
            return 1;
        }
        if (is_ide(f)) {
            out->kind = SWAP_DEV_ATA;
            return 1;
        }
        pv_snprintf(err, err_len, "swap %s: %04x:%04x (class %02x/%02x) is neither a virtio-blk "
                    "device nor an IDE controller", where, f->vendor, f->device, f->class_code,
                    f->subclass);
        return -PV_EINVAL;
    }
    pv_snprintf(err, err_len, "swap %s: no PCI function at that address%s", where,
                want.seg ? " (only segment 0 is reachable)" : "");
    return -PV_ENOENT;
}

void swap_ata_positions(const uint16_t io[2], const uint16_t ctrl[2],
                        struct swap_choice out[SWAP_ATA_POSITIONS])
{
    static const struct { uint8_t channel; bool slave; } order[SWAP_ATA_POSITIONS] = {
        { 0, true }, { 1, false }, { 1, true },
    };
    for (unsigned i = 0; i < SWAP_ATA_POSITIONS; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].kind = SWAP_DEV_ATA;
        out[i].channel = order[i].channel;
        out[i].slave = order[i].slave;
        out[i].io = io[order[i].channel];
        out[i].ctrl = ctrl[order[i].channel];
    }
}

uint32_t swap_crc32(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (CRC32_POLY & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* An IDE controller's channel ports: BARs in native mode, else legacy. */
static void ide_ports(const struct pci_addr *ide, uint16_t io[2], uint16_t ctrl[2])
{
    io[0] = ATA_PRIMARY_IO;
    ctrl[0] = ATA_PRIMARY_CTRL;
    io[1] = ATA_SECONDARY_IO;
    ctrl[1] = ATA_SECONDARY_CTRL;
    if (!ide)   /* no controller named: the legacy ports */
        return;
    uint8_t progif = pci_read8(*ide, PCI_PROG_IF);
    static const uint8_t native[2] = { IDE_PROGIF_PRIMARY_NATIVE, IDE_PROGIF_SECONDARY_NATIVE };
    for (unsigned ch = 0; ch < 2; ch++) {
        if (!(progif & native[ch]))
            continue;
        struct pci_bar cmd, ctl;
        pci_bar_probe(*ide, ch * 2, &cmd);
        pci_bar_probe(*ide, ch * 2 + 1, &ctl);
        if (cmd.io && ctl.io && cmd.base && ctl.base) {
            io[ch] = (uint16_t)cmd.base;
            ctrl[ch] = (uint16_t)(ctl.base + IDE_CTRL_OFFSET);
        }
    }
    pci_enable(*ide, PCI_COMMAND_IO);
}

/* Try the ATA positions; 0 with out->u.ata ready, or -PV_ENOENT/-PV_E*. */
static int find_ata(const struct pci_addr *ide, struct swap_probe *out, char *err,
                    size_t err_len)
{
    uint16_t io[2], ctrl[2];
    ide_ports(ide, io, ctrl);
    struct swap_choice pos[SWAP_ATA_POSITIONS];
    swap_ata_positions(io, ctrl, pos);
    for (unsigned i = 0; i < SWAP_ATA_POSITIONS; i++) {
        char why[128];
        int rc = ata_init(&out->u.ata, pos[i].channel, pos[i].slave, pos[i].io, pos[i].ctrl,
                          why, sizeof(why));
        if (rc == 0) {
            out->kind = SWAP_DEV_ATA;
            out->dev = &out->u.ata.bd;
            return 0;
        }
        if (rc != -PV_ENOENT) {
            pv_snprintf(err, err_len, "%s", why);
            return rc;
        }
        pv_debug("swap: %s", why);
    }
    return -PV_ENOENT;
}

/* Read the last slot through the driver in several ways; they must agree. */
static int self_check(struct swap_probe *p, char *err, size_t err_len)
{
    struct blkdev *d = p->dev;
    uint32_t seg = SELFCHECK_SEG_MIN;
    if (p->kind == SWAP_DEV_VIRTIO && p->u.virtio.blk_size > seg)
        seg = p->u.virtio.blk_size;
    unsigned nseg = (unsigned)(PAGE_SIZE / seg);
    uint64_t sector = (uint64_t)p->last_page * (PAGE_SIZE / d->sector_size);
    /* Two pages per segment slot: the segments are deliberately not contiguous. */
    uint8_t *mem = heap_alloc(2 * SELFCHECK_SEGS * PAGE_SIZE, PAGE_SIZE, "swap self-check");
    if (!mem)
        return 0;   /* debug aid only: skip rather than refuse */
    struct blk_seg segs[SELFCHECK_SEGS];
    for (unsigned i = 0; i < nseg; i++)
        segs[i] = (struct blk_seg){ mem + 2 * i * PAGE_SIZE, seg };
    int rc = d->ops->rw(d, false, sector, segs, nseg);
    if (rc < 0) {
        pv_snprintf(err, err_len, "%s: self-check read of slot %u failed", d->name,
                    p->last_page);
        return rc;
    }
    uint32_t crc = 0;
    for (unsigned i = 0; i < nseg; i++)
        crc = swap_crc32(crc, segs[i].buf, seg);
    const char *inflight = "";
    if (p->kind == SWAP_DEV_VIRTIO && nseg > 1) {
        struct virtio_blk_io ios[SELFCHECK_SEGS];
        for (unsigned i = 0; i < nseg; i++) {
            segs[i].buf = mem + (2 * i + 1) * PAGE_SIZE;
            ios[i] = (struct virtio_blk_io){ VIRTIO_BLK_T_IN,
                                             sector + i * seg / d->sector_size, &segs[i], 1, 0 };
        }
        rc = virtio_blk_submit(&p->u.virtio, ios, nseg);
        uint32_t crc2 = 0;
        for (unsigned i = 0; i < nseg; i++)
            crc2 = swap_crc32(crc2, segs[i].buf, seg);
        if (rc < 0 || crc2 != crc) {
            pv_snprintf(err, err_len, "%s: self-check: slot %u reads differently as %u "
                        "requests in flight (crc32 0x%08x, 0x%08x)", d->name, p->last_page,
                        nseg, crc, crc2);
            return rc < 0 ? rc : -PV_ECORRUPT;
        }
        inflight = "; the same as requests in flight";
    }
    pv_debug("swap: %s: self-check: slot %u crc32 0x%08x (%u sectors in %u segments%s)",
             d->name, p->last_page, crc, (unsigned)(PAGE_SIZE / d->sector_size), nseg,
             inflight);
    return 0;
}

static int choose(const struct pv_config *cfg, struct swap_probe *out, char *err,
                  size_t err_len)
{
    static struct pci_func funcs[SWAP_PROBE_MAX_FUNCS];
    size_t n = pci_enumerate(funcs, SWAP_PROBE_MAX_FUNCS);
    if (n > SWAP_PROBE_MAX_FUNCS)
        n = SWAP_PROBE_MAX_FUNCS;
    struct swap_choice c;
    int rc = swap_pick_pci(cfg, funcs, n, &c, err, err_len);
    if (rc < 0)
        return rc;
    if (rc == 1 && c.kind == SWAP_DEV_VIRTIO) {
        out->kind = SWAP_DEV_VIRTIO;
        out->dev = &out->u.virtio.bd;
        return virtio_blk_init(&out->u.virtio, c.pci, err, err_len);
    }
    if (cfg->swap == CONFIG_SWAP_VIRTIO) {
        pv_snprintf(err, err_len, "swap virtio: no virtio-blk device (QEMU: -device "
                    "virtio-blk-pci,drive=ID,disable-legacy=on)");
        return -PV_ENOENT;
    }
    rc = find_ata(rc == 1 ? &c.pci : NULL, out, err, err_len);
    if (rc != -PV_ENOENT)
        return rc;
    if (cfg->swap == CONFIG_SWAP_PCI)
        pv_snprintf(err, err_len, "swap %02x:%02x.%x: no ATA disk at %s on that controller",
                    cfg->swap_bus, cfg->swap_dev, cfg->swap_fn, ata_positions_text);
    else
        pv_snprintf(err, err_len, "swap %s: no %sATA disk at %s (ata0-master is never used: "
                    "it holds the boot disk)", cfg->swap == CONFIG_SWAP_AUTO ? "auto" : "ata",
                    cfg->swap == CONFIG_SWAP_AUTO ? "virtio-blk device and no " : "",
                    ata_positions_text);
    return -PV_ENOENT;
}

int swap_probe(const struct pv_config *cfg, struct swap_probe *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    int rc = choose(cfg, out, err, err_len);
    if (rc < 0)
        return rc;
    void *page = heap_alloc(PAGE_SIZE, PAGE_SIZE, "swap header page");
    if (!page) {
        pv_snprintf(err, err_len, "%s: no memory for the swap header page", out->dev->name);
        return -PV_ENOMEM;
    }
    struct swap_header_info info;
    rc = swap_header_parse(out->dev, page, &info, err, err_len);
    if (rc < 0)
        return rc;
    out->nslots = info.nslots;
    out->last_page = info.last_page;
    pv_info("swap: %s: %llu MiB, %llu slots", out->dev->name,
            (unsigned long long)((out->dev->sectors * out->dev->sector_size) >> MIB_SHIFT),
            (unsigned long long)out->nslots);
    if (pv_log_get_level() >= LOG_DEBUG)
        return self_check(out, err, err_len);
    return 0;
}

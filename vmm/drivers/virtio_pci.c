/* virtio-pci modern transport; see virtio_pci.h. */
#include "vmm/drivers/virtio_pci.h"
#include "vmm/lib/types.h"
#include "vmm/arch/clock.h"
#include "vmm/lib/fmt.h"
#include "vmm/arch/arch.h"
#include "vmm/lib/heap.h"

#include <string.h>

#define RESET_TIMEOUT_MS 1000u
#define FEATURE_WORDS 2u
#define WORD_BITS 32
#define DEV_READ_TRIES 8u     /* a config change storm beyond this is a broken device */

/* MMIO accessors: one access of the named width, never split or merged. */
static uint8_t mmio_r8(volatile uint8_t *b, uint32_t off) { return b[off]; }
static uint16_t mmio_r16(volatile uint8_t *b, uint32_t off)
{
    return *(volatile uint16_t *)(b + off);
}
static uint32_t mmio_r32(volatile uint8_t *b, uint32_t off)
{
    return *(volatile uint32_t *)(b + off);
}
static void mmio_w8(volatile uint8_t *b, uint32_t off, uint8_t v) { b[off] = v; }
static void mmio_w16(volatile uint8_t *b, uint32_t off, uint16_t v)
{
    *(volatile uint16_t *)(b + off) = v;
}
static void mmio_w32(volatile uint8_t *b, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(b + off) = v;
}
/* 64-bit common-config fields are written as two 32-bit halves, low first. */
static void mmio_w64(volatile uint8_t *b, uint32_t off, uint64_t v)
{
    mmio_w32(b, off, (uint32_t)v);
    mmio_w32(b, off + sizeof(uint32_t), (uint32_t)(v >> WORD_BITS));
}

static void read_loc(struct pci_addr a, uint8_t cap, struct virtio_cap_loc *loc)
{
    loc->present = true;
    loc->bar = pci_read8(a, (uint16_t)(cap + VIRTIO_CAP_OFF_BAR));
    loc->offset = pci_read32(a, (uint16_t)(cap + VIRTIO_CAP_OFF_OFFSET));
    loc->length = pci_read32(a, (uint16_t)(cap + VIRTIO_CAP_OFF_LENGTH));
}

int virtio_pci_find_caps(struct pci_addr a, struct virtio_pci_caps *caps)
{
    memset(caps, 0, sizeof(*caps));
    for (uint8_t c = pci_cap_next(a, PCI_CAP_ID_VENDOR, 0); c;
         c = pci_cap_next(a, PCI_CAP_ID_VENDOR, c)) {
        uint8_t len = pci_read8(a, (uint16_t)(c + VIRTIO_CAP_OFF_LEN));
        uint8_t type = pci_read8(a, (uint16_t)(c + VIRTIO_CAP_OFF_TYPE));
        uint8_t bar = pci_read8(a, (uint16_t)(c + VIRTIO_CAP_OFF_BAR));
        if (len < VIRTIO_CAP_MIN_LEN || bar >= PCI_BARS)
            continue;   /* reserved BAR values: the spec says ignore the capability */
        struct virtio_cap_loc *loc = NULL;
        switch (type) {
        case VIRTIO_PCI_CAP_COMMON_CFG: loc = &caps->common; break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG:
            if (len < VIRTIO_CAP_NOTIFY_MIN_LEN)
                continue;
            loc = &caps->notify;
            break;
        case VIRTIO_PCI_CAP_ISR_CFG: loc = &caps->isr; break;
        case VIRTIO_PCI_CAP_DEVICE_CFG: loc = &caps->device; break;
        default: continue;   /* PCI config access, shared memory: not used */
        }
        if (loc->present)
            continue;   /* the first one of a type is the one to use */
        read_loc(a, c, loc);
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
            caps->notify_mult = pci_read32(a, (uint16_t)(c + VIRTIO_CAP_OFF_NOTIFY_MULT));
    }
    if (!caps->common.present || !caps->notify.present || !caps->device.present)
        return -PV_ENOENT;
    return 0;
}

int virtio_features_select(uint64_t offered, uint64_t wanted, uint64_t *accepted)
{
    *accepted = 0;
    if (!(offered & VIRTIO_F_VERSION_1))
        return -PV_EINVAL;
    *accepted = (offered & wanted) | VIRTIO_F_VERSION_1;
    return 0;
}

/* Map the BAR a structure lives in; the structure's address, or NULL. */
static volatile uint8_t *map_loc(struct pci_addr a, const struct virtio_cap_loc *loc,
                                 uint32_t min_len, const char *what, char *err, size_t err_len)
{
    char where[16];
    pci_addr_format(a, where, sizeof(where));
    struct pci_bar bar;
    if (!pci_bar_probe(a, loc->bar, &bar) || bar.io || !bar.size) {
        pv_snprintf(err, err_len, "%s: %s structure in BAR %u, which is not a memory BAR",
                    where, what, (unsigned)loc->bar);
        return NULL;
    }
    if (!bar.base) {
        pv_snprintf(err, err_len, "%s: BAR %u (%s) was not assigned by the firmware", where,
                    (unsigned)loc->bar, what);
        return NULL;
    }
    if (loc->length < min_len || (uint64_t)loc->offset + loc->length > bar.size) {
        pv_snprintf(err, err_len, "%s: %s structure (0x%x bytes at 0x%x) does not fit BAR %u "
                    "(0x%llx bytes)", where, what, loc->length, loc->offset,
                    (unsigned)loc->bar, (unsigned long long)bar.size);
        return NULL;
    }
    volatile uint8_t *base = pci_bar_map(&bar);
    if (!base) {
        pv_snprintf(err, err_len, "%s: cannot map BAR %u at 0x%llx", where, (unsigned)loc->bar,
                    (unsigned long long)bar.base);
        return NULL;
    }
    return base + loc->offset;
}

int virtio_pci_map(struct virtio_pci *vp, struct pci_addr a, const struct virtio_pci_caps *caps,
                   char *err, size_t err_len)
{
    vp->addr = a;
    vp->common = map_loc(a, &caps->common, VIRTIO_COMMON_LEN, "common configuration", err,
                         err_len);
    if (!vp->common)
        return -PV_EINVAL;
    vp->notify = map_loc(a, &caps->notify, sizeof(uint16_t), "notification", err, err_len);
    if (!vp->notify)
        return -PV_EINVAL;
    vp->device = map_loc(a, &caps->device, 1, "device configuration", err, err_len);
    if (!vp->device)
        return -PV_EINVAL;
    vp->isr = caps->isr.present ? map_loc(a, &caps->isr, 1, "ISR", err, err_len) : NULL;
    vp->notify_mult = caps->notify_mult;
    vp->notify_len = caps->notify.length;
    vp->device_len = caps->device.length;
    /* Decoding on before the first access; INTx off: this driver polls. */
    pci_enable(a, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    return 0;
}

uint8_t virtio_pci_status(struct virtio_pci *vp)
{
    return mmio_r8(vp->common, VIRTIO_COMMON_STATUS);
}

static void add_status(struct virtio_pci *vp, uint8_t bits)
{
    mmio_w8(vp->common, VIRTIO_COMMON_STATUS, (uint8_t)(virtio_pci_status(vp) | bits));
}

void virtio_pci_fail(struct virtio_pci *vp) { add_status(vp, VIRTIO_STATUS_FAILED); }
void virtio_pci_driver_ok(struct virtio_pci *vp) { add_status(vp, VIRTIO_STATUS_DRIVER_OK); }

static uint64_t read_features(struct virtio_pci *vp)
{
    uint64_t f = 0;
    for (uint32_t w = 0; w < FEATURE_WORDS; w++) {
        mmio_w32(vp->common, VIRTIO_COMMON_DFSELECT, w);
        f |= (uint64_t)mmio_r32(vp->common, VIRTIO_COMMON_DF) << (w * WORD_BITS);
    }
    return f;
}

static void write_features(struct virtio_pci *vp, uint64_t f)
{
    for (uint32_t w = 0; w < FEATURE_WORDS; w++) {
        mmio_w32(vp->common, VIRTIO_COMMON_GFSELECT, w);
        mmio_w32(vp->common, VIRTIO_COMMON_GF, (uint32_t)(f >> (w * WORD_BITS)));
    }
}

int virtio_pci_start(struct virtio_pci *vp, uint64_t wanted, uint64_t *offered,
                     uint64_t *accepted, char *err, size_t err_len)
{
    /* Reset: the device may still run whatever the firmware's driver set up. */
    mmio_w8(vp->common, VIRTIO_COMMON_STATUS, 0);
    uint64_t deadline = clock_deadline(RESET_TIMEOUT_MS);
    while (virtio_pci_status(vp) != 0) {
        if (clock_passed(deadline)) {
            pv_snprintf(err, err_len, "%s: does not complete a reset (status 0x%x)", vp->name,
                        virtio_pci_status(vp));
            return -PV_EIO;
        }
        pause();
    }
    add_status(vp, VIRTIO_STATUS_ACKNOWLEDGE);
    add_status(vp, VIRTIO_STATUS_DRIVER);
    *offered = read_features(vp);
    if (virtio_features_select(*offered, wanted, accepted) < 0) {
        virtio_pci_fail(vp);
        pv_snprintf(err, err_len, "%s: no VIRTIO_F_VERSION_1 (legacy device); "
                    "use disable-legacy=on", vp->name);
        return -PV_EINVAL;
    }
    write_features(vp, *accepted);
    add_status(vp, VIRTIO_STATUS_FEATURES_OK);
    if (!(virtio_pci_status(vp) & VIRTIO_STATUS_FEATURES_OK)) {
        virtio_pci_fail(vp);
        pv_snprintf(err, err_len, "%s: device refused features 0x%llx (offered 0x%llx)",
                    vp->name, (unsigned long long)*accepted, (unsigned long long)*offered);
        return -PV_EIO;
    }
    /* Interrupts are not used: no configuration-change vector. */
    mmio_w16(vp->common, VIRTIO_COMMON_MSIX, VIRTIO_MSI_NO_VECTOR);
    return 0;
}

int virtio_pci_setup_queue(struct virtio_pci *vp, uint16_t index, uint16_t max_size,
                           struct virtio_queue *q, char *err, size_t err_len)
{
    if (index >= mmio_r16(vp->common, VIRTIO_COMMON_NUMQ)) {
        pv_snprintf(err, err_len, "%s: has no queue %u", vp->name, (unsigned)index);
        return -PV_EINVAL;
    }
    mmio_w16(vp->common, VIRTIO_COMMON_Q_SELECT, index);
    uint16_t size = mmio_r16(vp->common, VIRTIO_COMMON_Q_SIZE);
    if (!size || (size & (size - 1))) {
        pv_snprintf(err, err_len, "%s: queue %u has unusable size %u", vp->name,
                    (unsigned)index, (unsigned)size);
        return -PV_EINVAL;
    }
    while (size > max_size || size > VRING_MAX_SIZE)
        size /= 2;   /* powers of two: a smaller one is always allowed */
    void *mem = heap_alloc(vring_bytes(size), PAGE_SIZE, "virtqueue");
    if (!mem) {
        pv_snprintf(err, err_len, "%s: no memory for a %u-entry queue", vp->name,
                    (unsigned)size);
        return -PV_ENOMEM;
    }
    vring_init(&q->vr, mem, size);
    q->index = index;
    uint64_t ring = va_hpa(mem);
    mmio_w16(vp->common, VIRTIO_COMMON_Q_SIZE, size);
    mmio_w16(vp->common, VIRTIO_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
    mmio_w64(vp->common, VIRTIO_COMMON_Q_DESC, ring);
    mmio_w64(vp->common, VIRTIO_COMMON_Q_AVAIL, ring + vring_avail_offset(size));
    mmio_w64(vp->common, VIRTIO_COMMON_Q_USED, ring + vring_used_offset(size));
    uint64_t noff = (uint64_t)mmio_r16(vp->common, VIRTIO_COMMON_Q_NOFF) * vp->notify_mult;
    if (noff + sizeof(uint16_t) > vp->notify_len) {
        pv_snprintf(err, err_len, "%s: queue %u notify offset 0x%llx is outside the "
                    "notification structure", vp->name, (unsigned)index,
                    (unsigned long long)noff);
        return -PV_EINVAL;
    }
    q->notify = (volatile uint16_t *)(vp->notify + noff);
    mmio_w16(vp->common, VIRTIO_COMMON_Q_ENABLE, 1);
    return 0;
}

void virtio_queue_kick(struct virtio_queue *q) { *q->notify = q->index; }

uint32_t virtio_pci_dev_read32(struct virtio_pci *vp, uint32_t off)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < DEV_READ_TRIES; i++) {
        uint8_t gen = mmio_r8(vp->common, VIRTIO_COMMON_CFGGENERATION);
        v = mmio_r32(vp->device, off);
        if (mmio_r8(vp->common, VIRTIO_COMMON_CFGGENERATION) == gen)
            break;
    }
    return v;
}

uint64_t virtio_pci_dev_read64(struct virtio_pci *vp, uint32_t off)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < DEV_READ_TRIES; i++) {
        uint8_t gen = mmio_r8(vp->common, VIRTIO_COMMON_CFGGENERATION);
        v = mmio_r32(vp->device, off) |
            (uint64_t)mmio_r32(vp->device, off + sizeof(uint32_t)) << WORD_BITS;
        if (mmio_r8(vp->common, VIRTIO_COMMON_CFGGENERATION) == gen)
            break;
    }
    return v;
}

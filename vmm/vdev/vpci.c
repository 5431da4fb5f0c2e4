/* The guest disk's modern virtio-pci transport (see vpci.h). */
#include "vmm/vdev/vpci.h"

#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"

#include <string.h>

/* Configuration space layout (docs/guest-disk.md). */
#define CFG_VENDOR 0x00u
#define CFG_DEVICE 0x02u
#define CFG_COMMAND 0x04u
#define CFG_STATUS 0x06u
#define CFG_REVISION 0x08u
#define CFG_CLASS 0x0Bu
#define CFG_SUBCLASS 0x0Au
#define CFG_BAR0 0x10u
#define CFG_SUBVENDOR 0x2Cu
#define CFG_SUBSYSTEM 0x2Eu
#define CFG_CAP_PTR 0x34u
#define CFG_INT_LINE 0x3Cu
#define STATUS_CAP_LIST (1u << 4)
#define VIRTIO_VENDOR 0x1AF4u
#define VIRTIO_DEVICE_BLK 0x1042u  /* 0x1040 + device id 2 */
#define PV_SUBSYSTEM 0x5056u       /* "PV": pagevisor's emulated devices (the guest's
                                      isolation probe, tests/guest/probe.c, knows it) */
#define VIRTIO_REVISION 1u         /* modern-only devices have revision >= 1 */
#define CLASS_STORAGE 0x01u
#define SUBCLASS_SCSI 0x00u
#define BAR_MASK (~(VPCI_BAR_SIZE - 1u))
#define CAP_ID_MSIX 0x11u
#define CAP_ID_VNDR 0x09u
#define CAP_MSIX 0x40u             /* id, next, control, table, pba */
#define CAP_COMMON 0x4Cu
#define CAP_NOTIFY 0x5Cu
#define CAP_ISR 0x70u
#define CAP_DEVCFG 0x80u
#define CAP_PCICFG 0x90u
#define VCAP_LEN 16u
#define VCAP_NOTIFY_LEN 20u
#define VCAP_TYPE_COMMON 1u
#define VCAP_TYPE_NOTIFY 2u
#define VCAP_TYPE_ISR 3u
#define VCAP_TYPE_DEVICE 4u
#define VCAP_TYPE_PCI 5u
#define VCAP_BAR 4u                /* offsets inside a vendor capability */
#define VCAP_OFFSET 8u
#define VCAP_LENGTH 12u
#define VCAP_MULT 16u
#define PCICFG_DATA (CAP_PCICFG + VCAP_LEN)
#define MSIX_CTRL (CAP_MSIX + 2u)
#define ISR_LEN 4u
#define NOTIFY_LEN (VPCI_NQ * VPCI_NOTIFY_MULT)
#define BROKEN_WARN_MAX 16u
#define MAX_NOTIFY_CHAINS (2u * VQ_MAX_SIZE) /* per notification; the rest next time */

static void put8(uint8_t *p, unsigned off, uint8_t v) { p[off] = v; }
static void put16(uint8_t *p, unsigned off, uint16_t v) { memcpy(p + off, &v, 2); }
static void put32(uint8_t *p, unsigned off, uint32_t v) { memcpy(p + off, &v, 4); }

static uint64_t get_bytes(const uint8_t *p, size_t plen, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        if (off + i < plen)
            v |= (uint64_t)p[off + i] << (8 * i);
    return v;
}

static void vcap(uint8_t *c, unsigned at, unsigned next, unsigned len, unsigned type,
                 uint32_t offset, uint32_t length)
{
    put8(c, at, CAP_ID_VNDR);
    put8(c, at + 1, (uint8_t)next);
    put8(c, at + 2, (uint8_t)len);
    put8(c, at + 3, (uint8_t)type);
    put8(c, at + VCAP_BAR, 0);
    put32(c, at + VCAP_OFFSET, offset);
    put32(c, at + VCAP_LENGTH, length);
}

static void build_cfg(uint8_t *c)
{
    memset(c, 0, VPCI_CFG_SIZE);
    put16(c, CFG_VENDOR, VIRTIO_VENDOR);
    put16(c, CFG_DEVICE, VIRTIO_DEVICE_BLK);
    put16(c, CFG_STATUS, STATUS_CAP_LIST);
    put8(c, CFG_REVISION, VIRTIO_REVISION);
    put8(c, CFG_SUBCLASS, SUBCLASS_SCSI);
    put8(c, CFG_CLASS, CLASS_STORAGE);
    put16(c, CFG_SUBVENDOR, VIRTIO_VENDOR);
    put16(c, CFG_SUBSYSTEM, PV_SUBSYSTEM);
    put8(c, CFG_CAP_PTR, CAP_MSIX);
    put8(c, CFG_INT_LINE, VPCI_INT_LINE_UNKNOWN); /* pin 0 until vpci_set_intx */
    put8(c, CAP_MSIX, CAP_ID_MSIX);
    put8(c, CAP_MSIX + 1, CAP_COMMON);
    put32(c, CAP_MSIX + 4, VPCI_MSIX_TABLE); /* BIR 0 */
    put32(c, CAP_MSIX + 8, VPCI_MSIX_PBA);
    vcap(c, CAP_COMMON, CAP_NOTIFY, VCAP_LEN, VCAP_TYPE_COMMON, VPCI_COMMON, VPCI_C_LEN);
    vcap(c, CAP_NOTIFY, CAP_ISR, VCAP_NOTIFY_LEN, VCAP_TYPE_NOTIFY, VPCI_NOTIFY, NOTIFY_LEN);
    put32(c, CAP_NOTIFY + VCAP_MULT, VPCI_NOTIFY_MULT);
    vcap(c, CAP_ISR, CAP_DEVCFG, VCAP_LEN, VCAP_TYPE_ISR, VPCI_ISR, ISR_LEN);
    vcap(c, CAP_DEVCFG, CAP_PCICFG, VCAP_LEN, VCAP_TYPE_DEVICE, VPCI_DEVICE, VBLK_CFG_LEN);
    vcap(c, CAP_PCICFG, 0, VCAP_LEN + 4, VCAP_TYPE_PCI, 0, 0);
}

/* ---- interrupts ---------------------------------------------------------------- */

static bool msix_on(const struct vpci *v)
{
    return (v->msix_ctrl & VPCI_MSIX_ENABLE) && !(v->msix_ctrl & VPCI_MSIX_MASKALL);
}

static void deliver(struct vpci *v, unsigned vec)
{
    const struct vpci_msix_entry *e = &v->msix[vec];
    v->pending &= ~(1ull << vec);
    v->interrupts++;
    v->msi(v->msi_ctx, ((uint64_t)e->addr_hi << 32) | e->addr_lo, e->data);
}

static bool intx_wanted(const struct vpci *v)
{
    return v->intx && v->isr && !(v->msix_ctrl & VPCI_MSIX_ENABLE) &&
           !(v->command & VPCI_CMD_INTX_OFF);
}

/* Tell the line its level: on every change, and again while it holds (see vpci.h). */
static void intx_update(struct vpci *v)
{
    bool level = intx_wanted(v);
    if (!level && !v->intx_asserted)
        return;
    if (level && !v->intx_asserted)
        v->interrupts++;
    v->intx_asserted = level;
    v->intx(v->intx_ctx, level);
}

static void raise(struct vpci *v, uint16_t vec, uint8_t isr_bit)
{
    v->isr |= isr_bit;
    if (!(v->msix_ctrl & VPCI_MSIX_ENABLE)) {
        intx_update(v); /* without a pin, the driver polls ISR or has no interrupt */
        return;
    }
    if (vec >= VPCI_NVEC)
        return; /* MSI-X on, NO_VECTOR: no interrupt for this source */
    if (!msix_on(v) || (v->msix[vec].ctrl & VPCI_MSIX_VEC_MASKED)) {
        v->pending |= 1ull << vec;
        return;
    }
    deliver(v, vec);
}

/* Deliver what a mask hid once it is lifted. */
static void flush_pending(struct vpci *v)
{
    if (!msix_on(v))
        return;
    for (unsigned i = 0; i < VPCI_NVEC; i++)
        if ((v->pending & (1ull << i)) && !(v->msix[i].ctrl & VPCI_MSIX_VEC_MASKED))
            deliver(v, i);
}

static void needs_reset(struct vpci *v, const char *why)
{
    /* A guest that breaks its device in a loop gets counted, not logged. */
    if (v->broken < BROKEN_WARN_MAX)
        pv_warn("%s: %s; device needs reset", v->name, why);
    else if (v->broken == BROKEN_WARN_MAX)
        pv_warn("%s: %s; device needs reset (further occurrences only counted)", v->name, why);
    v->broken++;
    v->status |= VPCI_S_NEEDS_RESET;
    raise(v, v->msix_config, VPCI_ISR_CONFIG);
}

/* ---- device reset and queues ---------------------------------------------------- */

static void device_reset(struct vpci *v)
{
    v->resets++;
    v->status = 0;
    v->isr = 0;
    v->dfselect = v->gfselect = 0;
    v->driver_features = 0;
    v->qselect = 0;
    v->msix_config = VPCI_NO_VECTOR;
    for (unsigned i = 0; i < VPCI_NQ; i++)
        vq_reset(&v->q[i], (uint16_t)i);
}

void vpci_notify(struct vpci *v, unsigned qi)
{
    v->notifies++;
    if (qi >= VPCI_NQ || !(v->status & VPCI_S_DRIVER_OK) || (v->status & VPCI_S_NEEDS_RESET))
        return;
    struct vq *q = &v->q[qi];
    if (!q->enabled)
        return;
    static struct vq_chain chain; /* one vCPU: one request at a time */
    char err[VQ_ERR_LEN + 64];
    unsigned served = 0;
    for (unsigned n = 0; n < MAX_NOTIFY_CHAINS; n++) {
        int rc = vq_pop(v->mm, q, &chain, err, sizeof(err));
        if (rc == VQ_EMPTY)
            break;
        uint32_t written = 0;
        if (rc == 0) {
            char why[VQ_ERR_LEN];
            rc = vblk_serve(v->blk, v->mm, &chain, &written, why, sizeof(why));
            if (rc < 0)
                pv_snprintf(err, sizeof(err), "queue %u: %s", qi, why);
        }
        if (rc == 0)
            rc = vq_push(v->mm, q, chain.head, written, err, sizeof(err));
        if (rc < 0) {
            q->errors++;
            needs_reset(v, err);
            break;
        }
        served++;
    }
    if (served && !vq_no_interrupt(v->mm, q))
        raise(v, q->msix_vector, VPCI_ISR_QUEUE);
}

/* ---- common configuration -------------------------------------------------------- */

static struct vq *selected(struct vpci *v)
{
    return v->qselect < VPCI_NQ ? &v->q[v->qselect] : NULL;
}

static void common_snapshot(struct vpci *v, uint8_t *c)
{
    uint64_t df = vblk_features(v->blk);
    struct vq *q = selected(v);
    memset(c, 0, VPCI_C_LEN);
    put32(c, VPCI_C_DFSELECT, v->dfselect);
    put32(c, VPCI_C_DF, v->dfselect == 0 ? (uint32_t)df : v->dfselect == 1 ? (uint32_t)(df >> 32) : 0);
    put32(c, VPCI_C_GFSELECT, v->gfselect);
    put32(c, VPCI_C_GF, v->gfselect == 0 ? (uint32_t)v->driver_features
                        : v->gfselect == 1 ? (uint32_t)(v->driver_features >> 32) : 0);
    put16(c, VPCI_C_MSIX, v->msix_config);
    put16(c, VPCI_C_NUMQ, VPCI_NQ);
    put8(c, VPCI_C_STATUS, v->status);
    put8(c, VPCI_C_GENERATION, 0); /* the configuration never changes */
    put16(c, VPCI_C_Q_SELECT, v->qselect);
    if (!q)
        return; /* size 0: no such queue */
    put16(c, VPCI_C_Q_SIZE, q->size);
    put16(c, VPCI_C_Q_MSIX, q->msix_vector);
    put16(c, VPCI_C_Q_ENABLE, q->enabled);
    put16(c, VPCI_C_Q_NOFF, q->index);
    memcpy(c + VPCI_C_Q_DESC, &q->desc, 8);
    memcpy(c + VPCI_C_Q_DRIVER, &q->avail, 8);
    memcpy(c + VPCI_C_Q_DEVICE, &q->used, 8);
}

static void set_status(struct vpci *v, uint8_t s)
{
    if (s == 0) {
        device_reset(v);
        intx_update(v);
        return;
    }
    if ((s & VPCI_S_FEATURES_OK) && !(v->status & VPCI_S_FEATURES_OK)) {
        uint64_t offered = vblk_features(v->blk);
        if ((v->driver_features & ~offered) || !(v->driver_features & VDEV_F_VERSION_1)) {
            pv_warn("%s: driver features 0x%llx refused (offered 0x%llx%s)", v->name,
                    (unsigned long long)v->driver_features, (unsigned long long)offered,
                    (v->driver_features & VDEV_F_VERSION_1) ? "" : "; VERSION_1 is required");
            s &= (uint8_t)~VPCI_S_FEATURES_OK;
        }
    }
    v->status = (uint8_t)(s | (v->status & VPCI_S_NEEDS_RESET));
}

static void enable_queue(struct vpci *v, struct vq *q)
{
    char err[VQ_ERR_LEN];
    if (vq_check_rings(v->mm, q, err, sizeof(err)) < 0) {
        needs_reset(v, err);
        return;
    }
    q->enabled = true;
}

static uint16_t vector_or_none(uint16_t vec)
{
    return vec < VPCI_NVEC ? vec : VPCI_NO_VECTOR;
}

/* The field holding off and its width; 0 when none. */
static unsigned field_at(uint64_t off, uint64_t *base)
{
    static const struct { uint8_t off, width; } fields[] = {
        { VPCI_C_DFSELECT, 4 }, { VPCI_C_DF, 4 }, { VPCI_C_GFSELECT, 4 }, { VPCI_C_GF, 4 },
        { VPCI_C_MSIX, 2 }, { VPCI_C_NUMQ, 2 }, { VPCI_C_STATUS, 1 }, { VPCI_C_GENERATION, 1 },
        { VPCI_C_Q_SELECT, 2 }, { VPCI_C_Q_SIZE, 2 }, { VPCI_C_Q_MSIX, 2 },
        { VPCI_C_Q_ENABLE, 2 }, { VPCI_C_Q_NOFF, 2 }, { VPCI_C_Q_DESC, 8 },
        { VPCI_C_Q_DRIVER, 8 }, { VPCI_C_Q_DEVICE, 8 },
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (off >= fields[i].off && off < (uint64_t)fields[i].off + fields[i].width) {
            *base = fields[i].off;
            return fields[i].width;
        }
    return 0;
}

static void common_write(struct vpci *v, uint64_t off, unsigned size, uint64_t value)
{
    uint64_t base;
    unsigned width = field_at(off, &base);
    if (!width || off + size > base + width)
        return; /* spans fields or hits none: ignored */
    /* Merge a partial write (a 64-bit address written as two halves). */
    uint8_t snap[VPCI_C_LEN];
    common_snapshot(v, snap);
    for (unsigned i = 0; i < size; i++)
        snap[off + i] = (uint8_t)(value >> (8 * i));
    uint64_t val = get_bytes(snap, sizeof(snap), base, width);
    struct vq *q = selected(v);
    bool live = q && q->enabled;
    switch (base) {
    case VPCI_C_DFSELECT: v->dfselect = (uint32_t)val; break;
    case VPCI_C_GFSELECT: v->gfselect = (uint32_t)val; break;
    case VPCI_C_GF:
        if (v->status & VPCI_S_FEATURES_OK)
            break;
        if (v->gfselect == 0)
            v->driver_features = (v->driver_features & ~0xFFFFFFFFull) | (uint32_t)val;
        else if (v->gfselect == 1)
            v->driver_features = (v->driver_features & 0xFFFFFFFFull) | (val << 32);
        break;
    case VPCI_C_MSIX: v->msix_config = vector_or_none((uint16_t)val); break;
    case VPCI_C_STATUS: set_status(v, (uint8_t)val); break;
    case VPCI_C_Q_SELECT: v->qselect = (uint16_t)val; break;
    case VPCI_C_Q_SIZE:
        if (q && !live && val >= 1 && val <= VQ_MAX_SIZE)
            q->size = (uint16_t)val;
        break;
    case VPCI_C_Q_MSIX:
        if (q)
            q->msix_vector = vector_or_none((uint16_t)val);
        break;
    case VPCI_C_Q_ENABLE:
        if (q && !live && val == 1)
            enable_queue(v, q);
        break;
    case VPCI_C_Q_DESC: if (q && !live) q->desc = val; break;
    case VPCI_C_Q_DRIVER: if (q && !live) q->avail = val; break;
    case VPCI_C_Q_DEVICE: if (q && !live) q->used = val; break;
    default: break; /* read-only */
    }
}

/* ---- BAR0 ------------------------------------------------------------------------ */

static uint64_t bar_read(struct vpci *v, uint64_t off, unsigned size)
{
    if (off < VPCI_COMMON + VPCI_C_LEN) {
        uint8_t snap[VPCI_C_LEN];
        common_snapshot(v, snap);
        return get_bytes(snap, sizeof(snap), off - VPCI_COMMON, size);
    }
    if (off >= VPCI_ISR && off < VPCI_ISR + ISR_LEN) {
        uint8_t isr = v->isr; /* reading ISR acknowledges it */
        v->isr = 0;
        return off == VPCI_ISR ? isr : 0;
    }
    if (off >= VPCI_DEVICE && off < VPCI_DEVICE + VBLK_CFG_LEN)
        return vblk_config_read(v->blk, (uint32_t)(off - VPCI_DEVICE), size);
    if (off >= VPCI_MSIX_TABLE && off < VPCI_MSIX_TABLE + VPCI_NVEC * VPCI_MSIX_ENTRY)
        return get_bytes((const uint8_t *)v->msix, sizeof(v->msix), off - VPCI_MSIX_TABLE, size);
    if (off >= VPCI_MSIX_PBA && off < VPCI_MSIX_PBA + 8)
        return get_bytes((const uint8_t *)&v->pending, 8, off - VPCI_MSIX_PBA, size);
    return 0;
}

uint64_t vpci_bar_read(struct vpci *v, uint64_t off, unsigned size)
{
    uint64_t value = bar_read(v, off, size);
    intx_update(v); /* an ISR read deasserts */
    return value;
}

static void bar_write(struct vpci *v, uint64_t off, unsigned size, uint64_t value)
{
    if (off < VPCI_COMMON + VPCI_C_LEN) {
        common_write(v, off - VPCI_COMMON, size, value);
    } else if (off >= VPCI_NOTIFY && off < VPCI_NOTIFY + NOTIFY_LEN) {
        vpci_notify(v, (unsigned)((off - VPCI_NOTIFY) / VPCI_NOTIFY_MULT));
    } else if (off >= VPCI_MSIX_TABLE && off < VPCI_MSIX_TABLE + VPCI_NVEC * VPCI_MSIX_ENTRY) {
        uint8_t *t = (uint8_t *)v->msix;
        for (unsigned i = 0; i < size && off - VPCI_MSIX_TABLE + i < sizeof(v->msix); i++)
            t[off - VPCI_MSIX_TABLE + i] = (uint8_t)(value >> (8 * i));
        flush_pending(v);
    }
    /* ISR, device configuration (read-only for blk), PBA, holes: ignored */
}

void vpci_bar_write(struct vpci *v, uint64_t off, unsigned size, uint64_t value)
{
    bar_write(v, off, size, value);
    intx_update(v);
}

static uint64_t mmio_read(void *ctx, uint64_t off, unsigned size)
{
    return vpci_bar_read(ctx, off, size);
}

static void mmio_write(void *ctx, uint64_t off, unsigned size, uint64_t value)
{
    vpci_bar_write(ctx, off, size, value);
}

/* Map BAR0 where the guest put it while memory decoding is on. */
static void remap(struct vpci *v)
{
    gpa_t want = (v->command & VPCI_CMD_MEM) && v->bar0 != BAR_MASK ? v->bar0 : 0;
    if (want == v->mapped)
        return;
    if (v->mapped)
        mm_remove_range(v->mm, v->mapped, v->mapped + VPCI_BAR_SIZE);
    v->mapped = 0;
    if (!want)
        return;
    if (region_find_intersection(&v->mm->regions, want, want + VPCI_BAR_SIZE) ||
        mm_add_mmio(v->mm, want, want + VPCI_BAR_SIZE, VDEV_MMIO_DEV, &v->mmio, v->name) < 0) {
        pv_warn("%s: BAR0 at gpa 0x%llx overlaps guest memory: not mapped", v->name,
                (unsigned long long)want);
        return;
    }
    v->mapped = want;
}

/* ---- configuration space ----------------------------------------------------------- */

static uint32_t cfg_dword(struct vpci *v, uint16_t reg)
{
    uint8_t live[4];
    memcpy(live, v->cfg + reg, 4);
    switch (reg) {
    case CFG_COMMAND:
        put16(live, 0, v->command);
        if (v->intx_asserted)
            put16(live, 2, (uint16_t)(STATUS_CAP_LIST | VPCI_STATUS_INTX));
        break;
    case CFG_INT_LINE:
        live[0] = v->int_line;
        live[1] = v->intx ? VPCI_PIN_INTA : 0;
        break;
    case CFG_BAR0:
        put32(live, 0, v->bar0);
        break;
    case CAP_MSIX:
        put16(live, 2, v->msix_ctrl | (VPCI_NVEC - 1));
        break;
    case CAP_PCICFG + VCAP_BAR:
        live[0] = v->cfgcap_bar;
        break;
    case CAP_PCICFG + VCAP_OFFSET:
        put32(live, 0, v->cfgcap_bar_off);
        break;
    case CAP_PCICFG + VCAP_LENGTH:
        put32(live, 0, v->cfgcap_len);
        break;
    case PCICFG_DATA: {
        unsigned len = v->cfgcap_len;
        uint32_t d = v->cfgcap_bar == 0 && (len == 1 || len == 2 || len == 4)
                         ? (uint32_t)vpci_bar_read(v, v->cfgcap_bar_off, len) : 0;
        put32(live, 0, d);
        break;
    }
    default:
        break;
    }
    uint32_t d;
    memcpy(&d, live, 4);
    return d;
}

uint32_t vpci_cfg_read(struct vpci *v, uint16_t reg, unsigned size)
{
    if (reg >= VPCI_CFG_SIZE || (reg & 3) + size > 4)
        return UINT32_MAX;
    uint32_t d = cfg_dword(v, reg & (uint16_t)~3u);
    d >>= 8 * (reg & 3);
    return size == 4 ? d : d & ((1u << (8 * size)) - 1);
}

void vpci_cfg_write(struct vpci *v, uint16_t reg, unsigned size, uint32_t value)
{
    if (reg >= VPCI_CFG_SIZE || (reg & 3) + size > 4)
        return;
    uint16_t dw = reg & (uint16_t)~3u;
    /* PCICFG_DATA is not read back: that would be a BAR read, and ISR's is destructive. */
    uint32_t old = dw == PCICFG_DATA ? 0 : cfg_dword(v, dw);
    uint32_t mask = size == 4 ? UINT32_MAX : ((1u << (8 * size)) - 1) << (8 * (reg & 3));
    uint32_t d = (old & ~mask) | ((value << (8 * (reg & 3))) & mask);
    switch (dw) {
    case CFG_COMMAND:
        v->command = (uint16_t)(d & (VPCI_CMD_MEM | VPCI_CMD_MASTER | VPCI_CMD_INTX_OFF));
        remap(v);
        intx_update(v);
        break;
    case CFG_INT_LINE:
        v->int_line = (uint8_t)d; /* a scratch byte for the OS; the pin is read-only */
        break;
    case CFG_BAR0:
        v->bar0 = d & BAR_MASK;
        remap(v);
        break;
    case CAP_MSIX:
        v->msix_ctrl = (uint16_t)((d >> 16) & (VPCI_MSIX_ENABLE | VPCI_MSIX_MASKALL));
        flush_pending(v);
        intx_update(v);
        break;
    case CAP_PCICFG + VCAP_BAR:
        v->cfgcap_bar = (uint8_t)d;
        break;
    case CAP_PCICFG + VCAP_OFFSET:
        v->cfgcap_bar_off = d;
        break;
    case CAP_PCICFG + VCAP_LENGTH:
        v->cfgcap_len = d;
        break;
    case PCICFG_DATA:
        if (v->cfgcap_bar == 0 && (v->cfgcap_len == 1 || v->cfgcap_len == 2 ||
                                   v->cfgcap_len == 4))
            vpci_bar_write(v, v->cfgcap_bar_off, v->cfgcap_len, d);
        break;
    default:
        break; /* read-only */
    }
}

int vpci_init(struct vpci *v, struct guest_mm *mm, struct vblk *blk, uint8_t bus, uint8_t dev,
              uint8_t fn, uint32_t bar, vpci_msi_fn msi, void *msi_ctx)
{
    memset(v, 0, sizeof(*v));
    if (bar == 0 || bar & ~BAR_MASK)
        return -PV_EINVAL;
    v->mm = mm;
    v->blk = blk;
    v->msi = msi;
    v->msi_ctx = msi_ctx;
    v->mmio = (struct mmio_dev){ mmio_read, mmio_write, v };
    pv_snprintf(v->name, sizeof(v->name), "vdisk %02x:%02x.%x", bus, dev, fn);
    build_cfg(v->cfg);
    for (unsigned i = 0; i < VPCI_NVEC; i++)
        v->msix[i].ctrl = VPCI_MSIX_VEC_MASKED;
    device_reset(v);
    v->int_line = VPCI_INT_LINE_UNKNOWN;
    v->resets = 0;
    v->bar0 = bar;
    v->command = VPCI_CMD_MEM;
    remap(v);
    return v->mapped ? 0 : -PV_EEXIST;
}

void vpci_set_intx(struct vpci *v, vpci_intx_fn intx, void *ctx, uint8_t int_line)
{
    v->intx = intx;
    v->intx_ctx = ctx;
    v->int_line = int_line;
}

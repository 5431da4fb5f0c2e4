/*
 * Test fixture for the guest disk's device model (vmm/vdev/): a guest_mm
 * with swap over a host frame pool (test_swap_env.h), a file-backed disk
 * (blk_file.c), the device with BAR0 at VDISK_BAR, and a minimal driver
 * that does what Linux's virtio-pci driver does through BAR0 and the
 * configuration space, building rings in guest RAM with mm_write.
 * Include after <cmocka.h>.
 */
#ifndef PV_TESTS_UNIT_VDISK_ENV_H
#define PV_TESTS_UNIT_VDISK_ENV_H

#include "tests/unit/test_swap_env.h"
#include "vmm/vdev/vpci.h"

#define VD_MiB (1ull << 20)
#define VD_RAM (1 * VD_MiB)
#define VD_RAM_END (9 * VD_MiB)
#define VDISK_BAR 0xFEB00000u
#define VD_DISK_BYTES (1 * VD_MiB)
#define VD_QSIZE 8u
#define VD_DESC (VD_RAM)                 /* rings in the first RAM pages */
#define VD_AVAIL (VD_RAM + 0x1000)
#define VD_USED (VD_RAM + 0x2000)
#define VD_HDR (VD_RAM + 0x3000)         /* request headers, 16 bytes each */
#define VD_STATUS (VD_RAM + 0x3800)      /* status bytes */
#define VD_INDIRECT (VD_RAM + 0x4000)
#define VD_DATA (VD_RAM + 0x10000)       /* data buffers from here */
#define VD_MSI_ADDR 0xFEE00000u
#define VD_MSI_DATA 0x41u
#define VD_SWAP_PAGES 512u

struct vdisk_env {
    struct swap_env *s;
    struct guest_mm *mm;
    uint8_t *disk;
    struct blk_file blk;
    uint8_t bounce[VBLK_BOUNCE];
    struct vblk vb;
    struct vpci v;
    unsigned msis;
    uint64_t last_addr;
    uint32_t last_data;
    uint16_t avail_idx, used_seen;
};

static inline void vdisk_msi(void *ctx, uint64_t addr, uint32_t data)
{
    struct vdisk_env *e = ctx;
    e->msis++;
    e->last_addr = addr;
    e->last_data = data;
}

static inline struct vdisk_env *vdisk_env_new(const struct s2pt_format *fmt, bool ro)
{
    struct vdisk_env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->s = swap_env_new(fmt, true, MM_ENV_ARENA, VD_SWAP_PAGES, NULL, 0, RA_OFF, 1);
    e->mm = &e->s->m->mm;
    e->mm->huge_anon = false;
    assert_int_equal(mm_add_anon(e->mm, VD_RAM, VD_RAM_END, "ram"), 0);
    e->disk = malloc(VD_DISK_BYTES);
    assert_non_null(e->disk);
    for (size_t i = 0; i < VD_DISK_BYTES; i++)
        e->disk[i] = (uint8_t)(i * 7 + i / 512);
    assert_int_equal(blk_file_init(&e->blk, e->disk, VD_DISK_BYTES, BLK_FILE_SECTOR, "file"), 0);
    assert_int_equal(vblk_init(&e->vb, &e->blk.dev, ro, 512, "vd-serial", e->bounce), 0);
    assert_int_equal(vpci_init(&e->v, e->mm, &e->vb, 0, 0x10, 0, VDISK_BAR, vdisk_msi, e), 0);
    return e;
}

static inline void vdisk_env_free(struct vdisk_env *e)
{
    swap_env_free(e->s); /* checks mm and that every frame came back */
    free(e->disk);
    free(e);
}

static inline uint64_t vd_rd(struct vdisk_env *e, uint64_t off, unsigned size)
{
    return vpci_bar_read(&e->v, off, size);
}

static inline void vd_wr(struct vdisk_env *e, uint64_t off, unsigned size, uint64_t v)
{
    vpci_bar_write(&e->v, off, size, v);
}

static inline uint8_t vd_status(struct vdisk_env *e)
{
    return (uint8_t)vd_rd(e, VPCI_COMMON + VPCI_C_STATUS, 1);
}

/* Negotiate `want` (features the driver accepts); true when FEATURES_OK stuck. */
static inline bool vd_negotiate(struct vdisk_env *e, uint64_t want)
{
    vd_wr(e, VPCI_C_STATUS, 1, 0);
    vd_wr(e, VPCI_C_STATUS, 1, VPCI_S_ACKNOWLEDGE | VPCI_S_DRIVER);
    vd_wr(e, VPCI_C_GFSELECT, 4, 0);
    vd_wr(e, VPCI_C_GF, 4, (uint32_t)want);
    vd_wr(e, VPCI_C_GFSELECT, 4, 1);
    vd_wr(e, VPCI_C_GF, 4, (uint32_t)(want >> 32));
    vd_wr(e, VPCI_C_STATUS, 1, VPCI_S_ACKNOWLEDGE | VPCI_S_DRIVER | VPCI_S_FEATURES_OK);
    return vd_status(e) & VPCI_S_FEATURES_OK;
}

static inline uint64_t vd_offered(struct vdisk_env *e)
{
    vd_wr(e, VPCI_C_DFSELECT, 4, 0);
    uint64_t lo = vd_rd(e, VPCI_C_DF, 4);
    vd_wr(e, VPCI_C_DFSELECT, 4, 1);
    return lo | vd_rd(e, VPCI_C_DF, 4) << 32;
}

/* What the Linux driver does: negotiate, MSI-X on, queue 0, DRIVER_OK. */
static inline void vd_setup(struct vdisk_env *e)
{
    assert_true(vd_negotiate(e, vd_offered(e)));
    vpci_cfg_write(&e->v, 0x42, 2, VPCI_MSIX_ENABLE);
    vd_wr(e, VPCI_MSIX_TABLE + VPCI_MSIX_ENTRY + 0, 4, VD_MSI_ADDR);
    vd_wr(e, VPCI_MSIX_TABLE + VPCI_MSIX_ENTRY + 4, 4, 0);
    vd_wr(e, VPCI_MSIX_TABLE + VPCI_MSIX_ENTRY + 8, 4, VD_MSI_DATA);
    vd_wr(e, VPCI_MSIX_TABLE + VPCI_MSIX_ENTRY + 12, 4, 0);
    vd_wr(e, VPCI_C_MSIX, 2, 0);
    vd_wr(e, VPCI_C_Q_SELECT, 2, 0);
    vd_wr(e, VPCI_C_Q_SIZE, 2, VD_QSIZE);
    vd_wr(e, VPCI_C_Q_MSIX, 2, 1);
    assert_int_equal(vd_rd(e, VPCI_C_Q_MSIX, 2), 1);
    /* 64-bit addresses as two halves, as Linux's vp_iowrite64_twopart does */
    vd_wr(e, VPCI_C_Q_DESC, 4, (uint32_t)VD_DESC);
    vd_wr(e, VPCI_C_Q_DESC + 4, 4, 0);
    vd_wr(e, VPCI_C_Q_DRIVER, 8, VD_AVAIL);
    vd_wr(e, VPCI_C_Q_DEVICE, 8, VD_USED);
    vd_wr(e, VPCI_C_Q_ENABLE, 2, 1);
    assert_int_equal(vd_rd(e, VPCI_C_Q_ENABLE, 2), 1);
    vd_wr(e, VPCI_C_STATUS, 1, vd_status(e) | VPCI_S_DRIVER_OK);
    e->avail_idx = e->used_seen = 0;
}

struct vd_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

/* Write descriptors at table index first.. and publish head first; notify. */
static inline void vd_submit(struct vdisk_env *e, gpa_t table, uint16_t first,
                             const struct vd_desc *d, unsigned n, uint16_t head)
{
    assert_int_equal(mm_write(e->mm, table + first * 16u, d, n * sizeof(*d)), 0);
    gpa_t slot = VD_AVAIL + 4 + 2u * (e->avail_idx % VD_QSIZE);
    assert_int_equal(mm_write(e->mm, slot, &head, 2), 0);
    e->avail_idx++;
    assert_int_equal(mm_write(e->mm, VD_AVAIL + 2, &e->avail_idx, 2), 0);
    vd_wr(e, VPCI_NOTIFY, 2, 0);
}

/* A 3-descriptor request at table slots 0..2: header, data, status. */
static inline void vd_request(struct vdisk_env *e, uint32_t type, uint64_t sector, gpa_t data,
                              uint32_t len)
{
    struct { uint32_t type, reserved; uint64_t sector; } hdr = { type, 0, sector };
    assert_int_equal(mm_write(e->mm, VD_HDR, &hdr, sizeof(hdr)), 0);
    uint8_t ff = 0xFF;
    assert_int_equal(mm_write(e->mm, VD_STATUS, &ff, 1), 0);
    struct vd_desc d[3] = {
        { VD_HDR, 16, 0x1, 1 },
        { data, len, (uint16_t)(0x1 | (type == VBLK_T_IN || type == VBLK_T_GET_ID ? 0x2 : 0)), 2 },
        { VD_STATUS, 1, 0x2, 0 },
    };
    vd_submit(e, VD_DESC, 0, d, 3, 0);
}

static inline uint8_t vd_req_status(struct vdisk_env *e)
{
    uint8_t s;
    assert_int_equal(mm_read(e->mm, VD_STATUS, &s, 1), 0);
    return s;
}

/* The used ring's idx and element i. */
static inline uint16_t vd_used_idx(struct vdisk_env *e)
{
    uint16_t idx;
    assert_int_equal(mm_read(e->mm, VD_USED + 2, &idx, 2), 0);
    return idx;
}

static inline void vd_used_elem(struct vdisk_env *e, uint16_t i, uint32_t *id, uint32_t *len)
{
    uint32_t el[2];
    assert_int_equal(mm_read(e->mm, VD_USED + 4 + 8u * (i % VD_QSIZE), el, 8), 0);
    *id = el[0];
    *len = el[1];
}

#endif

/*
 * libFuzzer target for the guest disk's device model (vmm/vdev/): the input
 * is a guest driver gone wrong. It fills the descriptor table, the driver
 * ring and a page of indirect tables with arbitrary bytes, picks the queue
 * size and ring addresses, pokes BAR0 and the configuration space, and
 * notifies the queue, several rounds per input, while some guest pages are
 * absent, zero-mapped or copy-on-write shared. Checked after every input:
 * no crash or out-of-bounds host access (ASan), the guest memory object is
 * consistent (mm_check: every mapping inside a RAM region), no page is left
 * pinned, no frame is leaked (the pool is back to where it started after
 * mm_destroy), and the disk beyond the device's capacity is untouched.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ept/mm.h"
#include "tests/unit/blk_file.h"
#include "vmm/vdev/vpci.h"

#define RAM_START 0x100000ull
#define RAM_END 0x140000ull           /* 256 KiB of guest RAM */
#define ROM_START 0x140000ull
#define ROM_END 0x141000ull
#define BAR 0xFEB00000u
#define DISK_BYTES (64u * 1024u)
#define GUARD 4096u                   /* bytes after the disk that must stay put */
#define ARENA (8u << 20)
#define REGIONS 16
#define ROUNDS 6
#define FAIL(...) do { fprintf(stderr, "fuzz_vdisk: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

struct in {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct in *in, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v = (v << 8) | (in->n ? *in->p : 0);
        if (in->n) {
            in->p++;
            in->n--;
        }
    }
    return v;
}

static void inv(struct s2pt *pt, enum s2_inv_scope s, gpa_t g, uint64_t n, void *ctx)
{
    (void)pt; (void)s; (void)g; (void)n; (void)ctx;
}

static void msi(void *ctx, uint64_t addr, uint32_t data)
{
    (void)ctx; (void)addr; (void)data;
}

/* INTx: only a held line is deasserted, and never asserted with MSI-X on
 * or with nothing in ISR. */
static bool intx_now;

static void intx(void *ctx, bool level)
{
    const struct vpci *v = ctx;
    if ((!level && !intx_now) || (level && ((v->msix_ctrl & VPCI_MSIX_ENABLE) || !v->isr)))
        abort();
    intx_now = level;
}

/* A guest address the input chooses: mostly inside RAM, sometimes anywhere. */
static gpa_t addr(struct in *in)
{
    uint8_t how = (uint8_t)take(in, 1);
    if (how < 200)
        return RAM_START + take(in, 3) % (RAM_END - RAM_START);
    if (how < 230)
        return ROM_START + take(in, 2) % (ROM_END - ROM_START);
    return take(in, 8);
}

static void fill(struct guest_mm *mm, struct in *in, gpa_t at, size_t len)
{
    uint8_t buf[512];
    while (len) {
        size_t k = len < sizeof(buf) ? len : sizeof(buf);
        for (size_t i = 0; i < k; i++)
            buf[i] = (uint8_t)take(in, 1);
        if (mm_write(mm, at, buf, k) < 0)
            return;
        at += k;
        len -= k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void *arena;
    static uint8_t *disk, bounce[VBLK_BOUNCE];
    static struct region regions[REGIONS];
    static uint8_t rom[4096] __attribute__((aligned(4096)));
    if (!arena) {
        arena = aligned_alloc(HUGE_2M, ARENA);
        disk = malloc(DISK_BYTES + GUARD);
        if (!arena || !disk)
            abort();
    }
    struct in in = { data, size };
    struct frame_pool fp;
    struct guest_mm mm;
    if (frame_pool_init(&fp, va_hpa(arena), ARENA) < 0)
        abort();
    size_t free0 = frame_free_count(&fp);
    if (mm_init(&mm, &fp, take(&in, 1) & 1 ? &s2pt_format_ept : &s2pt_format_npt, true, regions,
                REGIONS, NULL, 0, inv, NULL) < 0)
        abort();
    mm.huge_anon = false;
    if (mm_add_anon(&mm, RAM_START, RAM_END, "ram") < 0 ||
        mm_add_rom(&mm, ROM_START, ROM_END, va_hpa(rom), sizeof(rom), "rom") < 0)
        abort();
    memset(disk, 0x5A, DISK_BYTES + GUARD);
    struct blk_file bf;
    blk_file_init(&bf, disk, DISK_BYTES, BLK_FILE_SECTOR, "file");
    struct vblk vb;
    static struct vpci v;
    if (vblk_init(&vb, &bf.dev, take(&in, 1) & 1, 512, "fuzz", bounce) < 0 ||
        vpci_init(&v, &mm, &vb, 0, 0x10, 0, BAR, msi, NULL) < 0)
        abort();
    intx_now = false;
    vpci_set_intx(&v, intx, &v, 20);

    /* Some pages touched (present), some read (zero-mapped), some merged. */
    uint8_t touch = (uint8_t)take(&in, 1);
    for (unsigned i = 0; i < 8; i++) {
        gpa_t pg = RAM_START + (gpa_t)(i * 8) * PAGE_SIZE;
        uint64_t x = i;
        if (touch & (1u << i))
            mm_write(&mm, pg, &x, sizeof(x));
        else
            mm_read(&mm, pg, &x, sizeof(x));
    }
    mm_merge_pages(&mm, RAM_START + 16 * PAGE_SIZE, RAM_START + 24 * PAGE_SIZE);

    /* Driver setup through BAR0, as far as the input lets it get. */
    vpci_bar_write(&v, VPCI_C_STATUS, 1, 0);
    vpci_bar_write(&v, VPCI_C_STATUS, 1, VPCI_S_ACKNOWLEDGE | VPCI_S_DRIVER);
    vpci_bar_write(&v, VPCI_C_GFSELECT, 4, 0);
    vpci_bar_write(&v, VPCI_C_GF, 4, (uint32_t)take(&in, 4));
    vpci_bar_write(&v, VPCI_C_GFSELECT, 4, 1);
    vpci_bar_write(&v, VPCI_C_GF, 4, 1); /* VERSION_1 */
    vpci_bar_write(&v, VPCI_C_STATUS, 1, VPCI_S_ACKNOWLEDGE | VPCI_S_DRIVER | VPCI_S_FEATURES_OK);
    vpci_cfg_write(&v, 0x42, 2, take(&in, 1) < 200 ? VPCI_MSIX_ENABLE : 0); /* else INTx */
    vpci_bar_write(&v, VPCI_MSIX_TABLE + VPCI_MSIX_ENTRY + 12, 4, 0);
    uint16_t qsize = (uint16_t)(1 + take(&in, 1) % 16);
    gpa_t desc = take(&in, 1) < 240 ? RAM_START + 0x10000 : addr(&in);
    gpa_t avail = take(&in, 1) < 240 ? RAM_START + 0x11000 : addr(&in);
    gpa_t used = take(&in, 1) < 240 ? RAM_START + 0x12000 : addr(&in);
    vpci_bar_write(&v, VPCI_C_Q_SIZE, 2, qsize);
    vpci_bar_write(&v, VPCI_C_Q_MSIX, 2, 1);
    vpci_bar_write(&v, VPCI_C_Q_DESC, 8, desc);
    vpci_bar_write(&v, VPCI_C_Q_DRIVER, 8, avail);
    vpci_bar_write(&v, VPCI_C_Q_DEVICE, 8, used);
    vpci_bar_write(&v, VPCI_C_Q_ENABLE, 2, 1);
    vpci_bar_write(&v, VPCI_C_STATUS, 1, 0x0F);

    for (int r = 0; r < ROUNDS && in.n; r++) {
        uint8_t op = (uint8_t)take(&in, 1);
        if (op < 100) { /* descriptors: addresses mostly in RAM, anything else goes */
            for (unsigned i = 0; i < qsize; i++) {
                struct { uint64_t a; uint32_t l; uint16_t f, n; } d = {
                    addr(&in), (uint32_t)take(&in, 2), (uint16_t)(take(&in, 1) & 7),
                    (uint16_t)(take(&in, 1) % (qsize + 2)) };
                mm_write(&mm, RAM_START + 0x10000 + 16ull * i, &d, sizeof(d));
            }
        } else if (op < 140) {
            fill(&mm, &in, RAM_START + 0x13000, 256); /* indirect tables / headers */
        } else if (op < 200) {
            uint16_t idx = (uint16_t)take(&in, 2);
            mm_write(&mm, RAM_START + 0x11000 + 2, &idx, 2);
            for (unsigned i = 0; i < qsize; i++) {
                uint16_t h = (uint16_t)(take(&in, 1) % (qsize + 1));
                mm_write(&mm, RAM_START + 0x11000 + 4 + 2 * i, &h, 2);
            }
        } else if (op < 215) {
            vpci_bar_write(&v, take(&in, 2) % VPCI_BAR_SIZE, 1u << (take(&in, 1) % 4),
                           take(&in, 8));
        } else if (op < 225) {
            vpci_cfg_write(&v, (uint16_t)(take(&in, 1) & 0xFC), 4, (uint32_t)take(&in, 4));
        } else if (op < 235) {
            mm_unmap_range(&mm, RAM_START + 0x20000, RAM_END); /* data pages go absent */
        }
        vpci_notify(&v, (unsigned)(take(&in, 1) % 2));
    }

    if (!mm_check(&mm))
        FAIL("mm_check failed");
    for (size_t i = 0; i < fp.nframes; i++)
        if (fp.desc[i].pins || (fp.desc[i].flags & FRAME_PINNED && &fp.desc[i] != fp.zero))
            FAIL("frame %zu left pinned", i);
    for (size_t i = DISK_BYTES; i < DISK_BYTES + GUARD; i++)
        if (disk[i] != 0x5A)
            FAIL("write past the disk's end at byte %zu", i);
    mm_destroy(&mm);
    if (frame_free_count(&fp) != free0)
        FAIL("%zu frames leaked", free0 - frame_free_count(&fp));
    return 0;
}

/*
 * Unit tests for the guest disk's device model (vmm/vdev/): feature
 * negotiation, queue setup, direct and indirect chains, bad descriptors
 * (out of range, loops, wrong direction, outside RAM, oversize), reset,
 * read-only disks, MSI-X, and I/O into absent, zero-mapped and swapped-out
 * pages, against a real guest_mm and a file-backed disk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "tests/unit/vdisk_env.h"

static const struct s2pt_format *const fmts[] = { &s2pt_format_ept, &s2pt_format_npt };
#define EACH_FMT(...) for (size_t fi = 0; fi < 2; fi++) { const struct s2pt_format *fmt = fmts[fi]; __VA_ARGS__ }

static void features(void **state)
{
    (void)state;
    EACH_FMT({
        struct vdisk_env *e = vdisk_env_new(fmt, false);
        uint64_t f = vd_offered(e);
        assert_true(f & VDEV_F_VERSION_1);
        assert_true(f & VBLK_F_SEG_MAX);
        assert_true(f & VBLK_F_BLK_SIZE);
        assert_true(f & VBLK_F_FLUSH);
        assert_true(f & VDEV_F_INDIRECT_DESC);
        assert_false(f & VBLK_F_RO);
        /* a feature the device does not offer, and no VERSION_1: refused */
        host_log_clear();
        assert_false(vd_negotiate(e, VDEV_F_VERSION_1 | (1ull << 12)));
        assert_true(host_log_contains("refused"));
        assert_false(vd_negotiate(e, VBLK_F_FLUSH));
        assert_true(vd_negotiate(e, VDEV_F_VERSION_1 | VBLK_F_FLUSH));
        /* device configuration */
        assert_int_equal(vd_rd(e, VPCI_DEVICE + VBLK_CFG_CAPACITY, 8), VD_DISK_BYTES / 512);
        assert_int_equal(vd_rd(e, VPCI_DEVICE + VBLK_CFG_SEG_MAX, 4), VBLK_SEG_MAX);
        assert_int_equal(vd_rd(e, VPCI_DEVICE + VBLK_CFG_BLK_SIZE, 4), 512);
        vdisk_env_free(e);
        e = vdisk_env_new(fmt, true);
        assert_true(vd_offered(e) & VBLK_F_RO);
        vdisk_env_free(e);
    });
}

/* Configuration space: ids, capabilities chain, BAR sizing and moves. */
static void config_space(void **state)
{
    (void)state;
    struct vdisk_env *e = vdisk_env_new(&s2pt_format_npt, false);
    struct vpci *v = &e->v;
    assert_int_equal(vpci_cfg_read(v, 0, 4), 0x10421AF4u);
    assert_int_equal(vpci_cfg_read(v, 0x3D, 1), 0); /* no INTx */
    unsigned types = 0, msix = 0;
    for (uint8_t p = (uint8_t)vpci_cfg_read(v, 0x34, 1); p; p = (uint8_t)vpci_cfg_read(v, p + 1, 1)) {
        uint8_t id = (uint8_t)vpci_cfg_read(v, p, 1);
        if (id == 0x09)
            types |= 1u << vpci_cfg_read(v, p + 3, 1);
        if (id == 0x11)
            msix = vpci_cfg_read(v, p + 2, 2) & 0x7FF;
    }
    assert_int_equal(types, 0x3E); /* common, notify, isr, device, pci-cfg */
    assert_int_equal(msix + 1, VPCI_NVEC);
    /* sizing, then a move, as Linux does with decoding off */
    vpci_cfg_write(v, 0x04, 2, 0);
    assert_null(region_find(&e->mm->regions, VDISK_BAR));
    vpci_cfg_write(v, 0x10, 4, 0xFFFFFFFF);
    assert_int_equal(vpci_cfg_read(v, 0x10, 4), (uint32_t)~(VPCI_BAR_SIZE - 1));
    vpci_cfg_write(v, 0x10, 4, 0xE0000000u);
    vpci_cfg_write(v, 0x04, 2, VPCI_CMD_MEM | VPCI_CMD_MASTER);
    const struct region *r = region_find(&e->mm->regions, 0xE0000000u);
    assert_non_null(r);
    assert_int_equal(r->kind, REGION_MMIO_EMULATED);
    assert_null(region_find(&e->mm->regions, VDISK_BAR));
    /* a BAR over RAM is refused, never mapped over guest memory */
    host_log_clear();
    vpci_cfg_write(v, 0x10, 4, (uint32_t)VD_RAM);
    assert_true(host_log_contains("overlaps guest memory"));
    assert_int_equal(region_find(&e->mm->regions, VD_RAM)->kind, REGION_ANON);
    /* the PCI access capability reaches BAR0 */
    vpci_cfg_write(v, 0x90 + 12, 4, 4);
    vpci_cfg_write(v, 0x90 + 8, 4, VPCI_DEVICE + VBLK_CFG_CAPACITY);
    assert_int_equal(vpci_cfg_read(v, 0xA0, 4), VD_DISK_BYTES / 512);
    vdisk_env_free(e);
}

static void read_write_direct(void **state)
{
    (void)state;
    EACH_FMT({
        struct vdisk_env *e = vdisk_env_new(fmt, false);
        vd_setup(e);
        static uint8_t buf[8192], back[8192];
        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = (uint8_t)(i ^ 0x5a);
        assert_int_equal(mm_write(e->mm, VD_DATA, buf, sizeof(buf)), 0);
        vd_request(e, VBLK_T_OUT, 4, VD_DATA, sizeof(buf));
        assert_int_equal(vd_req_status(e), VBLK_S_OK);
        assert_memory_equal(e->disk + 4 * 512, buf, sizeof(buf));
        assert_int_equal(vd_used_idx(e), 1);
        uint32_t id, len;
        vd_used_elem(e, 0, &id, &len);
        assert_int_equal(id, 0);
        assert_int_equal(len, 1);
        assert_int_equal(e->msis, 1);
        assert_int_equal(e->last_data, VD_MSI_DATA);
        assert_int_equal(e->last_addr, VD_MSI_ADDR);
        /* read it back into a buffer that straddles pages at an odd offset */
        gpa_t dst = VD_DATA + 0x5000 + 0x200;
        vd_request(e, VBLK_T_IN, 4, dst, sizeof(back));
        assert_int_equal(vd_req_status(e), VBLK_S_OK);
        assert_int_equal(mm_read(e->mm, dst, back, sizeof(back)), 0);
        assert_memory_equal(back, buf, sizeof(back));
        vd_used_elem(e, 1, &id, &len);
        assert_int_equal(len, sizeof(back) + 1);
        /* flush and get-id */
        vd_request(e, VBLK_T_FLUSH, 0, VD_DATA, 0);
        assert_int_equal(vd_req_status(e), VBLK_S_OK);
        vd_request(e, VBLK_T_GET_ID, 0, VD_DATA, 20);
        char id20[20];
        assert_int_equal(mm_read(e->mm, VD_DATA, id20, 20), 0);
        assert_string_equal(id20, "vd-serial");
        /* an unknown type */
        vd_request(e, 99, 0, VD_DATA, 512);
        assert_int_equal(vd_req_status(e), VBLK_S_UNSUPP);
        /* beyond the disk's end, and not a sector multiple: an I/O error, not a reset */
        vd_request(e, VBLK_T_IN, VD_DISK_BYTES / 512 - 1, VD_DATA, 1024);
        assert_int_equal(vd_req_status(e), VBLK_S_IOERR);
        vd_request(e, VBLK_T_OUT, 0, VD_DATA, 100);
        assert_int_equal(vd_req_status(e), VBLK_S_IOERR);
        assert_false(vd_status(e) & VPCI_S_NEEDS_RESET);
        /* a disk error */
        blk_file_fail_read_in(&e->blk, 1);
        vd_request(e, VBLK_T_IN, 0, VD_DATA, 512);
        assert_int_equal(vd_req_status(e), VBLK_S_IOERR);
        assert_int_equal(vd_used_idx(e), 8);
        vdisk_env_free(e);
    });
}

static void indirect_chain(void **state)
{
    (void)state;
    struct vdisk_env *e = vdisk_env_new(&s2pt_format_ept, false);
    vd_setup(e);
    struct { uint32_t type, reserved; uint64_t sector; } hdr = { VBLK_T_IN, 0, 8 };
    assert_int_equal(mm_write(e->mm, VD_HDR, &hdr, sizeof(hdr)), 0);
    /* header split in two, data in three pieces of 512 / 1024 / 512, status */
    struct vd_desc t[6] = {
        { VD_HDR, 8, 0x1, 1 },
        { VD_HDR + 8, 8, 0x1, 2 },
        { VD_DATA, 512, 0x3, 3 },
        { VD_DATA + 0x3000 - 512, 1024, 0x3, 4 },
        { VD_DATA + 0x7000, 512, 0x3, 5 },
        { VD_STATUS, 1, 0x2, 0 },
    };
    assert_int_equal(mm_write(e->mm, VD_INDIRECT, t, sizeof(t)), 0);
    struct vd_desc d = { VD_INDIRECT, sizeof(t), 0x4, 0 };
    vd_submit(e, VD_DESC, 3, &d, 1, 3);
    assert_int_equal(vd_req_status(e), VBLK_S_OK);
    uint8_t got[2048];
    assert_int_equal(mm_read(e->mm, VD_DATA, got, 512), 0);
    assert_int_equal(mm_read(e->mm, VD_DATA + 0x3000 - 512, got + 512, 1024), 0);
    assert_int_equal(mm_read(e->mm, VD_DATA + 0x7000, got + 1536, 512), 0);
    assert_memory_equal(got, e->disk + 8 * 512, sizeof(got));
    uint32_t id, len;
    vd_used_elem(e, 0, &id, &len);
    assert_int_equal(id, 3);
    assert_int_equal(len, 2049);
    vdisk_env_free(e);
}

/* Submit one bad chain; the device must need reset and name addr. */
static void expect_broken(struct vdisk_env *e, const struct vd_desc *d, unsigned n,
                          const char *needle)
{
    host_log_clear();
    uint16_t used0 = vd_used_idx(e);
    vd_submit(e, VD_DESC, 0, d, n, 0);
    if (!host_log_contains(needle))
        fail_msg("log does not name '%s'", needle);
    assert_true(host_log_contains("needs reset"));
    assert_true(vd_status(e) & VPCI_S_NEEDS_RESET);
    assert_int_equal(vd_used_idx(e), used0);
    /* configuration-change interrupt on vector 0 (masked: pending) */
    assert_true(e->v.pending & 1);
    /* further notifications are ignored until reset */
    vd_wr(e, VPCI_NOTIFY, 2, 0);
    assert_int_equal(vd_used_idx(e), used0);
    vd_wr(e, VPCI_C_STATUS, 1, 0);
    assert_int_equal(vd_status(e), 0);
    assert_int_equal(vd_rd(e, VPCI_C_Q_ENABLE, 2), 0);
    vd_setup(e);
}

static void bad_descriptors(void **state)
{
    (void)state;
    EACH_FMT({
        struct vdisk_env *e = vdisk_env_new(fmt, false);
        vd_setup(e);
        struct vd_desc outside[3] = {
            { VD_HDR, 16, 0x1, 1 }, { 0xF0000000ull, 512, 0x3, 2 }, { VD_STATUS, 1, 0x2, 0 } };
        expect_broken(e, outside, 3, "0xf0000000");
        struct vd_desc mmio[3] = {
            { VD_HDR, 16, 0x1, 1 }, { VDISK_BAR, 512, 0x3, 2 }, { VD_STATUS, 1, 0x2, 0 } };
        expect_broken(e, mmio, 3, "0xfeb00000");
        struct vd_desc range[2] = { { VD_HDR, 16, 0x1, 9 }, { 0, 0, 0, 0 } };
        expect_broken(e, range, 1, "next 9 outside");
        struct vd_desc loop[2] = { { VD_HDR, 16, 0x1, 1 }, { VD_DATA, 512, 0x1, 0 } };
        expect_broken(e, loop, 2, "loops");
        struct vd_desc dir[3] = {
            { VD_HDR, 16, 0x1, 1 }, { VD_STATUS, 1, 0x3, 2 }, { VD_DATA, 512, 0x1, 0 } };
        expect_broken(e, dir, 3, "after a device-writable");
        struct vd_desc noroom[1] = { { VD_HDR, 8, 0x0, 0 } };
        expect_broken(e, noroom, 1, "no room for a request header");
        struct vd_desc wrap[1] = { { 0xFFFFFFFFFFFFF000ull, 0x2000, 0x2, 0 } };
        expect_broken(e, wrap, 1, "0xfffffffffffff000");
        /* indirect: bad length, nested, with NEXT */
        struct vd_desc ind_len[1] = { { VD_INDIRECT, 24, 0x4, 0 } };
        expect_broken(e, ind_len, 1, "not a multiple of 16");
        struct vd_desc nested = { VD_INDIRECT, 16, 0x4, 0 };
        assert_int_equal(mm_write(e->mm, VD_INDIRECT, &nested, sizeof(nested)), 0);
        struct vd_desc ind_nest[1] = { { VD_INDIRECT, 16, 0x4, 0 } };
        expect_broken(e, ind_nest, 1, "nested indirect");
        struct vd_desc ind_next[2] = { { VD_INDIRECT, 16, 0x5, 1 }, { VD_HDR, 16, 0, 0 } };
        expect_broken(e, ind_next, 2, "also has NEXT");
        /* the avail index jumping past the queue size */
        host_log_clear();
        uint16_t jump = (uint16_t)(e->avail_idx + VD_QSIZE + 1);
        assert_int_equal(mm_write(e->mm, VD_AVAIL + 2, &jump, 2), 0);
        vd_wr(e, VPCI_NOTIFY, 2, 0);
        assert_true(host_log_contains("jumped"));
        assert_true(vd_status(e) & VPCI_S_NEEDS_RESET);
        /* a ring outside RAM is refused at queue enable */
        vd_wr(e, VPCI_C_STATUS, 1, 0);
        assert_true(vd_negotiate(e, vd_offered(e)));
        vd_wr(e, VPCI_C_Q_DESC, 8, 0xC0000000ull);
        vd_wr(e, VPCI_C_Q_DRIVER, 8, VD_AVAIL);
        vd_wr(e, VPCI_C_Q_DEVICE, 8, VD_USED);
        host_log_clear();
        vd_wr(e, VPCI_C_Q_ENABLE, 2, 1);
        assert_true(host_log_contains("descriptor table at gpa 0xc0000000"));
        assert_int_equal(vd_rd(e, VPCI_C_Q_ENABLE, 2), 0);
        assert_true(vd_status(e) & VPCI_S_NEEDS_RESET);
        vdisk_env_free(e);
    });
}

static void read_only(void **state)
{
    (void)state;
    struct vdisk_env *e = vdisk_env_new(&s2pt_format_npt, true);
    vd_setup(e);
    uint8_t before[512];
    memcpy(before, e->disk, sizeof(before));
    uint8_t junk[512];
    memset(junk, 0xAB, sizeof(junk));
    assert_int_equal(mm_write(e->mm, VD_DATA, junk, sizeof(junk)), 0);
    host_log_clear();
    vd_request(e, VBLK_T_OUT, 0, VD_DATA, 512);
    assert_int_equal(vd_req_status(e), VBLK_S_IOERR);
    assert_true(host_log_contains("read-only"));
    assert_memory_equal(e->disk, before, sizeof(before));
    assert_int_equal(e->blk.write_reqs, 0);
    vd_request(e, VBLK_T_IN, 0, VD_DATA, 512);
    assert_int_equal(vd_req_status(e), VBLK_S_OK);
    vdisk_env_free(e);
}

/* MSI-X: masked vectors become pending, unmasking delivers; NO_INTERRUPT. */
static void interrupts(void **state)
{
    (void)state;
    struct vdisk_env *e = vdisk_env_new(&s2pt_format_ept, false);
    vd_setup(e);
    vd_wr(e, VPCI_MSIX_TABLE + VPCI_MSIX_ENTRY + 12, 4, VPCI_MSIX_VEC_MASKED);
    vd_request(e, VBLK_T_IN, 0, VD_DATA, 512);
    assert_int_equal(e->msis, 0);
    assert_int_equal(vd_rd(e, VPCI_MSIX_PBA, 8), 2);
    vd_wr(e, VPCI_MSIX_TABLE + VPCI_MSIX_ENTRY + 12, 4, 0);
    assert_int_equal(e->msis, 1);
    assert_int_equal(vd_rd(e, VPCI_MSIX_PBA, 8), 0);
    uint16_t no_int = 1;
    assert_int_equal(mm_write(e->mm, VD_AVAIL, &no_int, 2), 0);
    vd_request(e, VBLK_T_IN, 0, VD_DATA, 512);
    assert_int_equal(e->msis, 1);
    /* ISR reads and clears */
    assert_int_equal(vd_rd(e, VPCI_ISR, 1), VPCI_ISR_QUEUE);
    assert_int_equal(vd_rd(e, VPCI_ISR, 1), 0);
    vdisk_env_free(e);
}

/* A disk read into absent, zero-mapped and swapped-out pages resolves
 * them like guest writes; a disk write from a swapped-out page reads it
 * like a guest read. */
static void demand_paged_io(void **state)
{
    (void)state;
    EACH_FMT({
        struct vdisk_env *e = vdisk_env_new(fmt, false);
        vd_setup(e);
        gpa_t absent = VD_DATA + 0x20000, zero = VD_DATA + 0x30000, swapped = VD_DATA + 0x40000;
        assert_int_equal(swap_env_state(e->s, absent), S2_NONE);
        uint64_t v;
        assert_int_equal(mm_read(e->mm, zero, &v, 8), 0); /* zero-mapped */
        swap_env_fill(e->s, swapped, 77);
        e->s->sw.recent = NULL;
        while (swap_env_state(e->s, swapped) != S2_SWAP)
            assert_true(swap_reclaim(&e->s->sw, 64) > 0);
        /* disk write from the swapped page: the disk gets its data */
        vd_request(e, VBLK_T_OUT, 16, swapped, PAGE_SIZE);
        assert_int_equal(vd_req_status(e), VBLK_S_OK);
        assert_true(swap_env_has(e->s, swapped, 77));
        uint8_t page[PAGE_SIZE];
        assert_int_equal(mm_read(e->mm, swapped, page, PAGE_SIZE), 0);
        assert_memory_equal(e->disk + 16 * 512, page, PAGE_SIZE);
        /* reads of other sectors into each kind of page */
        const gpa_t dst[3] = { absent, zero, swapped };
        for (unsigned i = 0; i < 3; i++) {
            if (i == 2)
                while (swap_env_state(e->s, swapped) != S2_SWAP)
                    assert_true(swap_reclaim(&e->s->sw, 64) > 0);
            vd_request(e, VBLK_T_IN, 64 + 8 * i, dst[i], PAGE_SIZE);
            assert_int_equal(vd_req_status(e), VBLK_S_OK);
            struct s2_info s = mm_env_lookup(e->s->m, dst[i]);
            assert_int_equal(s.state, S2_PRESENT);
            assert_true(s.rights & ACC_W);
            assert_int_equal(mm_read(e->mm, dst[i], page, PAGE_SIZE), 0);
            assert_memory_equal(page, e->disk + (64 + 8 * i) * 512, PAGE_SIZE);
        }
        /* no page stays pinned after its request */
        for (size_t i = 0; i < e->s->m->fp.nframes; i++)
            if (e->s->m->fp.desc[i].pins)
                fail_msg("frame %zu still pinned", i);
        vdisk_env_free(e);
    });
}

/* A pinned frame is skipped by reclaim and merging, and comes back after. */
static void pins_block_reclaim(void **state)
{
    (void)state;
    struct vdisk_env *e = vdisk_env_new(&s2pt_format_ept, false);
    gpa_t a = VD_DATA, b = VD_DATA + PAGE_SIZE;
    swap_env_fill(e->s, a, 5);
    swap_env_fill(e->s, b, 5);
    struct mm_pin p, p2;
    assert_int_equal(mm_pin_page(e->mm, a, true, &p), 0);
    assert_int_equal(mm_pin_page(e->mm, a + 8, false, &p2), 0); /* pins nest */
    assert_non_null(p.f);
    assert_int_equal(p.f->pins, 2);
    assert_int_equal(mm_merge_pages(e->mm, a, b), -PV_EINVAL);
    e->s->sw.recent = NULL;
    for (int i = 0; i < 4; i++)
        swap_reclaim(&e->s->sw, 4096);
    assert_int_equal(swap_env_state(e->s, a), S2_PRESENT);
    assert_int_equal(swap_env_state(e->s, b), S2_SWAP);
    mm_unpin_page(e->mm, &p2);
    assert_true(p.f->flags & FRAME_PINNED);
    struct frame *f = p.f;
    mm_unpin_page(e->mm, &p);
    assert_false(f->flags & FRAME_PINNED);
    assert_int_equal(f->pins, 0);
    /* not RAM: refused */
    assert_int_equal(mm_pin_page(e->mm, 0xF0000000u, false, &p), -PV_ENOENT);
    assert_null(p.f);
    vdisk_env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(features),
        cmocka_unit_test(config_space),
        cmocka_unit_test(read_write_direct),
        cmocka_unit_test(indirect_chain),
        cmocka_unit_test(bad_descriptors),
        cmocka_unit_test(read_only),
        cmocka_unit_test(interrupts),
        cmocka_unit_test(demand_paged_io),
        cmocka_unit_test(pins_block_reclaim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

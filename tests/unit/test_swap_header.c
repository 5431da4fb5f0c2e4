/* Unit tests for the mkswap header check (swap/swap_header.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/blk_file.h"
#include "swap/swap_area.h"
#include "tests/unit/test_swap_mkswap.h"

#define DISK_PAGES 64u

struct hdr_env {
    uint8_t *disk;
    struct blk_file blk;
    uint8_t page[PAGE_SIZE];
    char err[256];
};

static struct hdr_env *hdr_new(uint64_t pages, const char *name)
{
    struct hdr_env *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    h->disk = calloc(pages, PAGE_SIZE);
    assert_non_null(h->disk);
    assert_int_equal(blk_file_init(&h->blk, h->disk, pages * PAGE_SIZE, BLK_FILE_SECTOR,
                                   name),
                     0);
    swap_env_mkswap(h->disk, pages, NULL, 0);
    return h;
}

static void hdr_free(struct hdr_env *h)
{
    free(h->disk);
    free(h);
}

static int check(struct hdr_env *h, uint64_t *nslots)
{
    memset(h->err, 0, sizeof(h->err));
    return swap_header_check(&h->blk.dev, h->page, nslots, h->err, sizeof(h->err));
}

static void expect_err(struct hdr_env *h, int rc, const char *msg)
{
    uint64_t n = 12345;
    assert_int_equal(check(h, &n), rc);
    assert_string_equal(h->err, msg);
    assert_int_equal(n, 12345); /* untouched on failure */
}

static void test_good_header(void **state)
{
    (void)state;
    struct hdr_env *h = hdr_new(DISK_PAGES, "ramdisk");
    uint64_t n = 0;
    assert_int_equal(check(h, &n), 0);
    assert_int_equal(n, DISK_PAGES - 1);
    assert_string_equal(h->err, "");

    struct swap_header_info info;
    assert_int_equal(swap_header_parse(&h->blk.dev, h->page, &info, h->err,
                                       sizeof(h->err)),
                     0);
    assert_int_equal(info.last_page, DISK_PAGES - 1);
    assert_string_equal(info.label, "pvswap");
    assert_int_equal(info.uuid[0], 0x10);
    assert_int_equal(info.uuid[15], 0x1f);
    /* a header for fewer pages than the disk has is fine (mkswap -s) */
    swap_env_mkswap(h->disk, 10, NULL, 0);
    assert_int_equal(check(h, &n), 0);
    assert_int_equal(n, 9);
    hdr_free(h);
}

static void test_bad_pages(void **state)
{
    (void)state;
    struct hdr_env *h = hdr_new(DISK_PAGES, "ramdisk");
    const uint32_t bad[] = { 5, 9, 5, 63 }; /* a duplicate counts once */
    swap_env_mkswap(h->disk, DISK_PAGES, bad, 4);
    uint64_t n = 0;
    assert_int_equal(check(h, &n), 0);
    assert_int_equal(n, DISK_PAGES - 1 - 3);

    const uint32_t outside[] = { 7, 64 };
    swap_env_mkswap(h->disk, DISK_PAGES, outside, 2);
    expect_err(h, -PV_EINVAL, "ramdisk: swap header lists bad page 64 outside 1..63");
    const uint32_t zero[] = { 0 };
    swap_env_mkswap(h->disk, DISK_PAGES, zero, 1);
    expect_err(h, -PV_EINVAL, "ramdisk: swap header lists bad page 0 outside 1..63");

    /* every slot bad */
    const uint32_t all[] = { 1, 2, 3 };
    swap_env_mkswap(h->disk, 4, all, 3);
    expect_err(h, -PV_EINVAL, "ramdisk: swap area has no usable pages (all 3 are bad)");

    /* more bad pages than page 0 can list */
    swap_env_mkswap(h->disk, DISK_PAGES, NULL, 0);
    swap_env_put32(h->disk + SWAP_HDR_NR_BADPAGES, SWAP_MAX_BADPAGES + 1);
    expect_err(h, -PV_EINVAL,
               "ramdisk: swap header lists 638 bad pages, at most 637 fit in page 0");
    hdr_free(h);
}

static void test_signature(void **state)
{
    (void)state;
    struct hdr_env *h = hdr_new(DISK_PAGES, "virtio-blk 00:04.0");
    memset(h->disk + SWAP_HDR_SIGNATURE, 0, SWAP_SIGNATURE_LEN);
    expect_err(h, -PV_EINVAL,
               "virtio-blk 00:04.0: no swap signature (SWAPSPACE2) in the last 10 bytes "
               "of page 0: prepare it with mkswap");
    memcpy(h->disk + SWAP_HDR_SIGNATURE, "SWAP-SPACE", SWAP_SIGNATURE_LEN);
    expect_err(h, -PV_EINVAL,
               "virtio-blk 00:04.0: old-style swap signature (SWAP-SPACE) in page 0: "
               "re-run mkswap");
    /* a signature one byte off is no signature */
    swap_env_mkswap(h->disk, DISK_PAGES, NULL, 0);
    h->disk[PAGE_SIZE - 1] = '3';
    expect_err(h, -PV_EINVAL,
               "virtio-blk 00:04.0: no swap signature (SWAPSPACE2) in the last 10 bytes "
               "of page 0: prepare it with mkswap");
    hdr_free(h);
}

static void test_version_and_sizes(void **state)
{
    (void)state;
    struct hdr_env *h = hdr_new(DISK_PAGES, "ata0-slave");
    swap_env_put32(h->disk + SWAP_HDR_VERSION, 2);
    expect_err(h, -PV_EINVAL, "ata0-slave: swap header version 2, want 1: re-run mkswap");
    swap_env_put32(h->disk + SWAP_HDR_VERSION, 0x01000000u);
    expect_err(h, -PV_EINVAL,
               "ata0-slave: swap header is byte-swapped (made on a big-endian machine): "
               "re-run mkswap here");

    swap_env_mkswap(h->disk, DISK_PAGES, NULL, 0);
    swap_env_put32(h->disk + SWAP_HDR_LAST_PAGE, 262143);
    expect_err(h, -PV_EINVAL, "ata0-slave: swap header says 262144 pages but the disk has 64");
    /* one page too many: the header page counts */
    swap_env_put32(h->disk + SWAP_HDR_LAST_PAGE, DISK_PAGES);
    expect_err(h, -PV_EINVAL, "ata0-slave: swap header says 65 pages but the disk has 64");
    swap_env_put32(h->disk + SWAP_HDR_LAST_PAGE, 0);
    expect_err(h, -PV_EINVAL, "ata0-slave: swap header has no slot pages (last_page 0)");
    hdr_free(h);
}

static void test_device_problems(void **state)
{
    (void)state;
    struct hdr_env *h = hdr_new(DISK_PAGES, "ramdisk");
    blk_file_fail_read_in(&h->blk, 1);
    expect_err(h, -PV_EIO, "ramdisk: cannot read page 0 (I/O error)");
    uint64_t n;
    assert_int_equal(check(h, &n), 0); /* one-shot: the next read works */

    h->blk.dev.sectors = 8; /* one page */
    expect_err(h, -PV_EINVAL, "ramdisk: disk too small for a swap header (4096 bytes)");
    h->blk.dev.sectors = DISK_PAGES * 8;
    h->blk.dev.sector_size = 3000;
    expect_err(h, -PV_EINVAL, "ramdisk: sector size 3000 does not divide the page size");
    /* err may be NULL */
    assert_int_equal(swap_header_check(&h->blk.dev, h->page, &n, NULL, 0), -PV_EINVAL);
    hdr_free(h);
}

/* A 4 KiB-sector device: page n is sector n. */
static void test_4k_sectors(void **state)
{
    (void)state;
    struct hdr_env *h = calloc(1, sizeof(*h));
    h->disk = calloc(DISK_PAGES, PAGE_SIZE);
    assert_int_equal(blk_file_init(&h->blk, h->disk, DISK_PAGES * PAGE_SIZE, 4096, "nvme"),
                     0);
    swap_env_mkswap(h->disk, DISK_PAGES, NULL, 0);
    uint64_t n;
    assert_int_equal(check(h, &n), 0);
    assert_int_equal(n, DISK_PAGES - 1);
    hdr_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_header),
        cmocka_unit_test(test_bad_pages),
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_version_and_sizes),
        cmocka_unit_test(test_device_problems),
        cmocka_unit_test(test_4k_sectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * libFuzzer target for the mkswap header check and the slot allocator
 * (swap/swap_header.c, swap/swap_area.c). Input: two bytes choosing the
 * device size (pages) and the sector size, then the bytes of page 0 (the
 * rest zero). Half the time the input is laid over a valid header so the
 * fuzzer reaches past the signature check. A header that passes must
 * describe a device that holds it; the allocator built on it must hand out
 * exactly nslots distinct slots, none of them page 0 or a listed bad page,
 * then refuse; every error must come with a message naming the device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/blk_file.h"
#include "swap/swap_area.h"
#include "tests/unit/test_swap_mkswap.h"

#define MAX_PAGES 300u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t disk[MAX_PAGES * PAGE_SIZE];
static uint8_t page[PAGE_SIZE];
static uint64_t meta[(MAX_PAGES * 8 + 64) / 8 + 64];
static uint8_t seen[MAX_PAGES];

static void die(const char *what)
{
    fprintf(stderr, "fuzz_swap_header: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t sector_sizes[] = { 512, 1024, 4096, 3000 };
    if (size < 2)
        return 0;
    uint64_t pages = 1 + data[0] % MAX_PAGES;
    uint32_t ssize = sector_sizes[data[1] & 3];
    bool overlay = data[1] & 4;
    data += 2;
    size -= 2;

    memset(disk, 0, PAGE_SIZE);
    if (overlay) {
        swap_env_mkswap(disk, pages, NULL, 0);
        /* the input patches the header fields, the signature stays */
        size_t n = size < SWAP_HDR_SIGNATURE - SWAP_HDR_VERSION
                       ? size
                       : SWAP_HDR_SIGNATURE - SWAP_HDR_VERSION;
        memcpy(disk + SWAP_HDR_VERSION, data, n);
    } else {
        memcpy(disk, data, size < PAGE_SIZE ? size : PAGE_SIZE);
    }
    struct blk_file b;
    if (blk_file_init(&b, disk, pages * PAGE_SIZE, ssize, "fuzzdisk") != 0) {
        if (PAGE_SIZE % ssize == 0)
            die("blk_file_init refused a good sector size");
        b.dev.sector_size = ssize; /* check the header code's own test */
        b.dev.sectors = pages * PAGE_SIZE / ssize;
        b.dev.ops = NULL;
        strcpy(b.dev.name, "fuzzdisk");
    }
    char err[160] = "";
    struct swap_header_info info;
    int rc = swap_header_parse(&b.dev, page, &info, err, sizeof(err));
    if (rc != 0) {
        if ((rc != -PV_EINVAL && rc != -PV_EIO) || strncmp(err, "fuzzdisk: ", 10) != 0)
            die("error without a message naming the device");
        return 0;
    }
    if (info.last_page == 0 || (uint64_t)info.last_page + 1 > pages || info.nslots == 0 ||
        info.nslots > info.last_page)
        die("accepted header does not fit the device");

    struct swap_area a;
    size_t len = swap_area_meta_size((uint64_t)info.last_page + 1);
    if (len > sizeof(meta))
        die("metadata size out of bounds");
    if (swap_area_init(&a, &b.dev, 0, &info, meta, len) != 0)
        die("swap_area_init failed on an accepted header");
    memset(seen, 0, sizeof(seen));
    for (uint64_t i = 0; i < info.nslots; i++) {
        uint64_t s;
        if (swap_area_alloc(&a, &s) != 0)
            die("fewer slots than nslots");
        if (s == 0 || s > info.last_page || seen[s])
            die("slot 0, out of range, or handed out twice");
        seen[s] = 1;
        for (uint32_t k = 0; k < info.nr_badpages; k++)
            if (swap_header_badpage(&info, k) == s)
                die("bad page handed out");
    }
    uint64_t s;
    if (swap_area_alloc(&a, &s) != -PV_ENOSPC)
        die("more slots than nslots");
    if (!swap_area_check(&a))
        die("swap_area_check");
    return 0;
}

/*
 * The mkswap header (page 0 of the swap device), checked before any slot is
 * used. Messages, each prefixed "DEVICE: ":
 *   sector size N does not divide the page size
 *   disk too small for a swap header (N bytes)
 *   cannot read page 0 (I/O error)                                 -PV_EIO
 *   old-style swap signature (SWAP-SPACE) in page 0: re-run mkswap
 *   no swap signature (SWAPSPACE2) in the last 10 bytes of page 0: prepare it with mkswap
 *   swap header is byte-swapped (made on a big-endian machine): re-run mkswap here
 *   swap header version N, want 1: re-run mkswap
 *   swap header has no slot pages (last_page 0)
 *   swap header says N pages but the disk has M        (N = last_page + 1)
 *   swap header lists N bad pages, at most 637 fit in page 0
 *   swap header lists bad page N outside 1..LAST
 *   swap area has no usable pages (all N are bad)
 * All but the read error are -PV_EINVAL.
 */
#include "swap/swap_area.h"

#include <string.h>

#include "vmm/lib/fmt.h"

#define U32_BYTES 4u

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint32_t swab32(uint32_t x)
{
    return (x >> 24) | ((x >> 8) & 0xff00u) | ((x << 8) & 0xff0000u) | (x << 24);
}

__attribute__((format(printf, 4, 5))) static int
fail(int rc, char *err, size_t err_len, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        pv_vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

uint32_t swap_header_badpage(const struct swap_header_info *info, uint32_t i)
{
    return get_le32(info->badpages + (size_t)i * U32_BYTES);
}

/* Bad pages that appear more than once count once. */
static uint32_t distinct_badpages(const struct swap_header_info *info)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < info->nr_badpages; i++) {
        uint32_t b = swap_header_badpage(info, i);
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = swap_header_badpage(info, j) == b;
        n += !seen;
    }
    return n;
}

int swap_header_parse(struct blkdev *dev, void *page_buf, struct swap_header_info *info,
                      char *err, size_t err_len)
{
    const char *name = dev->name;
    uint8_t *p = page_buf;

    memset(info, 0, sizeof(*info));
    if (dev->sector_size == 0 || PAGE_SIZE % dev->sector_size != 0)
        return fail(-PV_EINVAL, err, err_len,
                    "%s: sector size %u does not divide the page size", name,
                    dev->sector_size);
    uint64_t dev_pages = dev->sectors / (PAGE_SIZE / dev->sector_size);
    if (dev_pages < 2)
        return fail(-PV_EINVAL, err, err_len,
                    "%s: disk too small for a swap header (%llu bytes)", name,
                    (unsigned long long)(dev->sectors * dev->sector_size));
    if (blk_read(dev, 0, p, PAGE_SIZE) != 0)
        return fail(-PV_EIO, err, err_len, "%s: cannot read page 0 (I/O error)", name);

    const uint8_t *sig = p + SWAP_HDR_SIGNATURE;
    if (memcmp(sig, SWAP_SIGNATURE_V0, SWAP_SIGNATURE_LEN) == 0)
        return fail(-PV_EINVAL, err, err_len,
                    "%s: old-style swap signature (%s) in page 0: re-run mkswap", name,
                    SWAP_SIGNATURE_V0);
    if (memcmp(sig, SWAP_SIGNATURE, SWAP_SIGNATURE_LEN) != 0)
        return fail(-PV_EINVAL, err, err_len,
                    "%s: no swap signature (%s) in the last %u bytes of page 0: "
                    "prepare it with mkswap",
                    name, SWAP_SIGNATURE, SWAP_SIGNATURE_LEN);

    uint32_t version = get_le32(p + SWAP_HDR_VERSION);
    if (version != SWAP_VERSION && swab32(version) == SWAP_VERSION)
        return fail(-PV_EINVAL, err, err_len,
                    "%s: swap header is byte-swapped (made on a big-endian machine): "
                    "re-run mkswap here",
                    name);
    if (version != SWAP_VERSION)
        return fail(-PV_EINVAL, err, err_len, "%s: swap header version %u, want %u: "
                    "re-run mkswap", name, version, SWAP_VERSION);

    info->last_page = get_le32(p + SWAP_HDR_LAST_PAGE);
    info->nr_badpages = get_le32(p + SWAP_HDR_NR_BADPAGES);
    memcpy(info->uuid, p + SWAP_HDR_UUID, SWAP_HDR_UUID_LEN);
    memcpy(info->label, p + SWAP_HDR_LABEL, SWAP_HDR_LABEL_LEN);
    info->label[SWAP_HDR_LABEL_LEN] = '\0';
    info->badpages = p + SWAP_HDR_BADPAGES;

    if (info->last_page == 0)
        return fail(-PV_EINVAL, err, err_len,
                    "%s: swap header has no slot pages (last_page 0)", name);
    if ((uint64_t)info->last_page + 1 > dev_pages)
        return fail(-PV_EINVAL, err, err_len,
                    "%s: swap header says %llu pages but the disk has %llu", name,
                    (unsigned long long)info->last_page + 1,
                    (unsigned long long)dev_pages);
    if (info->nr_badpages > SWAP_MAX_BADPAGES)
        return fail(-PV_EINVAL, err, err_len,
                    "%s: swap header lists %u bad pages, at most %u fit in page 0", name,
                    info->nr_badpages, (unsigned)SWAP_MAX_BADPAGES);
    for (uint32_t i = 0; i < info->nr_badpages; i++) {
        uint32_t b = swap_header_badpage(info, i);
        if (b == 0 || b > info->last_page)
            return fail(-PV_EINVAL, err, err_len,
                        "%s: swap header lists bad page %u outside 1..%u", name, b,
                        info->last_page);
    }
    uint32_t nbad = distinct_badpages(info);
    info->nslots = info->last_page - nbad;
    if (info->nslots == 0)
        return fail(-PV_EINVAL, err, err_len,
                    "%s: swap area has no usable pages (all %u are bad)", name,
                    info->last_page);
    return 0;
}

int swap_header_check(struct blkdev *dev, void *page_buf, uint64_t *nslots, char *err,
                      size_t err_len)
{
    struct swap_header_info info;
    int rc = swap_header_parse(dev, page_buf, &info, err, err_len);
    if (rc == 0)
        *nslots = info.nslots;
    return rc;
}

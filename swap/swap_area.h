/*
 * The swap area on a block device, in the layout Linux's mkswap writes
 * (so users prepare the disk with mkswap and inspect it with standard
 * tools): page 0 holds the header — bootbits (1024 bytes), then
 * version (u32, 1), last_page (u32), nr_badpages (u32), uuid[16],
 * volume_name[16], padding, badpages[] (u32 each) — and the last 10 bytes
 * of page 0 are the signature "SWAPSPACE2". Slots are pages 1..last_page,
 * minus the bad pages.
 *
 * pagevisor never writes the header: a disk without a valid signature is
 * refused by name, never formatted.
 */
#ifndef PV_SWAP_SWAP_AREA_H
#define PV_SWAP_SWAP_AREA_H

#include "ept/types.h"
#include "swap/blkdev.h"

#define SWAP_SIGNATURE "SWAPSPACE2"
#define SWAP_SIGNATURE_LEN 10

struct swap_area;   /* defined by swap/swap_area.c's header section */

/*
 * Read and check the header of dev (one page). On success fills *nslots
 * (usable page slots) and returns 0; else -PV_EINVAL / -PV_EIO with one
 * line in err naming the device and the problem, e.g.
 *   "virtio-blk 00:04.0: no swap signature (SWAPSPACE2) in the last 10
 *    bytes of page 0: prepare it with mkswap"
 *   "ata0-slave: swap header says 262143 pages but the disk has 1024"
 */
int swap_header_check(struct blkdev *dev, void *page_buf, uint64_t *nslots, char *err,
                      size_t err_len);

#endif

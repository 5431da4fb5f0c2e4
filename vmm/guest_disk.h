/*
 * The guest's disk (docs/guest-disk.md): find the backing disk the config's
 * `disk` key names, then give the guest an emulated virtio-blk function
 * (vmm/vdev/) in front of it. Boot order:
 *   guest_disk_probe       before the swap probe: find and bring up the
 *                          backing disk, or refuse by name
 *   guest_disk_check_swap  after it: the swap device is another disk
 *   guest_disk_attach      after guest_build: the device, its BAR in the
 *                          guest's physical space, its PCI function
 *                          in the filtered configuration space
 * Each returns 0, or a negative PV_E* with one line in err: the guest must
 * not start.
 */
#ifndef PV_VMM_GUEST_DISK_H
#define PV_VMM_GUEST_DISK_H

#include <stddef.h>

#include "ept/mm.h"
#include "guest/config.h"
#include "vmm/drivers/probe.h"

#define GUEST_DISK_BAR 0xFEB00000u  /* inside the host bridges' 32-bit windows (QEMU, OVMF) */
#define GUEST_DISK_SLOT_FIRST 0x10u /* guest device numbers tried, in order */
#define GUEST_DISK_SLOT_LAST 0x1Fu

int guest_disk_probe(const struct pv_config *cfg, char *err, size_t err_len);
int guest_disk_check_swap(const struct pv_config *cfg, const struct swap_probe *sw, char *err,
                          size_t err_len);
int guest_disk_attach(const struct pv_config *cfg, struct guest_mm *mm, char *err,
                      size_t err_len);

#endif

/*
 * String port I/O (INS/OUTS, with or without REP) on a port whose answer is
 * the empty bus: what a denied port does for IN/OUT, done for the string
 * forms too. A stock Debian guest meets this at boot (udev loads
 * qemu_fw_cfg, which reads QEMU's fw_cfg with `rep insb`), so stopping the
 * guest is not an option.
 *
 *   OUTS  the data is dropped: only RSI (and RCX for REP) move.
 *   INS   all-ones are stored at ES:RDI through the guest's own page tables
 *         and the memory core (mm_write: an absent, zero-mapped, shared or
 *         swapped-out page resolves like a guest write).
 *
 * Addresses: ES is flat (Linux's segments all have base 0) and the address
 * size follows the paging mode (64-bit with EFER.LMA, else 32-bit); the
 * direction flag is honoured. A REP string does at most IO_STRING_BATCH
 * elements per exit and then re-enters the guest at the same instruction,
 * as the CPU itself does when interrupted, so a huge RCX never holds the
 * hypervisor.
 */
#ifndef PV_VMM_IO_STRING_H
#define PV_VMM_IO_STRING_H

#include <stdint.h>

#include "vmm/vcpu.h"

#define IO_STRING_BATCH 4096u

enum io_string_result {
    IO_STRING_DONE,    /* finished: skip the instruction */
    IO_STRING_AGAIN,   /* elements left: re-execute it (RIP unchanged) */
    IO_STRING_FAULT,   /* ES:RDI does not translate: the guest was stopped */
};

/* Emulate e (a string I/O exit) as open bus; *elements gets how many
 * elements this call moved (for the denied-port counters). */
enum io_string_result io_string_open_bus(struct vcpu *v, const struct vm_exit *e,
                                         uint64_t *elements);

#endif

/*
 * PCI configuration reads in one exit instead of two (docs/performance-history.md,
 * "Boot: PCI configuration reads").
 *
 * A configuration read through mechanism #1 is two port accesses, both
 * trapped: OUT of the address to 0xCF8, then IN from 0xCFC-0xCFF. Linux's
 * early PCI code (read_pci_config, used by the AGP/GART aperture scans of
 * all 256 buses that run on an AMD-family CPU model) compiles it to
 *
 *     out %eax,(%dx)          ; dx = 0xcf8, the exit we are handling
 *     mov $0xcfc,%edx         ; ba fc 0c 00 00   (or 66 ba fc 0c)
 *     in  (%dx),%eax          ; ed               (or ec, 66 ed)
 *
 * After the OUT's exit is handled, io_fuse_pci_read() reads the bytes that
 * follow it and, when they are exactly that (an optional MOV of an
 * immediate to EDX/DX, then IN through DX from a PCI data port), carries
 * out both instructions in the same exit: RDX as the MOV leaves it, the IN
 * answered by the same io_policy_handle() and PCI filter a trapped IN
 * would reach, RIP past both. Nothing else is emulated; anything else,
 * or any doubt, leaves the guest to run on and exit at its IN as before.
 *
 * Isolation does not change: the fused IN takes the policy's own path
 * (lookup by port, the filter's visibility rule, the attached emulated
 * function), so the guest reaches exactly what its trapped IN would.
 * Conditions (each one a reason the CPU might have done something other
 * than run the two instructions back to back):
 *   - CPL 0 (an IN at CPL > 0 depends on IOPL and the TSS bitmap, which
 *     pagevisor does not evaluate): VMCB CPL (SVM), SS.DPL (VMX); a
 *     backend without get_cpl never fuses;
 *   - RFLAGS.TF clear (single-step would trap after each instruction);
 *   - long mode (EFER.LMA: the encodings are read with 32-bit operands by
 *     default, as in a 64-bit or 32-bit code segment; the code segment's
 *     D bit is not looked at, so 16-bit code in compatibility mode would be
 *     misread — which could only change the guest's own RDX/RAX/RIP: the
 *     IN still reaches nothing but the filter);
 *   - every byte on the page of the OUT itself (the page the CPU just
 *     fetched from: present and executable), read through the guest's own
 *     page tables (vmm/guest_walk.h).
 * Interrupts that would have arrived between the OUT and the IN are taken
 * two instructions later; the guest cannot tell that from a slow bus.
 */
#ifndef PV_VMM_IO_FUSE_H
#define PV_VMM_IO_FUSE_H

#include "vmm/vcpu.h"

#include <stddef.h>
#include <stdint.h>

#define IO_FUSE_MAX_BYTES 8 /* 66 ba iw (4) + 66 ed (2), ba id (5) + ed (1) */

/* The instructions after the OUT, decoded. */
struct io_fuse_seq {
    bool mov;         /* a MOV of an immediate to EDX/DX comes first */
    bool mov16;       /* ... with an operand-size prefix: DX only, RDX's rest kept */
    uint32_t imm;     /* its immediate */
    uint8_t in_size;  /* the IN's width: 1, 2 or 4 */
    uint8_t mov_len;  /* bytes of the MOV (0 without it) */
    uint8_t len;      /* bytes of the whole sequence */
};

/* Decode n bytes as [MOV imm, EDX/DX] IN AL/AX/EAX, DX. Returns 0 and
 * fills *s on a match, -1 otherwise (anything else, or too few bytes). */
int io_fuse_decode(const uint8_t *b, size_t n, struct io_fuse_seq *s);

/* Called after the exit e of a guest OUT was handled and RIP moved past
 * it. When e was a 4-byte OUT to PCI_CONFIG_ADDRESS and what follows is a
 * read of a PCI data port, do it (see above) and return true. */
bool io_fuse_pci_read(struct vcpu *v, const struct vm_exit *e);

/* PCI data-port reads done this way (the final stats' `io fused-pci-reads`). */
uint64_t io_fuse_count(void);

#endif

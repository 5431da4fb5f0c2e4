/* String port I/O on an empty bus; see io_string.h. */
#include "vmm/io_string.h"
#include "ept/mm.h"
#include "vmm/arch/arch.h"
#include "vmm/guest_walk.h"
#include "vmm/lib/size_mask.h"
#include "vmm/power.h"

#include <string.h>

#define RFLAGS_DF (1ull << 10)
#define ADDR32_MASK 0xFFFFFFFFull

static int read_phys(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    return mm_read(ctx, gpa, dst, len);
}

/* Store n bytes of all-ones at guest-virtual gva (n <= 4: one element). */
static int store_ones(struct vcpu *v, uint64_t gva, unsigned n)
{
    uint64_t cr0, cr3, cr4, efer;
    v->ops->get_paging(v, &cr0, &cr3, &cr4, &efer);
    static const uint8_t ones[4] = { 0xFF, 0xFF, 0xFF, 0xFF };
    for (unsigned i = 0; i < n;) {
        uint64_t gpa;
        int rc = guest_walk(cr0, cr3, cr4, efer, gva + i, read_phys, v->mm, &gpa, NULL);
        if (rc < 0)
            return rc;
        /* up to the end of this element or of the page, whichever is first */
        unsigned chunk = n - i;
        uint64_t to_page_end = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
        if (chunk > to_page_end)
            chunk = (unsigned)to_page_end;
        rc = mm_write(v->mm, gpa, ones, chunk);
        if (rc < 0)
            return rc;
        i += chunk;
    }
    return 0;
}

enum io_string_result io_string_open_bus(struct vcpu *v, const struct vm_exit *e,
                                         uint64_t *elements)
{
    uint64_t cr0, cr3, cr4, efer;
    v->ops->get_paging(v, &cr0, &cr3, &cr4, &efer);
    uint64_t amask = (efer & GW_EFER_LMA) ? UINT64_MAX : ADDR32_MASK;
    bool down = v->ops->get_rflags && (v->ops->get_rflags(v) & RFLAGS_DF);
    unsigned size = e->u.io.size;
    uint64_t *ptr = &v->gpr[e->u.io.in ? GPR_RDI : GPR_RSI];
    uint64_t left = e->u.io.rep ? (v->gpr[GPR_RCX] & amask) : 1;
    uint64_t n = left < IO_STRING_BATCH ? left : IO_STRING_BATCH;
    *elements = 0;
    for (uint64_t k = 0; k < n; k++) {
        uint64_t addr = *ptr & amask;
        if (e->u.io.in) {
            int rc = store_ones(v, addr, size);
            if (rc < 0) {
                vcpu_stop(v, PV_EXIT_FAILURE,
                          "guest rep ins on port 0x%x: ES:RDI 0x%llx does not translate "
                          "(error %d)", e->u.io.port, (unsigned long long)addr, rc);
                return IO_STRING_FAULT;
            }
        }
        /* only the address-size bits move; the rest of the register stays */
        uint64_t next = down ? addr - size : addr + size;
        *ptr = (*ptr & ~amask) | (next & amask);
        if (e->u.io.rep)
            v->gpr[GPR_RCX] = (v->gpr[GPR_RCX] & ~amask) | ((left - k - 1) & amask);
        (*elements)++;
    }
    return left > n ? IO_STRING_AGAIN : IO_STRING_DONE;
}

/* A PCI configuration read in one exit; see io_fuse.h for the contract. */
#include "vmm/io_fuse.h"
#include "vmm/arch/arch.h"
#include "vmm/guest_walk.h"
#include "vmm/io_policy.h"

#define OPSIZE_PREFIX 0x66
#define MOV_IMM_EDX 0xBA     /* B8+r with r = 2 (EDX): mov $imm, %edx */
#define IN_AL_DX 0xEC
#define IN_EAX_DX 0xED       /* with 0x66: in (%dx),%ax */
#define RFLAGS_TF (1ull << 8)
#define PCI_DATA_PORTS 4
#define RDX_LOW16 0xFFFFull

static uint64_t fused;

uint64_t io_fuse_count(void) { return fused; }

/* IN AL/AX/EAX, DX at b: its width, or 0 if b holds something else. */
static uint8_t decode_in(const uint8_t *b, size_t n, uint8_t *len)
{
    if (n >= 1 && b[0] == IN_AL_DX) {
        *len = 1;
        return 1;
    }
    if (n >= 1 && b[0] == IN_EAX_DX) {
        *len = 1;
        return 4;
    }
    if (n >= 2 && b[0] == OPSIZE_PREFIX && b[1] == IN_EAX_DX) {
        *len = 2;
        return 2;
    }
    return 0;
}

int io_fuse_decode(const uint8_t *b, size_t n, struct io_fuse_seq *s)
{
    struct io_fuse_seq d = { 0 };
    size_t at = 0;

    if (n >= 5 && b[0] == MOV_IMM_EDX) {
        d.mov = true;
        d.imm = (uint32_t)b[1] | (uint32_t)b[2] << 8 | (uint32_t)b[3] << 16 |
                (uint32_t)b[4] << 24;
        at = 5;
    } else if (n >= 4 && b[0] == OPSIZE_PREFIX && b[1] == MOV_IMM_EDX) {
        d.mov = d.mov16 = true;
        d.imm = (uint32_t)b[2] | (uint32_t)b[3] << 8;
        at = 4;
    }
    d.mov_len = (uint8_t)at;
    uint8_t in_len;
    d.in_size = decode_in(b + at, n - at, &in_len);
    if (!d.in_size)
        return -1;
    d.len = (uint8_t)(at + in_len);
    *s = d;
    return 0;
}

static int read_phys(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    return mm_read(ctx, gpa, dst, len);
}

/* The guest state under which the CPU would have run the two instructions
 * back to back exactly as decoded (io_fuse.h). */
static bool may_fuse(struct vcpu *v, uint64_t *cr0, uint64_t *cr3, uint64_t *cr4,
                     uint64_t *efer)
{
    if (!v->ops->get_cpl || !v->ops->get_rflags || v->ops->get_cpl(v) != 0)
        return false;
    if (v->ops->get_rflags(v) & RFLAGS_TF)
        return false;
    v->ops->get_paging(v, cr0, cr3, cr4, efer);
    return (*efer & GW_EFER_LMA) != 0;
}

bool io_fuse_pci_read(struct vcpu *v, const struct vm_exit *e)
{
    const struct io_policy *p = io_policy_current();
    if (!p || v->stopped || e->kind != EXIT_IO || e->u.io.in || e->u.io.string ||
        e->u.io.port != PCI_CONFIG_ADDRESS || e->u.io.size != 4)
        return false;
    uint64_t cr0, cr3, cr4, efer;
    if (!may_fuse(v, &cr0, &cr3, &cr4, &efer))
        return false;

    /* Only bytes on the page the OUT was fetched from. */
    uint64_t rip = v->ops->get_rip(v);
    uint64_t page_left = PAGE_SIZE - (rip & (PAGE_SIZE - 1));
    if ((rip & ~(uint64_t)(PAGE_SIZE - 1)) != (e->rip & ~(uint64_t)(PAGE_SIZE - 1)))
        return false;
    uint8_t bytes[IO_FUSE_MAX_BYTES];
    size_t want = page_left < sizeof(bytes) ? (size_t)page_left : sizeof(bytes);
    int got = guest_fetch(cr0, cr3, cr4, efer, rip, read_phys, v->mm, bytes, want);
    struct io_fuse_seq s;
    if (got <= 0 || io_fuse_decode(bytes, (size_t)got, &s) < 0)
        return false;

    uint64_t rdx = v->gpr[GPR_RDX];
    if (s.mov)
        rdx = s.mov16 ? (rdx & ~RDX_LOW16) | (s.imm & RDX_LOW16) : s.imm;
    uint16_t port = (uint16_t)rdx;
    if (port < PCI_CONFIG_DATA || port + s.in_size > PCI_CONFIG_DATA + PCI_DATA_PORTS ||
        io_policy_lookup(p, port, s.in_size, NULL) != IO_PCI_CONFIG)
        return false;

    /* The IN as a trapped one would arrive: same handler, same filter. */
    struct vm_exit in = { .kind = EXIT_IO, .rip = rip + s.mov_len,
                          .insn_len = (uint8_t)(s.len - s.mov_len) };
    in.u.io.port = port, in.u.io.size = s.in_size, in.u.io.in = true;
    v->gpr[GPR_RDX] = rdx;
    if (!io_policy_handle(v, &in)) {
        v->ops->set_rip(v, in.rip); /* the MOV is done; the IN runs (and exits) itself */
        return true;
    }
    v->ops->set_rip(v, rip + s.len);
    fused++;
    return true;
}

/*
 * Emulating a guest memory access nothing backs (see exit_fault.h): fetch
 * the instruction at RIP through the guest's own page tables, decode it,
 * and apply what open bus or ROM would do — a load gets all-ones, a store
 * is dropped — then move RIP past it. Instructions that do more than a
 * plain load or store (read-modify-write, string ops) are refused by name
 * rather than guessed at.
 */
#include "vmm/exit_fault.h"
#include "vmm/guest_walk.h"
#include "vmm/insn.h"
#include "vmm/lib/log.h"
#include "vmm/vdev/mmio_dev.h"

#define CR0_PE (1ull << 0)
#define EFER_LMA (1ull << 10)
#define OPEN_BUS_VALUE UINT64_MAX

static int read_phys(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    return mm_read(ctx, gpa, dst, len);
}

static int cpu_mode(uint64_t cr0, uint64_t efer)
{
    /* A 64-bit guest kernel runs in 64-bit mode; compatibility mode would
     * need CS.L, which no access pagevisor emulates comes from. */
    return (efer & EFER_LMA) ? 64 : (cr0 & CR0_PE) ? 32 : 16;
}

#define HIGH8_FIRST 4u /* AH, CH, DH, BH are encoded as 4..7 ... */

/* The general register an instruction's register operand lives in:
 * AH..BH are bits 15:8 of RAX..RBX, not SP..DI. */
static unsigned operand_gpr(const struct insn *in)
{
    return in->reg_high8 ? in->reg - HIGH8_FIRST : in->reg;
}

static void set_gpr(struct vcpu *v, unsigned reg, uint64_t value)
{
    if (reg == GPR_RSP)
        v->ops->set_rsp(v, value);
    else
        v->gpr[reg] = value;
}

static uint64_t get_gpr(struct vcpu *v, unsigned reg)
{
    return reg == GPR_RSP ? v->ops->get_rsp(v) : v->gpr[reg];
}

/* A load or store on an emulated device's registers (vmm/vdev/mmio_dev.h). */
static int emulate_mmio(struct vcpu *v, const struct vm_exit *e, const struct fault_outcome *o,
                        const struct insn *in)
{
    const struct mmio_dev *dev = o->mmio_ctx;
    switch (in->kind) {
    case INSN_LOAD: {
        if (e->u.fault.access != ACC_R)
            return -1;
        unsigned reg = operand_gpr(in);
        uint64_t raw = dev->read(dev->ctx, o->mmio_offset, in->size);
        set_gpr(v, reg, insn_merge_reg(get_gpr(v, reg), insn_extend(raw, in), in));
        break;
    }
    case INSN_STORE_REG:
    case INSN_STORE_IMM: {
        uint64_t src = in->kind == INSN_STORE_REG ? get_gpr(v, operand_gpr(in)) : 0;
        /* RIP moves first: the write may take a while (a notification serves
         * the queue) and must not be redone. */
        v->ops->set_rip(v, e->rip + in->length);
        dev->write(dev->ctx, o->mmio_offset, in->size, insn_store_value(src, in));
        return 0;
    }
    default:
        pv_err("emulate: device access at gpa 0x%llx by a %s instruction (%u bytes at rip "
               "0x%llx) is not emulated", (unsigned long long)e->u.fault.gpa,
               insn_kind_name(in->kind), in->length, (unsigned long long)e->rip);
        return -1;
    }
    v->ops->set_rip(v, e->rip + in->length);
    return 0;
}

int emulate_access(struct vcpu *v, const struct vm_exit *e, const struct fault_outcome *o)
{
    uint64_t cr0, cr3, cr4, efer;
    v->ops->get_paging(v, &cr0, &cr3, &cr4, &efer);
    uint8_t bytes[INSN_MAX_LEN];
    int got = guest_fetch(cr0, cr3, cr4, efer, e->rip, read_phys, v->mm, bytes, sizeof(bytes));
    if (got <= 0) {
        pv_err("emulate: cannot fetch the instruction at rip 0x%llx (%d)",
               (unsigned long long)e->rip, got);
        return -1;
    }
    struct insn in;
    int rc = insn_decode(bytes, (size_t)got, cpu_mode(cr0, efer), &in);
    if (rc < 0) {
        pv_err("emulate: cannot decode %02x %02x %02x %02x at rip 0x%llx",
               bytes[0], got > 1 ? bytes[1] : 0, got > 2 ? bytes[2] : 0,
               got > 3 ? bytes[3] : 0, (unsigned long long)e->rip);
        return -1;
    }
    if (o->kind == FAULT_MMIO && o->mmio_dev == VDEV_MMIO_DEV && o->mmio_ctx)
        return emulate_mmio(v, e, o, &in);
    const char *what = fault_res_name(o->res);
    switch (in.kind) {
    case INSN_LOAD: {
        if (e->u.fault.access != ACC_R)
            return -1;
        unsigned reg = operand_gpr(&in);
        set_gpr(v, reg, insn_merge_reg(get_gpr(v, reg), insn_extend(OPEN_BUS_VALUE, &in), &in));
        pv_debug("emulate: %s load of %u bytes at gpa 0x%llx -> all-ones", what, in.size,
                 (unsigned long long)e->u.fault.gpa);
        break;
    }
    case INSN_STORE_REG:
    case INSN_STORE_IMM: {
        /* An immediate store names no register (in.reg is not one). */
        uint64_t src = in.kind == INSN_STORE_REG ? get_gpr(v, operand_gpr(&in)) : 0;
        pv_debug("emulate: %s store of 0x%llx (%u bytes) at gpa 0x%llx dropped", what,
                 (unsigned long long)insn_store_value(src, &in), in.size,
                 (unsigned long long)e->u.fault.gpa);
        break;
    }
    default:
        pv_err("emulate: %s access at gpa 0x%llx by a %s instruction (%u bytes at rip "
               "0x%llx) is not emulated", what, (unsigned long long)e->u.fault.gpa,
               insn_kind_name(in.kind), in.length, (unsigned long long)e->rip);
        return -1;
    }
    v->ops->set_rip(v, e->rip + in.length);
    return 0;
}

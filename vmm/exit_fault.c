/*
 * Stage-2 fault exits. The ept/ fault path decides (demand-zero, COW,
 * lazy file load, swap-in, ...); here the outcome becomes vCPU behaviour:
 *   mapped / retry  re-execute the instruction
 *   open bus        emulate (reads all-ones, writes dropped), counted, logged
 *                   rate-limited by ept/
 *   denied          drop the write (ROM), as real ROM would
 *   any of these three while the CPU walks the guest's page tables: stop
 *                   the guest (garbage page tables), never emulate
 *   mmio            an emulated device's registers (vmm/vdev/mmio_dev.h):
 *                   the load or store goes to its model; other mmio
 *                   regions behave as open bus
 *   oom / error     stop the guest with the sizes and the address: no frame
 *                   is ever freed while its data lives nowhere else
 * The stop message is rendered from the outcome alone (kind, err, swap):
 * what the fault path found is all it says.
 */
#include "ept/frame.h"
#include "vmm/exit_fault.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"
#include "vmm/power.h"
#include "swap/swap.h"

/* Why a FAULT_ERROR outcome could not be resolved, from err and swap. */
static void describe_error(const struct vcpu *v, gpa_t gpa, const struct fault_outcome *o,
                           char *buf, size_t len)
{
    if (o->swap && v->swap) {
        swap_describe_error(v->swap, gpa, o->err, o->swap, buf, len);
        return;
    }
    if (o->swap) {
        pv_snprintf(buf, len, "swap entry for slot %llu (type %u) but no swap (error %d)",
                    (unsigned long long)swp_offset(o->swap), swp_type(o->swap), o->err);
        return;
    }
    pv_snprintf(buf, len, "stage-2 fault not resolved (error %d)", o->err);
}

void handle_stage2_fault(struct vcpu *v, struct vm_exit *e)
{
    struct fault_outcome o;
    gpa_t gpa = e->u.fault.gpa;
    char msg[SWAP_ERR_LEN];

    mm_handle_fault(v->mm, &e->u.fault, &o);
    switch (o.kind) {
    case FAULT_MAPPED:
    case FAULT_RETRY:
        return;
    case FAULT_OPEN_BUS:
    case FAULT_DENIED:
    case FAULT_MMIO:
        if (e->u.fault.table_walk) {
            /* Not the instruction's access: emulating it would hand the
             * instruction a value it never asked for. Page tables outside
             * RAM are garbage a real machine would walk into #PF or a
             * machine check; the guest is stopped, by name. */
            v->ops->dump(v);
            vcpu_stop(v, PV_EXIT_FAILURE,
                      "guest page tables reach gpa 0x%llx (%s) while translating at rip "
                      "0x%llx: garbage page tables",
                      (unsigned long long)e->u.fault.gpa, fault_res_name(o.res),
                      (unsigned long long)e->rip);
            return;
        }
        if (emulate_access(v, e, &o) < 0) {
            v->ops->dump(v);
            vcpu_stop(v, PV_EXIT_FAILURE,
                      "cannot emulate the %s access at gpa 0x%llx (rip 0x%llx)",
                      fault_res_name(o.res), (unsigned long long)gpa,
                      (unsigned long long)e->rip);
        }
        return;
    case FAULT_OOM: {
        char why[200] = "nothing reclaimable";
        if (v->swap)
            swap_describe_oom(v->swap, why, sizeof(why));
        vcpu_stop(v, PV_EXIT_FAILURE,
                  "guest paused: out of host frames at gpa 0x%llx (%zu frames, %zu free): %s",
                  (unsigned long long)gpa, v->mm->fp->nframes,
                  frame_free_count(v->mm->fp), why);
        return;
    }
    case FAULT_ERROR:
    default:
        v->ops->dump(v);
        describe_error(v, gpa, &o, msg, sizeof(msg));
        vcpu_stop(v, PV_EXIT_FAILURE, "guest stopped at gpa 0x%llx: %s",
                  (unsigned long long)gpa, msg);
        return;
    }
}

/*
 * Intel VMX + EPT backend: implements struct vcpu_ops (vmm/vcpu.h).
 *
 * Files: vmx_on.c (VMXON, the VMCS), vmx_setup.c (controls, bitmaps, EPT
 * pointer), vmx_state.c (guest and host state), vmx_run.S (the entry/exit
 * stub), vmx_exit.c (exit decoding and the exits the backend resolves
 * itself), vmx.c (the ops), vmx_check.c (why an entry failed). Pure
 * helpers (host unit-tested): vmx_controls.c, vmx_cr.c, vmx_decode.c,
 * vmx_guest_check.c.
 */
#ifndef PV_VMM_VMX_VMX_H
#define PV_VMM_VMX_VMX_H

#include "vmm/arch/cpufeat.h"
#include "vmm/vcpu.h"
#include "vmm/vmx/vmx_controls.h"
#include "vmm/vmx/vmx_cr.h"

extern const struct vcpu_ops vmx_ops;

/* Whether the EPT pointer will enable accessed/dirty flags: pass it to
 * mm_init as use_ad before vmx_setup(). */
bool vmx_ept_use_ad(const struct vmx_features *f);

/* Enter VMX operation on this CPU and prepare v to run the guest at *entry
 * with mm's EPT (v->mm, v->layout set). Returns 0, or -1 with the reason
 * logged. */
int vmx_setup(struct vcpu *v, const struct vmx_features *f, const struct guest_entry *entry);

/* ---- backend-internal ---- */

struct vmx_state {
    void *vmxon_region, *vmcs;
    uint8_t *io_bitmap_a, *io_bitmap_b, *msr_bitmap;
    uint32_t revision;
    uint64_t caps[VMX_CTL_WORDS];   /* capability MSR per control word */
    uint32_t ctl[VMX_CTL_WORDS];    /* the controls in use */
    struct vmx_cr_rule cr0, cr4;
    uint64_t cr0_fixed[2], cr4_fixed[2];
    uint64_t eptp;
    uint16_t vpid;                  /* 0: VPID off */
    bool launched;
    bool invept_single, invept_all;
    bool flush_pending;             /* EPT changed: INVEPT before the next entry */
    bool hlt_activity;              /* entry in the HLT activity state works */
    uint32_t preempt_value;         /* preemption timer start value; 0 = off */
    uint64_t xcr0_supported;        /* CPUID.(0xD,0) EDX:EAX */
    uint32_t write_errors;          /* failed VMWRITEs during setup */
    /* the last exit, for the dump */
    uint32_t exit_reason;
    uint64_t exit_qual;
};

/* vmx_setup.c: vcpu_ops.set_port_trap */
void vmx_set_port_trap(struct vcpu *v, uint16_t port, bool trap);

/* vmx_on.c */
int vmx_enable(struct vmx_state *s);
int vmx_vmcs_load(struct vmx_state *s);

/* VMWRITE that logs (and counts in s->write_errors) a refused field. */
void vmcs_write(struct vmx_state *s, uint32_t field, uint64_t value);

/* vmx_setup.c */
int vmx_setup_controls(struct vcpu *v, struct vmx_state *s, const struct vmx_features *f);

/* vmx_state.c */
void vmx_setup_host_state(struct vmx_state *s);
void vmx_setup_guest_state(struct vmx_state *s, const struct guest_entry *g);
void vmx_sync_host_osxsave(struct vmx_state *s);

/* vmx_exit.c: fill *e from the VMCS after an exit; returns true when the
 * backend resolved the exit itself (the guest just continues). */
void vmx_decode_exit(struct vcpu *v, struct vmx_state *s, struct vm_exit *e);
bool vmx_handle_internal(struct vcpu *v, struct vmx_state *s, struct vm_exit *e);

/* vmx_check.c (hypervisor side): log why the CPU refused an entry. */
void vmx_explain_entry_failure(struct vmx_state *s, uint32_t insn_error, uint32_t exit_reason);

/* vmx_run.S: load gpr[] (RSP excluded), VMLAUNCH (launched == 0) or
 * VMRESUME, and on the VM exit save them back. Returns 0 after a VM exit
 * (including an entry failure reported as an exit), 1 on VMfailValid,
 * 2 on VMfailInvalid. */
#define VMX_ENTER_EXITED 0
#define VMX_ENTER_FAIL_VALID 1
#define VMX_ENTER_FAIL_INVALID 2
int vmx_enter(uint64_t *gpr, int launched);
void vmx_exit_stub(void);

#endif

/*
 * Privileged and virtualization instructions in the guest (docs/security.md
 * has the reasoning for each).
 *
 *   SVM instructions  VMRUN VMMCALL VMLOAD VMSAVE STGI CLGI SKINIT INVLPGA
 *                     (0F 01 D8..DF): intercepted on SVM and answered with
 *                     #UD, as on a CPU without SVM (CPUID hides it). At
 *                     CPL > 0 the CPU raises #GP before the intercept
 *                     (the guest's real EFER has SVME, which VMRUN needs),
 *                     so SVM also intercepts #GP and turns a #GP on one of
 *                     these encodings into #UD: insn_policy_gp().
 *                     On VMX hardware they are undefined opcodes: #UD.
 *   VMX instructions  VMXON VMXOFF VMLAUNCH VMRESUME VMPTRLD VMPTRST VMCLEAR
 *                     VMREAD VMWRITE INVEPT INVVPID VMFUNC GETSEC ENCLS:
 *                     in VMX non-root they exit before any privilege check;
 *                     the VMX backend answers #UD (CPUID hides VMX and SMX).
 *                     On SVM hardware (no VMX) they are undefined: #UD.
 *   INVD              intercepted on both; skipped (never run: it would
 *                     discard the hypervisor's dirty cache lines).
 *   WBINVD, XSETBV, CR and DR writes: safe by construction or emulated by
 *                     the backends; see docs/security.md.
 */
#ifndef PV_VMM_INSN_POLICY_H
#define PV_VMM_INSN_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* Name of the SVM instruction bytes[0..len) encode (legacy and REX
 * prefixes skipped, 64-bit mode), or NULL for anything else. Pure. */
const char *insn_policy_svm_name(const uint8_t *bytes, size_t len);

struct vcpu;
struct vm_exit;

/* A #GP the guest raised at e->rip (an intercepted exception): inject the
 * #UD a CPU without SVM gives when the instruction is an SVM one, else the
 * #GP itself with its error code. */
void insn_policy_gp(struct vcpu *v, const struct vm_exit *e);

#endif

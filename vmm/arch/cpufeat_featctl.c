/*
 * IA32_FEATURE_CONTROL before VMXON; see cpufeat.h (featctl_plan).
 *
 * The MSR (SDM vol. 3C, "Enabling and entering VMX operation"): bit 0 locks
 * it until reset, bit 1 allows VMXON inside SMX (TXT), bit 2 outside SMX;
 * writes to a locked MSR raise #GP, and so does VMXON when the bit for the
 * current mode is clear. Firmware normally locks it; under nested KVM the
 * outer QEMU asks its firmware (OVMF, SeaBIOS) to lock it with bit 2 set,
 * but a direct-kernel boot or another loader can leave it unlocked at its
 * reset value 0, and a firmware setup with VT-x off locks it with bit 2
 * clear. KVM additionally refuses (#GP) a write that sets a bit the CPU
 * model it gives us lacks, and may ignore one it does not emulate: the
 * value is therefore read back after the write (featctl_verify).
 */
#include "vmm/arch/cpufeat.h"

enum featctl_action featctl_plan(uint64_t fc, uint64_t *write_value, const char **why)
{
    *write_value = fc;
    if (!(fc & FEATCTL_LOCK)) {
        /* Keep what firmware already enabled (SGX, LMCE, SENTER bits); add
         * ours and lock, so nothing can take VMX away while we run. */
        *write_value = fc | FEATCTL_VMX_OUTSIDE_SMX | FEATCTL_LOCK;
        *why = "unlocked: locking it with VMX outside SMX";
        return FEATCTL_ACT_LOCK;
    }
    if (fc & FEATCTL_VMX_OUTSIDE_SMX) {
        *why = "locked with VMX outside SMX";
        return FEATCTL_ACT_USE;
    }
    if (fc & FEATCTL_VMX_INSIDE_SMX) {
        *why = "locked with VMX allowed only inside SMX (Intel TXT measured launch); "
               "enable plain VT-x (not only VT-x with TXT) in the firmware setup";
        return FEATCTL_ACT_REFUSE;
    }
    *why = "locked with VMX off; enable VT-x in the firmware setup "
           "(under nested KVM: load kvm_intel with nested=1 and give the VM -cpu host)";
    return FEATCTL_ACT_REFUSE;
}

int featctl_verify(uint64_t wanted, int write_faulted, uint64_t read_back, const char **why)
{
    if (write_faulted) {
        *why = "the write raised #GP (the CPU, or the hypervisor below us, refused it)";
        return -1;
    }
    uint64_t need = FEATCTL_LOCK | FEATCTL_VMX_OUTSIDE_SMX;
    if ((read_back & need) != need || (wanted & need) != need) {
        *why = "the write did not stick (the hypervisor below us ignored it)";
        return -1;
    }
    *why = "";
    return 0;
}

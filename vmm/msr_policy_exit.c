/* Guest MSR exits: the policy of msr_policy.c run on the real CPU for the
 * one vCPU. */
#include "vmm/arch/arch.h"
#include "vmm/arch/msr_safe.h"
#include "vmm/msr_policy.h"
#include "vmm/vcpu.h"

static struct msr_state state;

static uint64_t host_tsc(void) { return rdtsc(); }

static void set_offset(void *ctx, uint64_t offset)
{
    struct vcpu *v = ctx;
    v->ops->set_tsc_offset(v, offset);
}

static struct msr_hw hw_of(struct vcpu *v)
{
    return (struct msr_hw){ .read = rdmsr_safe, .write = wrmsr_safe, .tsc = host_tsc,
                            .set_tsc_offset = set_offset, .ctx = v };
}

int msr_exit_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    struct msr_hw hw = hw_of(v);
    return msr_policy_read(&state, &hw, msr, value);
}

int msr_exit_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
    struct msr_hw hw = hw_of(v);
    return msr_policy_write(&state, &hw, msr, value);
}

const struct msr_state *msr_exit_state(void)
{
    return &state;
}

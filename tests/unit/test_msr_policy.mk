UNIT_TESTS += test_msr_policy
test_msr_policy_SRCS := vmm/msr_policy.c

UNIT_TESTS += test_cpuid_policy
test_cpuid_policy_SRCS := vmm/cpuid_policy.c

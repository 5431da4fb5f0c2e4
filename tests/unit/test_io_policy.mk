UNIT_TESTS += test_io_policy
test_io_policy_SRCS := vmm/io_policy.c

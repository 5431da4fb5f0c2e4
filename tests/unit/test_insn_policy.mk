UNIT_TESTS += test_insn_policy
test_insn_policy_SRCS := vmm/insn_policy.c

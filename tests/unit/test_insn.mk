UNIT_TESTS += test_insn
test_insn_SRCS := vmm/insn.c vmm/insn_attr.c

UNIT_TESTS += test_guest_walk
test_guest_walk_SRCS := vmm/guest_walk.c vmm/insn.c vmm/insn_attr.c

UNIT_TESTS += test_access_emul
test_access_emul_SRCS := vmm/access_emul.c vmm/vcpu.c vmm/guest_walk.c vmm/insn.c \
                         vmm/insn_attr.c $(EPT_SRCS)

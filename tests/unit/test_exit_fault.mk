# vmm/exit_fault.c over the real fault path and swap; emulate_access and
# vcpu_stop are faked in the test.
UNIT_TESTS += test_exit_fault
test_exit_fault_SRCS := vmm/exit_fault.c $(SWAP_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

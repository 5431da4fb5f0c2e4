UNIT_TESTS += test_swap_pressure
test_swap_pressure_SRCS := $(SWAP_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

UNIT_TESTS += test_swap_writeback
test_swap_writeback_SRCS := $(SWAP_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

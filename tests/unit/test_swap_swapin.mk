UNIT_TESTS += test_swap_swapin
test_swap_swapin_SRCS := $(SWAP_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

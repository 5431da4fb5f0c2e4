UNIT_TESTS += test_swap_reclaim
test_swap_reclaim_SRCS := $(SWAP_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

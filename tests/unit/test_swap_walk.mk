UNIT_TESTS += test_swap_walk
test_swap_walk_SRCS := $(SWAP_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

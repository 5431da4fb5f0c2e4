UNIT_TESTS += test_swap_ra_map
test_swap_ra_map_SRCS := $(SWAP_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

UNIT_TESTS += test_swap_reclaim
test_swap_reclaim_SRCS := $(SWAP_TEST_SRCS)

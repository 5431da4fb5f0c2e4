UNIT_TESTS += test_swap_swapin
test_swap_swapin_SRCS := $(SWAP_TEST_SRCS)

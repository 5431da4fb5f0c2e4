UNIT_TESTS += test_swap_code
test_swap_code_SRCS := $(SWAP_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

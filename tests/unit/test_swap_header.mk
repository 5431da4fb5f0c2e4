UNIT_TESTS += test_swap_header
test_swap_header_SRCS := swap/swap_header.c $(TEST_BLK_SRCS)

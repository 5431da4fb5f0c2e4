UNIT_TESTS += test_swap_readahead
test_swap_readahead_SRCS := swap/readahead.c

FUZZERS += fuzz_swap_header
fuzz_swap_header_SRCS := tests/fuzz/fuzz_swap_header.c swap/swap_header.c swap/swap_area.c $(TEST_BLK_SRCS)

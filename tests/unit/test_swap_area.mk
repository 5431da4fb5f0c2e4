UNIT_TESTS += test_swap_area
test_swap_area_SRCS := swap/swap_area.c swap/swap_header.c $(TEST_BLK_SRCS)

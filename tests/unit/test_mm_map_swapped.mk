UNIT_TESTS += test_mm_map_swapped
test_mm_map_swapped_SRCS := $(EPT_SRCS)

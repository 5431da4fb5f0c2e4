UNIT_TESTS += test_frame_ranges
test_frame_ranges_SRCS := ept/frame.c ept/frame_rmap.c

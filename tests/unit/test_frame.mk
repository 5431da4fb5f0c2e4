UNIT_TESTS += test_frame
test_frame_SRCS := ept/frame.c ept/frame_rmap.c

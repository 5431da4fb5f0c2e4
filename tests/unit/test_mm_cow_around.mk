UNIT_TESTS += test_mm_cow_around
test_mm_cow_around_SRCS := $(EPT_SRCS)

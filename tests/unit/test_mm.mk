UNIT_TESTS += test_mm
test_mm_SRCS := $(EPT_SRCS)

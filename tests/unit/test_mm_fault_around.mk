UNIT_TESTS += test_mm_fault_around
test_mm_fault_around_SRCS := $(EPT_SRCS)

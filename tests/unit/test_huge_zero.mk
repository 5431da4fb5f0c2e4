UNIT_TESTS += test_huge_zero
test_huge_zero_SRCS := $(EPT_SRCS)

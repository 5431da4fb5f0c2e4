UNIT_TESTS += test_mm_ops
test_mm_ops_SRCS := $(EPT_SRCS)

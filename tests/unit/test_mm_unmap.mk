UNIT_TESTS += test_mm_unmap
test_mm_unmap_SRCS := $(EPT_SRCS)

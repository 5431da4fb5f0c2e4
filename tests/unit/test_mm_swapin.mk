UNIT_TESTS += test_mm_swapin
test_mm_swapin_SRCS := $(EPT_SRCS)

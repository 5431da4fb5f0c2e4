UNIT_TESTS += test_mm_exec
test_mm_exec_SRCS := $(EPT_SRCS)

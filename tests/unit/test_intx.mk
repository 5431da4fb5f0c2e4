UNIT_TESTS += test_intx
test_intx_SRCS := vmm/intx.c

UNIT_TESTS += test_intx_prt
test_intx_prt_SRCS := vmm/intx_prt.c

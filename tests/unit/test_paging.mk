UNIT_TESTS += test_paging
test_paging_SRCS := vmm/arch/paging.c

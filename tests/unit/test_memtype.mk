UNIT_TESTS += test_memtype
test_memtype_SRCS := vmm/arch/memtype.c

UNIT_TESTS += test_cpufeat
test_cpufeat_SRCS := vmm/arch/cpufeat.c

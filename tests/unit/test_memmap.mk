UNIT_TESTS += test_memmap
test_memmap_SRCS := vmm/memmap.c

UNIT_TESTS += test_io_string
test_io_string_SRCS := vmm/io_string.c vmm/vcpu.c vmm/guest_walk.c $(EPT_SRCS)

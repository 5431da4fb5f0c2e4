UNIT_TESTS += test_fmt_c99
# vmm/lib/fmt.c is linked into every host test already (HOST_SUPPORT)
test_fmt_c99_SRCS := 

UNIT_TESTS += test_fmt
# vmm/lib/fmt.c is linked into every host test already (HOST_SUPPORT)
test_fmt_SRCS := 

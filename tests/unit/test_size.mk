UNIT_TESTS += test_size
test_size_SRCS := guest/size.c

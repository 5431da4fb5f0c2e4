UNIT_TESTS += test_bzimage
test_bzimage_SRCS := guest/bzimage.c

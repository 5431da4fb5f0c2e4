FUZZERS += fuzz_bzimage
fuzz_bzimage_SRCS := tests/fuzz/fuzz_bzimage.c guest/bzimage.c

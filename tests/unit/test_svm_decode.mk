UNIT_TESTS += test_svm_decode
test_svm_decode_SRCS := vmm/svm/svm_decode.c

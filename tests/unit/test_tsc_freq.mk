UNIT_TESTS += test_tsc_freq
test_tsc_freq_SRCS := vmm/arch/tsc_freq.c

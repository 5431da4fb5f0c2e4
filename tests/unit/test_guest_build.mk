UNIT_TESTS += test_guest_build
test_guest_build_SRCS := $(GUEST_TEST_SRCS)

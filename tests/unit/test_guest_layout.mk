UNIT_TESTS += test_guest_layout
test_guest_layout_SRCS := $(GUEST_TEST_SRCS)

UNIT_TESTS += test_guest_acpi
test_guest_acpi_SRCS := $(GUEST_TEST_SRCS)

UNIT_TESTS += test_acpi
test_acpi_SRCS := vmm/acpi.c

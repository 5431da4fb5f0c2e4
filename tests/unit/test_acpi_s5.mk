UNIT_TESTS += test_acpi_s5
test_acpi_s5_SRCS := vmm/acpi.c

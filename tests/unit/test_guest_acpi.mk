UNIT_TESTS += test_guest_acpi
test_guest_acpi_SRCS := $(GUEST_SRCS) vmm/acpi.c vmm/memmap.c $(EPT_SRCS)

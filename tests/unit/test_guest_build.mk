UNIT_TESTS += test_guest_build
test_guest_build_SRCS := $(GUEST_SRCS) vmm/acpi.c vmm/memmap.c $(EPT_SRCS)

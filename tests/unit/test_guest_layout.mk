UNIT_TESTS += test_guest_layout
test_guest_layout_SRCS := $(GUEST_SRCS) vmm/acpi.c vmm/memmap.c $(EPT_SRCS)

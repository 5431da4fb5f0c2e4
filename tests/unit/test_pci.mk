UNIT_TESTS += test_pci
test_pci_SRCS := vmm/drivers/pci.c vmm/arch/paging_mmio.c vmm/lib/heap.c

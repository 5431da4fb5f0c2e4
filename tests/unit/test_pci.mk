UNIT_TESTS += test_pci
test_pci_SRCS := vmm/pci.c vmm/paging_mmio.c vmm/heap.c

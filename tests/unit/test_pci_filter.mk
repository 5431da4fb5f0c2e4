UNIT_TESTS += test_pci_filter
test_pci_filter_SRCS := vmm/pci_filter.c vmm/vcpu.c vmm/drivers/pci.c vmm/arch/paging_mmio.c \
                        vmm/lib/heap.c $(VDEV_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

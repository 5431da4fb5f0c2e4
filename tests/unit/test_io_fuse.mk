UNIT_TESTS += test_io_fuse
test_io_fuse_SRCS := vmm/io_fuse.c vmm/io_policy.c vmm/pci_filter.c vmm/vcpu.c vmm/guest_walk.c \
                     vmm/drivers/pci.c vmm/arch/paging_mmio.c vmm/lib/heap.c \
                     $(VDEV_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

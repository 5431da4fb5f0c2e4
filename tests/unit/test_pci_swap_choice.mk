UNIT_TESTS += test_pci_swap_choice
test_pci_swap_choice_SRCS := vmm/drivers/probe.c swap/swap_header.c vmm/drivers/virtio_blk.c vmm/drivers/virtio_pci.c vmm/drivers/virtio_ring.c vmm/drivers/ata.c vmm/drivers/pci.c vmm/arch/paging_mmio.c vmm/lib/heap.c vmm/arch/clock.c

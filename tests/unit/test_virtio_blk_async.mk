UNIT_TESTS += test_virtio_blk_async
test_virtio_blk_async_SRCS := vmm/drivers/virtio_blk.c vmm/drivers/virtio_pci.c vmm/drivers/virtio_ring.c vmm/drivers/pci.c vmm/arch/paging_mmio.c vmm/lib/heap.c vmm/arch/clock.c

UNIT_TESTS += test_virtio_blk
test_virtio_blk_SRCS := swap/virtio_blk.c swap/virtio_pci.c swap/virtio_ring.c vmm/pci.c \
                        vmm/paging_mmio.c vmm/heap.c vmm/clock.c

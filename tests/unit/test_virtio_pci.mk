UNIT_TESTS += test_virtio_pci
test_virtio_pci_SRCS := swap/virtio_pci.c swap/virtio_ring.c vmm/pci.c vmm/paging_mmio.c \
                        vmm/heap.c vmm/clock.c

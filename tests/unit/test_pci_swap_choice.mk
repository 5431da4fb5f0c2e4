UNIT_TESTS += test_pci_swap_choice
test_pci_swap_choice_SRCS := swap/probe.c swap/swap_header.c swap/virtio_blk.c swap/virtio_pci.c \
                             swap/virtio_ring.c swap/ata.c vmm/pci.c vmm/paging_mmio.c \
                             vmm/heap.c vmm/clock.c

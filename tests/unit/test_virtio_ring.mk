UNIT_TESTS += test_virtio_ring
test_virtio_ring_SRCS := vmm/drivers/virtio_ring.c

UNIT_TESTS += test_virtio_ring
test_virtio_ring_SRCS := swap/virtio_ring.c

UNIT_TESTS += test_vdisk
test_vdisk_SRCS := $(VDEV_SRCS) $(SWAP_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

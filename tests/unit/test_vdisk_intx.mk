UNIT_TESTS += test_vdisk_intx
test_vdisk_intx_SRCS := $(VDEV_SRCS) $(SWAP_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

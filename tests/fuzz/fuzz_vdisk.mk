FUZZERS += fuzz_vdisk
fuzz_vdisk_SRCS := tests/fuzz/fuzz_vdisk.c $(VDEV_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)

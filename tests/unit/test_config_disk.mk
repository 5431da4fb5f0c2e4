UNIT_TESTS += test_config_disk
test_config_disk_SRCS := guest/config.c guest/config_values.c guest/config_disk.c guest/size.c

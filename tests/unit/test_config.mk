UNIT_TESTS += test_config
test_config_SRCS := guest/config.c guest/config_values.c guest/config_disk.c guest/size.c

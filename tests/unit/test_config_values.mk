UNIT_TESTS += test_config_values
test_config_values_SRCS := guest/config.c guest/config_values.c guest/config_disk.c guest/size.c

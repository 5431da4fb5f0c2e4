UNIT_TESTS += test_config_describe
test_config_describe_SRCS := guest/config.c guest/config_values.c guest/config_disk.c guest/size.c

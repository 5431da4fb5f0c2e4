FUZZERS += fuzz_config
fuzz_config_SRCS := tests/fuzz/fuzz_config.c guest/config.c guest/config_values.c guest/config_disk.c guest/size.c

FUZZERS += fuzz_region
fuzz_region_SRCS := tests/fuzz/fuzz_region.c ept/region.c ept/region_tree.c

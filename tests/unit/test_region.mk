UNIT_TESTS += test_region
test_region_SRCS := ept/region.c ept/region_tree.c tests/unit/test_region_set.c

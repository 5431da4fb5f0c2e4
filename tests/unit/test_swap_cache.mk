UNIT_TESTS += test_swap_cache
test_swap_cache_SRCS := swap/swap_cache.c ept/frame.c ept/frame_rmap.c

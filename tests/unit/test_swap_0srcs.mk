# Sources the swap tests link (test_swap_*.mk, tests/sim/sim_swap.mk,
# tests/fuzz/fuzz_swap*.mk). This file sorts before test_swap_*.mk; the sim
# and fuzz fragments, read earlier, use it through recursive (=) variables.
SWAP_SRCS := swap/swap.c swap/swapin.c swap/reclaim.c swap/lru.c \
             swap/swap_cache.c swap/readahead.c swap/swap_area.c \
             swap/swap_header.c swap/blk_file.c
SWAP_TEST_SRCS := $(SWAP_SRCS) \
                  ept/mm.c ept/fault.c ept/mm_access.c ept/fault_stats.c \
                  ept/region.c ept/region_tree.c ept/frame.c ept/s2pt.c \
                  ept/s2pt_check.c ept/s2pt_ept.c ept/s2pt_npt.c

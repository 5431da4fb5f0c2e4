UNIT_TESTS += test_mm
test_mm_SRCS := ept/mm.c ept/fault.c ept/mm_access.c ept/fault_stats.c \
                ept/region.c ept/region_tree.c ept/frame.c ept/s2pt.c ept/s2pt_check.c \
                ept/s2pt_ept.c ept/s2pt_npt.c

UNIT_TESTS += test_s2pt
test_s2pt_SRCS := ept/frame.c ept/frame_rmap.c ept/s2pt.c ept/s2pt_lookup.c ept/s2pt_ept.c ept/s2pt_npt.c ept/s2pt_check.c tests/unit/test_s2pt_more.c

UNIT_TESTS += test_s2pt_slot
test_s2pt_slot_SRCS := ept/frame.c ept/frame_rmap.c ept/s2pt.c ept/s2pt_lookup.c ept/s2pt_ept.c ept/s2pt_npt.c ept/s2pt_check.c

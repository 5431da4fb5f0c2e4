FUZZERS += fuzz_s2pt
fuzz_s2pt_SRCS := tests/fuzz/fuzz_s2pt.c ept/frame.c ept/frame_rmap.c ept/s2pt.c ept/s2pt_lookup.c ept/s2pt_ept.c ept/s2pt_npt.c ept/s2pt_check.c
